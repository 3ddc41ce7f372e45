package handlers_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
	"github.com/microcosm-go/pubsub/handlers"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

type orderRef struct {
	URI string `json:"uri" validate:"required"`
}

// TestBatchRepublisherRoundTripInApp: a deferred batch produced by the app's producer is consumed
// by the app's batch republisher, whose republished messages are handled by the app's order
// handler; the republished bodies are the batch's inner messages byte for byte.
func TestBatchRepublisherRoundTripInApp(t *testing.T) {
	const (
		itemsTopic = "arn:aws:sns:us-east-1:000000000000:items"
		batchTopic = "arn:aws:sns:us-east-1:000000000000:batches"
	)
	app := pubsubtest.New(t, "republish", map[string]any{
		"sns_topic_arns": map[string]any{
			"default":  itemsTopic,
			"mappings": map[string]any{fxpubsub.BatchMessageMediaType: batchTopic},
		},
	},
		handlers.AsBatchRepublisher(handlers.RepublisherOptions{AllowedTopics: []string{itemsTopic}}),
		fxpubsub.AsHandlerFunc[orderRef](orderCreated, func(ctx context.Context, o *orderRef) error { return nil }),
	)
	ctx := fxpubsub.WithOpaqueValue(context.Background(), "x-request-id", "req-9")
	err := app.Producer.DeferredBatch(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		for i := range 3 {
			if err := d.Produce(ctx, orderCreated, orderRef{URI: fmt.Sprint("https://orders/", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	handled := app.Wait(4)
	counts := map[string]int{}
	for _, h := range handled {
		if h.Result.Type != fxpubsub.Succeeded {
			t.Fatalf("%s", h)
		}
		counts[h.MediaType]++
	}
	if counts[fxpubsub.BatchMessageMediaType] != 1 || counts[orderCreated] != 3 {
		t.Fatalf("handled %v", counts)
	}

	pub := app.Recorder.Published()
	if len(pub) != 4 || pub[0].MediaType != fxpubsub.BatchMessageMediaType || pub[0].TopicARN != batchTopic {
		t.Fatalf("published %v", pub)
	}
	var inner []string
	for _, e := range pub[0].Content["messages"].([]any) {
		inner = append(inner, e.(map[string]any)["message"].(string))
	}
	var republished []string
	for _, p := range pub[1:] {
		if p.TopicARN != itemsTopic || p.Opaque.Get("x-request-id") != "req-9" {
			t.Fatalf("republished %v", p)
		}
		republished = append(republished, p.Body)
	}
	sort.Strings(inner)
	sort.Strings(republished)
	if strings.Join(inner, "\n") != strings.Join(republished, "\n") {
		t.Fatalf("republished bodies differ from the batch's messages:\n%s\nvs\n%s", inner, republished)
	}
}

func TestBatchRepublisherAllowedTopics(t *testing.T) {
	tg := awstest.Memory(t)
	reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	topics, _ := fxpubsub.NewTopicMap(nil)
	p := fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{})
	r := handlers.NewBatchRepublisher(p, handlers.RepublisherOptions{AllowedTopics: []string{"arn:aws:sns:us-east-1:000000000000:ok"}})
	res := dispatch(t, fxpubsub.BatchMessageMediaType, fxpubsub.Handler[fxpubsub.BatchMessage](r), &fxpubsub.BatchMessage{Messages: []fxpubsub.BatchedMessage{
		{MediaType: "a", Message: "{}", TopicARN: "arn:aws:sns:us-east-1:000000000000:ok"},
		{MediaType: "a", Message: "{}", TopicARN: "arn:aws:sns:us-east-1:000000000000:elsewhere"},
	}}, nil)
	if res.Type != fxpubsub.Skipped || !strings.Contains(res.Reason, "elsewhere") {
		t.Fatalf("%s %q", res.Type, res.Reason)
	}
}

// TestBatchRepublisherRoundTrip runs producer → SNS → SQS → consumer → republisher → SNS → SQS on
// the in-memory backend and on fauxqs.
func TestBatchRepublisherRoundTrip(t *testing.T) {
	for _, tg := range []awstest.Target{awstest.Memory(t), awstest.Fauxqs(t)} {
		t.Run(tg.Name, func(t *testing.T) {
			items := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "items"})
			batches := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "batches"})
			reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
			if err != nil {
				t.Fatal(err)
			}
			topics, err := fxpubsub.NewTopicMap(map[string]any{
				"default":  items.TopicARN,
				"mappings": map[string]any{fxpubsub.BatchMessageMediaType: batches.TopicARN},
			})
			if err != nil {
				t.Fatal(err)
			}
			producer := fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{})
			const n = 15
			err = producer.DeferredBatch(context.Background(), func(ctx context.Context, d *fxpubsub.Deferred) error {
				for i := range n {
					if err := d.Produce(ctx, orderCreated, map[string]any{"uri": fmt.Sprint("https://orders/", i)}); err != nil {
						return err
					}
				}
				return nil
			}, fxpubsub.DeferredBatchSize(10))
			if err != nil {
				t.Fatal(err)
			}

			republisher := handlers.NewBatchRepublisher(producer, handlers.RepublisherOptions{AllowedTopics: []string{items.TopicARN}})
			reg2, _ := fxpubsub.NewRegistration[fxpubsub.BatchMessage](fxpubsub.BatchMessageMediaType, republisher)
			hr, _ := fxpubsub.NewHandlerRegistry(reg2)
			d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{})
			batchConsumer := newConsumer(t, tg, reg, batches.QueueURL)
			for _, m := range receive(t, batchConsumer, 2) {
				if r := d.Dispatch(context.Background(), m); r.Type != fxpubsub.Succeeded {
					t.Fatalf("batch: %s %v", r.Type, r.Err)
				}
			}

			got := map[string]bool{}
			for _, m := range receive(t, newConsumer(t, tg, reg, items.QueueURL), n) {
				c, ok := fxpubsub.ContentAs[fxpubsub.URIMessage](m)
				if !ok || m.MediaType != orderCreated {
					t.Fatalf("item %s: %T %v", m.MediaType, m.Content, m.Err)
				}
				got[c.URI] = true
				if err := m.Ack(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			for i := range n {
				if !got[fmt.Sprint("https://orders/", i)] {
					t.Fatalf("order %d not republished (got %v)", i, got)
				}
			}
		})
	}
}

func newConsumer(t *testing.T, tg awstest.Target, reg *fxpubsub.SchemaRegistry, queueURL string) *fxpubsub.Consumer {
	t.Helper()
	c, err := fxpubsub.NewConsumer(tg.SQS, reg, queueURL, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// receive consumes until n messages arrived, failing the test after 60 s (a hang guard).
func receive(t *testing.T, c *fxpubsub.Consumer, n int) []*fxpubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*fxpubsub.Message
	for len(got) < n {
		msgs, err := c.Consume(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(got), n, err)
		}
		got = append(got, msgs...)
	}
	return got
}
