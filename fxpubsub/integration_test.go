package fxpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

type orderCreated struct {
	URI     string `json:"uri" validate:"required"`
	OrderID string `json:"order_id" validate:"required"`
}

var orderMT = fxpubsub.Created("Order")

// rig is a producer and consumer wired to one pipeline of one target.
type rig struct {
	target   awstest.Target
	pipe     awstest.Pipeline
	producer *fxpubsub.Producer
	consumer *fxpubsub.Consumer
}

func newRig(t *testing.T, tg awstest.Target, opts awstest.PipelineOptions) *rig {
	t.Helper()
	pipe := tg.Pipeline(t, opts)
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT))
	if err != nil {
		t.Fatal(err)
	}
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := fxpubsub.NewConsumer(tg.SQS, reg, pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second, Backoff: fxpubsub.NaiveBackoff{Timeout: 0}})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{target: tg, pipe: pipe, producer: fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{}), consumer: cons}
}

// consumeN receives until n messages arrived or the deadline passed.
func (r *rig) consumeN(t *testing.T, n int, within time.Duration) []*fxpubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []*fxpubsub.Message
	for len(got) < n && ctx.Err() == nil {
		msgs, err := r.consumer.Consume(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			t.Fatal(err)
		}
		got = append(got, msgs...)
	}
	if len(got) < n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// expectEmpty asserts nothing is visible in the queue right now (one short poll).
func (r *rig) expectEmpty(t *testing.T) {
	t.Helper()
	out, err := r.target.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("queue still holds %d messages: %s", len(out.Messages), aws.ToString(out.Messages[0].Body))
	}
}

func forEachTarget(t *testing.T, fn func(t *testing.T, tg awstest.Target)) {
	for _, tg := range awstest.All(t) {
		t.Run(tg.Name, func(t *testing.T) {
			tg.Require(t)
			t.Parallel()
			fn(t, tg)
		})
	}
}

func TestProduceConsumeAck(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		for _, raw := range []bool{false, true} {
			t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
				r := newRig(t, tg, awstest.PipelineOptions{Raw: raw})
				ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"x-request-id": "req-1"})
				snsID, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/1", OrderID: "1"}, fxpubsub.WithOpaqueData(map[string]string{"X-Request-User": "u1"}))
				if err != nil {
					t.Fatal(err)
				}
				msgs := r.consumeN(t, 1, 20*time.Second)
				m := msgs[0]
				if m.Err != nil {
					t.Fatalf("decode: %v (body %s)", m.Err, m.Body)
				}
				got, ok := fxpubsub.ContentAs[orderCreated](m)
				if !ok || *got != (orderCreated{URI: "https://orders/1", OrderID: "1"}) {
					t.Fatalf("content = %#v", m.Content)
				}
				if m.MediaType != orderMT || m.URI != "https://orders/1" || m.ReceiveCount != 1 {
					t.Fatalf("message = %+v", m)
				}
				if m.MessageID == "" || m.MessageID == snsID {
					t.Fatalf("handler-visible id must be the SQS id, got %q (SNS id %q)", m.MessageID, snsID)
				}
				if m.Opaque.Get("x-request-id") != "req-1" || m.Opaque.Get("x-request-user") != "u1" || m.Opaque.Get("x-request-published") == "" {
					t.Fatalf("opaque = %v", m.Opaque)
				}
				if wantTopic := map[bool]string{false: r.pipe.TopicARN, true: ""}[raw]; m.TopicARN != wantTopic {
					t.Fatalf("topic = %q, want %q", m.TopicARN, wantTopic)
				}
				if err := m.Ack(context.Background()); err != nil {
					t.Fatal(err)
				}
				r.expectEmpty(t)
			})
		}
	})
}

func TestBadMessagesDoNotPoisonTheBatch(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
		ctx := context.Background()
		bodies := map[string]string{ // body → what its error must say
			`{"mediaType":`:       "malformed JSON",
			`{"uri":"https://x"}`: `field "mediaType": missing mediaType`,
			`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Message":"not json"}`: "malformed JSON",
			`{"mediaType":"application/vnd.globality.pubsub.nobody","opaqueData":{}}`:                                        `unknown media type "application/vnd.globality.pubsub.nobody"`,
			`{"mediaType":"` + orderMT + `","uri":"https://x","opaqueData":{}}`:                                              `field "order_id": invalid`,
		}
		for body := range bodies {
			if _, err := tg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MessageBody: aws.String(body)}); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		}
		if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/2", OrderID: "2"}); err != nil {
			t.Fatal(err)
		}
		msgs := r.consumeN(t, len(bodies)+1, 20*time.Second)
		var good []*fxpubsub.Message
		for _, m := range msgs {
			if m.Err == nil {
				good = append(good, m)
				continue
			}
			var de *fxpubsub.DecodeError
			if !errors.As(m.Err, &de) {
				t.Fatalf("error %T is not a DecodeError: %v", m.Err, m.Err)
			}
			want, ok := bodies[string(m.Body)]
			if !ok {
				t.Errorf("unexpected bad message %s: %v", m.Body, m.Err)
			} else if !strings.Contains(m.Err.Error(), want) {
				t.Errorf("body %s: error %q, want it to contain %q", m.Body, m.Err, want)
			}
			if m.ReceiptHandle == "" {
				t.Errorf("bad message %s has no receipt handle to nack", m.Body)
			}
		}
		if len(good) != 1 {
			t.Fatalf("good messages = %d, want 1", len(good))
		}
		if err := good[0].Ack(ctx); err != nil {
			t.Fatal(err)
		}
		// Nack the bad ones (visible at once): all of them come back, none was lost or deleted.
		for _, m := range msgs {
			if m.Err != nil {
				if err := m.Nack(ctx, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		again := r.consumeN(t, len(bodies), 20*time.Second)
		for _, m := range again {
			if m.Err == nil || m.ReceiveCount != 2 {
				t.Errorf("redelivered %s: err %v, receive count %d; want a decode error and count 2", m.Body, m.Err, m.ReceiveCount)
			}
			_ = m.Ack(ctx)
		}
	})
}

func TestProduceBatchAndDeferred(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
		ctx := context.Background()
		n := 23
		if tg.Caps.Slow {
			n = 12
		}
		batch := make([]fxpubsub.Outgoing, n+1)
		for i := range n {
			batch[i] = fxpubsub.Outgoing{MediaType: orderMT, Content: orderCreated{URI: fmt.Sprintf("https://orders/%d", i), OrderID: fmt.Sprint(i)}}
		}
		batch[n] = fxpubsub.Outgoing{MediaType: orderMT, Content: map[string]any{"uri": "https://orders/bad"}}
		results, err := r.producer.ProduceBatch(ctx, batch)
		var ve *fxpubsub.ValidationError
		if err == nil || !errors.As(results[n].Err, &ve) {
			t.Fatalf("invalid entry: err %v, result %v; want a ValidationError", err, results[n].Err)
		}
		for i, res := range results[:n] {
			if res.Err != nil || res.MessageID == "" {
				t.Fatalf("entry %d: %+v", i, res)
			}
		}
		seen := map[string]bool{}
		for _, m := range r.consumeN(t, n, 30*time.Second) {
			c, _ := fxpubsub.ContentAs[orderCreated](m)
			seen[c.OrderID] = true
			_ = m.Ack(ctx)
		}
		if len(seen) != n {
			t.Fatalf("distinct messages = %d, want %d", len(seen), n)
		}

		// A failing unit of work publishes nothing; a succeeding one publishes everything.
		boom := errors.New("boom")
		err = r.producer.Deferred(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
			if err := d.Produce(ctx, orderMT, orderCreated{URI: "https://orders/x", OrderID: "x"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("deferred error = %v", err)
		}
		r.expectEmpty(t)
		err = r.producer.Deferred(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
			for i := range 3 {
				if err := d.Produce(ctx, orderMT, orderCreated{URI: "https://orders/d", OrderID: fmt.Sprint("d", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.consumeN(t, 3, 20*time.Second) {
			_ = m.Ack(ctx)
		}
	})
}

func TestProcessAcksOrNacks(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{})
		ctx := context.Background()
		if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/p", OrderID: "p"}); err != nil {
			t.Fatal(err)
		}
		m := r.consumeN(t, 1, 20*time.Second)[0]
		err := m.Process(ctx, func(context.Context, *fxpubsub.Message) error { panic("handler bug") })
		var pe *fxpubsub.PanicError
		if !errors.As(err, &pe) || pe.Value != "handler bug" || len(pe.Stack) == 0 {
			t.Fatalf("panic error = %v", err)
		}
		// Nacked by the backoff policy (0 s here): it comes back with receive count 2.
		m = r.consumeN(t, 1, 20*time.Second)[0]
		if m.ReceiveCount != 2 {
			t.Fatalf("receive count = %d", m.ReceiveCount)
		}
		if err := m.Process(ctx, func(context.Context, *fxpubsub.Message) error { return nil }); err != nil {
			t.Fatal(err)
		}
		r.expectEmpty(t)
	})
}

func TestProduceRefusesBadContent(t *testing.T) {
	r := newRig(t, awstest.Memory(t), awstest.PipelineOptions{})
	ctx := context.Background()
	tests := []struct {
		name    string
		mt      string
		content any
		check   func(error) bool
	}{
		{"unknown media type", "application/vnd.globality.pubsub.nobody", map[string]any{}, func(err error) bool {
			var e *fxpubsub.UnknownMediaTypeError
			return errors.As(err, &e)
		}},
		{"created without uri", fxpubsub.Created("thing"), map[string]any{}, func(err error) bool {
			var e *fxpubsub.ValidationError
			return errors.As(err, &e) && e.Problems[0].Field == "uri"
		}},
		{"deleted without id", fxpubsub.Deleted("thing"), map[string]any{"uri": "x"}, func(err error) bool {
			var e *fxpubsub.ValidationError
			return errors.As(err, &e) && e.Problems[0].Field == "id"
		}},
		{"oversize", orderMT, orderCreated{URI: "https://x", OrderID: strings.Repeat("x", 256*1024)}, func(err error) bool {
			var e *fxpubsub.MessageTooLargeError
			return errors.As(err, &e) && e.Size > e.Limit
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.producer.Produce(ctx, tt.mt, tt.content); !tt.check(err) {
				t.Fatalf("got %v", err)
			}
		})
	}
	r.expectEmpty(t)

	topics, _ := fxpubsub.NewTopicMap(nil)
	p := fxpubsub.NewProducer(r.target.SNS, r.producer.Registry(), topics, fxpubsub.ProducerOptions{})
	var tnd *fxpubsub.TopicNotDefinedError
	if _, err := p.Produce(ctx, orderMT, orderCreated{URI: "u", OrderID: "1"}); !errors.As(err, &tnd) {
		t.Fatalf("no topic: got %v", err)
	}
	missing, _ := fxpubsub.NewTopicMap(map[string]any{"default": "arn:aws:sns:us-east-1:000000000000:missing"})
	p = fxpubsub.NewProducer(r.target.SNS, r.producer.Registry(), missing, fxpubsub.ProducerOptions{})
	var pe *fxpubsub.PublishError
	if _, err := p.Produce(ctx, orderMT, orderCreated{URI: "u", OrderID: "1"}); !errors.As(err, &pe) || pe.TopicARN == "" {
		t.Fatalf("missing topic: got %v", err)
	}
}

func TestProduceFIFO(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{FIFO: true, Raw: true})
		ctx := context.Background()
		for i := range 4 {
			if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/f", OrderID: fmt.Sprint(i)}, fxpubsub.MessageGroupID("customer-1")); err != nil {
				t.Fatal(err)
			}
		}
		// FIFO queues hand out one group's messages in order (fauxqs one per receive).
		for i := range 4 {
			m := r.consumeN(t, 1, 20*time.Second)
			c, _ := fxpubsub.ContentAs[orderCreated](m[0])
			if c == nil || c.OrderID != fmt.Sprint(i) {
				t.Fatalf("message %d out of order: %+v", i, m[0].Content)
			}
			for _, extra := range m[1:] {
				_ = extra.Nack(ctx, 0)
			}
			if err := m[0].Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}
