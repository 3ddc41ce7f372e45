package fxpubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// batchRig has an item topic and a batch topic, each with a raw-delivery queue.
type batchRig struct {
	tg       awstest.Target
	items    awstest.Pipeline
	batches  awstest.Pipeline
	producer *fxpubsub.Producer
}

func newBatchRig(t *testing.T, tg awstest.Target, mapBatch bool) *batchRig {
	t.Helper()
	r := &batchRig{tg: tg}
	r.items = tg.Pipeline(t, awstest.PipelineOptions{Prefix: "items", Raw: true})
	r.batches = tg.Pipeline(t, awstest.PipelineOptions{Prefix: "batches", Raw: true})
	section := map[string]any{"default": r.items.TopicARN}
	if mapBatch {
		section["mappings"] = map[string]any{fxpubsub.BatchMessageMediaType: r.batches.TopicARN}
	}
	topics, err := fxpubsub.NewTopicMap(section)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	if err != nil {
		t.Fatal(err)
	}
	r.producer = fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{Opaque: fxpubsub.Opaque{"x-static": "s"}})
	return r
}

// drain receives raw messages from queueURL until n arrived (or, for n == 0, until a receive
// comes back empty) or the deadline passes.
func drain(t *testing.T, tg awstest.Target, queueURL string, n int, within time.Duration) []sqstypes.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []sqstypes.Message
	wait := int32(1)
	if n == 0 && tg.Caps.SyncDelivery {
		wait = 0 // delivery happened inside Publish: an empty short poll means empty
	}
	for ctx.Err() == nil && (n == 0 || len(got) < n) {
		out, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			t.Fatalf("receive: %v", err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			if _, err := tg.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
		if n == 0 && len(out.Messages) == 0 {
			break
		}
	}
	return got
}

func decodeBatch(t *testing.T, body string) fxpubsub.BatchMessage {
	t.Helper()
	var wire struct {
		MediaType  string                    `json:"mediaType"`
		Messages   []fxpubsub.BatchedMessage `json:"messages"`
		OpaqueData map[string]string         `json:"opaqueData"`
	}
	if err := json.Unmarshal([]byte(body), &wire); err != nil {
		t.Fatalf("batch body: %v: %s", err, body)
	}
	if wire.MediaType != fxpubsub.BatchMessageMediaType {
		t.Fatalf("mediaType = %q", wire.MediaType)
	}
	if wire.OpaqueData["x-request-published"] == "" {
		t.Fatalf("batch opaqueData has no x-request-published: %v", wire.OpaqueData)
	}
	return fxpubsub.BatchMessage{Messages: wire.Messages}
}

func TestDeferredBatchChunksAndWireFormat(t *testing.T) {
	r := newBatchRig(t, awstest.Memory(t), true)
	ctx := fxpubsub.WithOpaqueValue(context.Background(), "X-Request-Id", "req-1")
	const n = 25
	err := r.producer.DeferredBatch(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		for i := range n {
			if err := d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": fmt.Sprintf("https://orders/%d", i)}); err != nil {
				return err
			}
		}
		return nil
	}, fxpubsub.DeferredBatchSize(10))
	if err != nil {
		t.Fatal(err)
	}
	batches := drain(t, r.tg, r.batches.QueueURL, 3, 5*time.Second)
	if len(batches) != 3 {
		t.Fatalf("got %d batch messages, want 3 (10+10+5)", len(batches))
	}
	if direct := drain(t, r.tg, r.items.QueueURL, 0, 5*time.Second); len(direct) != 0 {
		t.Fatalf("%d messages published directly, want 0", len(direct))
	}
	seen := 0
	for bi, m := range batches {
		if got := aws.ToString(m.MessageAttributes["media_type"].StringValue); got != fxpubsub.BatchMessageMediaType {
			t.Errorf("batch %d: media_type attribute %q", bi, got)
		}
		// Five required snake_case keys per entry, exactly DataType + StringValue in the attribute.
		var raw struct {
			Messages []map[string]json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &raw); err != nil {
			t.Fatal(err)
		}
		for _, e := range raw.Messages {
			for _, k := range []string{"media_type", "message", "topic_arn", "opaque_data", "message_attributes"} {
				if _, ok := e[k]; !ok {
					t.Fatalf("batch entry lacks %q: %v", k, e)
				}
			}
			if len(e) != 5 {
				t.Fatalf("batch entry has %d keys, want 5: %v", len(e), e)
			}
			if got, want := string(e["message_attributes"]), fmt.Sprintf(`{"media_type":{"DataType":"String","StringValue":%q}}`, fxpubsub.Created("Order")); got != want {
				t.Fatalf("message_attributes = %s, want %s", got, want)
			}
		}
		b := decodeBatch(t, aws.ToString(m.Body))
		for _, e := range b.Messages {
			var inner struct {
				MediaType  string            `json:"mediaType"`
				URI        string            `json:"uri"`
				OpaqueData map[string]string `json:"opaqueData"`
			}
			if err := json.Unmarshal([]byte(e.Message), &inner); err != nil {
				t.Fatalf("inner message is not JSON: %v", err)
			}
			if want := fmt.Sprintf("https://orders/%d", seen); inner.URI != want {
				t.Fatalf("entry %d: uri %q, want %q (order kept)", seen, inner.URI, want)
			}
			if e.TopicARN != r.items.TopicARN || e.MediaType != fxpubsub.Created("Order") {
				t.Fatalf("entry %d: topic %q media type %q", seen, e.TopicARN, e.MediaType)
			}
			if inner.OpaqueData["x-request-id"] != "req-1" || e.OpaqueData["x-request-id"] != "req-1" || e.OpaqueData["x-static"] != "s" {
				t.Fatalf("entry %d: opaque %v / %v", seen, inner.OpaqueData, e.OpaqueData)
			}
			seen++
		}
	}
	if seen != n {
		t.Fatalf("%d entries in all batches, want %d", seen, n)
	}
}

func TestDeferredBatchBlockOfOneIsPublishedDirectly(t *testing.T) {
	r := newBatchRig(t, awstest.Memory(t), false) // no batch mapping needed for a block of one
	ctx := context.Background()
	err := r.producer.DeferredBatch(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		return d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": "https://orders/1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, r.tg, r.items.QueueURL, 1, 5*time.Second)
	if len(got) != 1 || !strings.Contains(aws.ToString(got[0].Body), `"uri":"https://orders/1"`) {
		t.Fatalf("direct messages: %v", got)
	}
}

func TestDeferredBatchNeedsExplicitBatchTopic(t *testing.T) {
	r := newBatchRig(t, awstest.Memory(t), false)
	ctx := context.Background()
	err := r.producer.DeferredBatch(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		for i := range 3 {
			if err := d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": fmt.Sprint("https://orders/", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	var tnd *fxpubsub.TopicNotDefinedError
	if !errors.As(err, &tnd) || tnd.MediaType != fxpubsub.BatchMessageMediaType {
		t.Fatalf("err = %v, want TopicNotDefinedError for the batch media type", err)
	}
	if got := drain(t, r.tg, r.items.QueueURL, 0, 5*time.Second); len(got) != 0 {
		t.Fatalf("%d messages published, want none", len(got))
	}
}

func TestDeferredBatchDiscardsOnError(t *testing.T) {
	r := newBatchRig(t, awstest.Memory(t), true)
	boom := errors.New("boom")
	err := r.producer.DeferredBatch(context.Background(), func(ctx context.Context, d *fxpubsub.Deferred) error {
		_ = d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": "https://orders/1"})
		_ = d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": "https://orders/2"})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got := len(drain(t, r.tg, r.batches.QueueURL, 0, 5*time.Second)) + len(drain(t, r.tg, r.items.QueueURL, 0, 5*time.Second)); got != 0 {
		t.Fatalf("%d messages published, want none", got)
	}
}

// TestDeferredBatchStaysUnderSizeLimit: 20 messages of ~40 KiB (escaping in the batch makes each
// bigger) with the default block size must still produce batch messages of at most 256 KiB.
func TestDeferredBatchStaysUnderSizeLimit(t *testing.T) {
	r := newBatchRig(t, awstest.Memory(t), true)
	big := strings.Repeat(`"q"`, 13_000) // quotes double when the message is embedded as a string
	const n = 20
	err := r.producer.DeferredBatch(context.Background(), func(ctx context.Context, d *fxpubsub.Deferred) error {
		for i := range n {
			if err := d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": fmt.Sprintf("https://orders/%d?%s", i, big)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, r.tg, r.batches.QueueURL, 0, 10*time.Second)
	direct := drain(t, r.tg, r.items.QueueURL, 0, 5*time.Second)
	entries := len(direct)
	for _, m := range got {
		if l := len(aws.ToString(m.Body)); l > fxpubsub.MaxMessageSize {
			t.Fatalf("batch message of %d bytes", l)
		}
		entries += len(decodeBatch(t, aws.ToString(m.Body)).Messages)
	}
	if entries != n || len(got) < 4 {
		t.Fatalf("%d entries in %d batches (+%d direct), want %d in at least 4 batches", entries, len(got), len(direct), n)
	}
}

func TestRepublishVerbatim(t *testing.T) {
	for _, tg := range []awstest.Target{awstest.Memory(t), awstest.Fauxqs(t)} {
		t.Run(tg.Name, func(t *testing.T) {
			r := newBatchRig(t, tg, true)
			msgs := make([]fxpubsub.BatchedMessage, 12)
			for i := range msgs {
				msgs[i] = fxpubsub.BatchedMessage{
					MediaType:  "application/vnd.example.custom",
					Message:    fmt.Sprintf(`{"mediaType":"application/vnd.example.custom","n":%d,"opaqueData":{}}`, i),
					TopicARN:   r.items.TopicARN,
					OpaqueData: fxpubsub.Opaque{},
					MessageAttributes: map[string]fxpubsub.AttributeValue{
						"media_type": {DataType: "String", StringValue: "application/vnd.example.custom"},
						"extra":      {DataType: "String", StringValue: fmt.Sprint("x", i)},
					},
				}
			}
			results, err := r.producer.Republish(context.Background(), msgs...)
			if err != nil {
				t.Fatal(err)
			}
			for i, res := range results {
				if res.MessageID == "" {
					t.Fatalf("result %d has no message id", i)
				}
			}
			got := drain(t, tg, r.items.QueueURL, len(msgs), 10*time.Second)
			if len(got) != len(msgs) {
				t.Fatalf("got %d messages, want %d", len(got), len(msgs))
			}
			bodies := map[string]string{}
			for _, m := range got {
				bodies[aws.ToString(m.Body)] = aws.ToString(m.MessageAttributes["extra"].StringValue)
			}
			for i, m := range msgs {
				if extra, ok := bodies[m.Message]; !ok || extra != fmt.Sprint("x", i) {
					t.Fatalf("message %d not delivered verbatim with its attributes (extra=%q)", i, extra)
				}
			}
		})
	}
}

func TestRepublishRejectsBadEntries(t *testing.T) {
	r := newBatchRig(t, awstest.Memory(t), true)
	results, err := r.producer.Republish(context.Background(),
		fxpubsub.BatchedMessage{MediaType: "a", Message: "{}"},
		fxpubsub.BatchedMessage{MediaType: "b", Message: strings.Repeat("x", fxpubsub.MaxMessageSize+1), TopicARN: r.items.TopicARN},
	)
	var tooLarge *fxpubsub.MessageTooLargeError
	if err == nil || results[0].Err == nil || !errors.As(results[1].Err, &tooLarge) {
		t.Fatalf("err = %v, results = %+v", err, results)
	}
}

// A unit of work publishes its messages only if it succeeds, as batch messages of up to 100: a
// consumer with the batch republisher (package handlers) turns each back into its messages.
func ExampleProducer_DeferredBatch() {
	ctx := context.Background()
	cfg := fxpubsub.DefaultConfig()
	cfg.Topics = map[string]any{
		"default":  "arn:aws:sns:us-east-1:000000000000:orders",
		"mappings": map[string]any{fxpubsub.BatchMessageMediaType: "arn:aws:sns:us-east-1:000000000000:batches"},
	}
	// Testing mode: an in-memory SNS with both topics and a queue subscribed to them.
	backend, _ := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "example", Testing: true})
	defer backend.Memory.Close()
	reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	producer := fxpubsub.NewProducer(backend.SNS, reg, backend.Topics, fxpubsub.ProducerOptions{})

	err := producer.DeferredBatch(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		for i := range 3 {
			if err := d.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": fmt.Sprint("https://orders/", i)}); err != nil {
				return err
			}
		}
		return nil
	}, fxpubsub.DeferredBatchSize(cfg.Producer.DeferredBatchSize))
	fmt.Println("published:", err == nil)

	consumer, _ := fxpubsub.NewConsumer(backend.SQS, reg, backend.Queue, fxpubsub.ConsumerOptions{Wait: time.Second})
	msgs, _ := consumer.Consume(ctx)
	for _, m := range msgs {
		b, _ := fxpubsub.ContentAs[fxpubsub.BatchMessage](m)
		fmt.Println(m.MediaType, "with", len(b.Messages), "messages for", b.Messages[0].TopicARN)
	}
	// Output:
	// published: true
	// application/vnd.globality.pubsub._.created.batch_message with 3 messages for arn:aws:sns:us-east-1:000000000000:orders
}
