package fxpubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// typedOpaque are opaque values of every JSON type, as a third-party or Python sender may write
// them; each must reach every later hop exactly as written.
var typedOpaque = map[string]string{
	"n":   `123`,
	"f":   `123.0`,
	"big": `1e400`,
	"b":   `true`,
	"z":   `null`,
	"o":   `{"a":[1,2.50,{"c":null}]}`,
	"s":   `"text"`,
}

// wireOpaque returns the opaqueData of a message body as raw JSON values.
func wireOpaque(t *testing.T, body []byte) map[string]json.RawMessage {
	t.Helper()
	var m struct {
		OpaqueData map[string]json.RawMessage `json:"opaqueData"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.OpaqueData == nil {
		t.Fatalf("body without opaqueData (%v): %s", err, body)
	}
	return m.OpaqueData
}

// checkWire asserts the typed values survived byte for byte, every key is lower case, and the
// string keys have the wanted values.
func checkWire(t *testing.T, hop string, got map[string]json.RawMessage, want map[string]string) {
	t.Helper()
	for k, v := range typedOpaque {
		if string(got[k]) != v {
			t.Errorf("%s: opaque %q = %s, want %s", hop, k, got[k], v)
		}
	}
	for k, v := range want {
		var s string
		if err := json.Unmarshal(got[k], &s); err != nil || s != v {
			t.Errorf("%s: opaque %q = %s, want %q", hop, k, got[k], v)
		}
	}
	for k := range got {
		if k != strings.ToLower(k) {
			t.Errorf("%s: opaque key %q on the wire; the original writes lower-case keys only", hop, k)
		}
	}
}

// The wire test from issue 10, on the in-memory backend and the emulators: a handler producing
// with a conflicting x-request-id and x-request-ttl gets the ambient values on the wire; a
// mixed-case TTL key is ordinary data and never the hop TTL; numbers, booleans, null and nested
// values survive two hops and a batch message.
func TestOpaqueWire(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		ctx := context.Background()
		r := newRig(t, tg, awstest.PipelineOptions{})
		topics, err := fxpubsub.NewTopicMap(map[string]any{"default": r.pipe.TopicARN,
			"mappings": map[string]any{fxpubsub.BatchMessageMediaType: r.pipe.TopicARN}})
		if err != nil {
			t.Fatal(err)
		}
		p := fxpubsub.NewProducer(tg.SNS, r.producer.Registry(), topics, fxpubsub.ProducerOptions{})

		// Hop 0: a sender like the original writes opaque data of every type; "ttl" also has a
		// mixed-case TTL key beside the real one, "mixed" has only the mixed-case key.
		var typed []string
		for k, v := range typedOpaque {
			typed = append(typed, `"`+k+`":`+v)
		}
		first := map[string]string{
			"ttl":   `"x-request-id":"ambient-5555","x-request-ttl":"20","X-Request-Ttl":"1","X-Trace":"t",` + strings.Join(typed, ","),
			"mixed": `"x-request-id":"mixed-1","X-Request-Ttl":"1",` + strings.Join(typed, ","),
		}
		for id, opaque := range first {
			body := `{"mediaType":"` + orderMT + `","uri":"https://orders/` + id + `","order_id":"` + id + `","opaqueData":{` + opaque + `}}`
			if _, err := tg.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(r.pipe.TopicARN), Message: aws.String(body),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{fxpubsub.MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(orderMT)}}}); err != nil {
				t.Fatal(err)
			}
		}

		// Hop 1: each handler produces with conflicting opaque data, one message plainly and one
		// inside a batch message.
		var (
			mu      sync.Mutex
			seenTTL = map[string]string{}
			inbound = map[string]string{} // order id → SQS message id
		)
		hop := func(ctx context.Context, c *orderCreated) error {
			mu.Lock()
			seenTTL[c.OrderID] = fxpubsub.OpaqueFrom(ctx).Get(fxpubsub.OpaqueTTL)
			inbound[c.OrderID] = fxpubsub.MessageFrom(ctx).MessageID
			mu.Unlock()
			conflict := fxpubsub.WithOpaqueData(map[string]string{"X-Request-Id": "kwarg-5555", "x-request-ttl": "99", "x-caller": "c"})
			next := orderCreated{URI: "https://orders/next-" + c.OrderID, OrderID: "next-" + c.OrderID}
			if strings.HasPrefix(c.OrderID, "next-") {
				next = orderCreated{URI: "https://orders/last", OrderID: "last"}
			}
			if _, err := p.Produce(ctx, orderMT, next, conflict); err != nil {
				return err
			}
			if c.OrderID != "ttl" {
				return nil
			}
			// Two messages: a block of one is published as itself, not as a batch message.
			return p.DeferredBatch(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
				for _, id := range []string{"batched-1", "batched-2"} {
					if err := d.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}, conflict); err != nil {
						return err
					}
				}
				return nil
			})
		}
		hr, err := fxpubsub.NewHandlerRegistry(mustReg(t, orderMT, hop))
		if err != nil {
			t.Fatal(err)
		}
		d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{EnableTTL: true})
		dispatch := func(m *fxpubsub.Message) {
			t.Helper()
			if res := d.Dispatch(ctx, m); res.Type != fxpubsub.Succeeded {
				t.Fatalf("%s: %v %v (body %s)", m.URI, res.Type, res.Err, m.Body)
			}
		}
		for _, m := range r.consumeN(t, 2, 20*time.Second) {
			dispatch(m)
		}
		if seenTTL["ttl"] != "19" || seenTTL["mixed"] != "31" {
			t.Fatalf("handlers saw ttl %v; want 19 from the exact key and 31 where only X-Request-Ttl was sent", seenTTL)
		}

		// Hop 1 on the wire: three messages (two follow-ups and a batch message).
		byID := map[string]*fxpubsub.Message{}
		for _, m := range r.consumeN(t, 3, 20*time.Second) {
			if c, ok := fxpubsub.ContentAs[orderCreated](m); ok {
				byID[c.OrderID] = m
			} else if _, ok := fxpubsub.ContentAs[fxpubsub.BatchMessage](m); ok {
				byID["batch"] = m
			} else {
				t.Fatalf("unexpected message %s (%v)", m.Body, m.Err)
			}
		}
		next, mixed, batch := byID["next-ttl"], byID["next-mixed"], byID["batch"]
		if next == nil || mixed == nil || batch == nil {
			t.Fatalf("hop 1 published %v", byID)
		}
		checkWire(t, "hop 1", wireOpaque(t, []byte(messageJSON(t, next))), map[string]string{
			"x-request-id": "ambient-5555", "x-request-ttl": "19", "x-trace": "t", "x-caller": "c",
			"message_id": inbound["ttl"], "uri": "https://orders/ttl",
		})
		checkWire(t, "hop 1 (mixed-case ttl only)", wireOpaque(t, []byte(messageJSON(t, mixed))), map[string]string{
			"x-request-id": "mixed-1", "x-request-ttl": "31",
		})

		// Hop 2: the follow-up's handler produces again; the values are still as written.
		dispatch(next)
		dispatch(mixed)
		last := r.consumeN(t, 2, 20*time.Second)
		for _, m := range last {
			if c, _ := fxpubsub.ContentAs[orderCreated](m); c == nil || c.OrderID != "last" {
				t.Fatalf("hop 2 published %s", m.Body)
			}
			got := wireOpaque(t, []byte(messageJSON(t, m)))
			want := map[string]string{"x-request-id": "ambient-5555", "x-request-ttl": "18"}
			if string(got["x-request-id"]) == `"mixed-1"` {
				want = map[string]string{"x-request-id": "mixed-1", "x-request-ttl": "30"}
			}
			checkWire(t, "hop 2", got, want)
			if err := m.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}

		// The batch message: its entry's opaque_data keeps the types, and the republished inner
		// message carries them on the wire.
		bm, _ := fxpubsub.ContentAs[fxpubsub.BatchMessage](batch)
		if len(bm.Messages) != 2 {
			t.Fatalf("batch of %d messages", len(bm.Messages))
		}
		for _, e := range bm.Messages {
			entry := e.OpaqueData
			if v, _ := entry.Value("big"); string(v) != "1e400" || entry.Get("x-request-id") != "ambient-5555" || entry.Get("x-request-ttl") != "19" {
				t.Fatalf("batch entry opaque_data = %v", entry)
			}
		}
		if _, err := p.Republish(ctx, bm.Messages...); err != nil {
			t.Fatal(err)
		}
		if err := batch.Ack(ctx); err != nil {
			t.Fatal(err)
		}
		for _, inner := range r.consumeN(t, 2, 20*time.Second) {
			if c, _ := fxpubsub.ContentAs[orderCreated](inner); c == nil || !strings.HasPrefix(c.OrderID, "batched-") {
				t.Fatalf("republished %s", inner.Body)
			}
			checkWire(t, "batched", wireOpaque(t, []byte(messageJSON(t, inner))), map[string]string{"x-request-id": "ambient-5555", "x-request-ttl": "19"})
			if err := inner.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r.expectEmpty(t)
	})
}

// messageJSON is the message JSON of m: the SNS envelope's Message, or the raw body.
func messageJSON(t *testing.T, m *fxpubsub.Message) string {
	t.Helper()
	var env struct {
		Type    string `json:"Type"`
		Message string `json:"Message"`
	}
	if json.Unmarshal(m.Body, &env) == nil && env.Type == "Notification" {
		return env.Message
	}
	return string(m.Body)
}

// The producer builds opaque data as the original does: the caller's WithOpaqueData overlaid by
// the static configuration and then the context's opaque data, so the ambient value wins;
// OverrideOpaqueData replaces ambient values but never raises the hop TTL.
func TestProduceOpaquePrecedence(t *testing.T) {
	tg := awstest.Memory(t)
	r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": r.pipe.TopicARN})
	if err != nil {
		t.Fatal(err)
	}
	p := fxpubsub.NewProducer(tg.SNS, r.producer.Registry(), topics, fxpubsub.ProducerOptions{Opaque: fxpubsub.Opaque{"x-static": "static", "x-request-user": "static-user"}})
	ambient := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"X-Request-Id": "ambient-5555", "x-request-ttl": "20", "x-request-user": "ambient-user"})
	content := orderCreated{URI: "https://orders/1", OrderID: "1"}
	caller := map[string]any{"x-request-id": "kwarg-5555", "X-Request-TTL": "99", "x-static": "kwarg", "x-caller": json.RawMessage("7")}

	for _, tt := range []struct {
		name string
		ctx  context.Context
		opts []fxpubsub.ProduceOption
		want map[string]string
	}{
		{"ambient wins", ambient, []fxpubsub.ProduceOption{fxpubsub.WithOpaqueData(caller)},
			map[string]string{"x-request-id": `"ambient-5555"`, "x-request-ttl": `"20"`, "x-static": `"static"`, "x-request-user": `"ambient-user"`, "x-caller": `7`}},
		{"caller fills gaps", context.Background(), []fxpubsub.ProduceOption{fxpubsub.WithOpaqueData(caller)},
			map[string]string{"x-request-id": `"kwarg-5555"`, "x-request-ttl": `"99"`, "x-static": `"static"`, "x-caller": `7`}},
		{"override replaces, ttl only lowers", ambient, []fxpubsub.ProduceOption{fxpubsub.OverrideOpaqueData(map[string]string{"X-Request-Id": "override", "x-request-ttl": "5"})},
			map[string]string{"x-request-id": `"override"`, "x-request-ttl": `"5"`}},
		{"override cannot raise", ambient, []fxpubsub.ProduceOption{fxpubsub.OverrideOpaqueData(map[string]string{"x-request-ttl": "99"})},
			map[string]string{"x-request-ttl": `"20"`}},
		{"override without ambient ttl: at most 32", context.Background(), []fxpubsub.ProduceOption{fxpubsub.OverrideOpaqueData(map[string]any{"x-request-ttl": json.RawMessage("1000")})},
			map[string]string{"x-request-ttl": `"32"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.Produce(tt.ctx, orderMT, content, tt.opts...); err != nil {
				t.Fatal(err)
			}
			m := r.consumeN(t, 1, 10*time.Second)[0]
			got := wireOpaque(t, m.Body)
			for k, v := range tt.want {
				if string(got[k]) != v {
					t.Errorf("opaque %q = %s, want %s (all: %s)", k, got[k], v, m.Body)
				}
			}
			if err := m.Ack(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
	_, err = p.Produce(ambient, orderMT, content, fxpubsub.OverrideOpaqueData(map[string]string{"x-request-ttl": "seven"}))
	var te *fxpubsub.InvalidTTLError
	if !errors.As(err, &te) || string(te.Value) != `"seven"` || !strings.Contains(err.Error(), "override opaque data") {
		t.Fatalf("bad override ttl: err = %v, want *InvalidTTLError", err)
	}
	r.expectEmpty(t)
}
