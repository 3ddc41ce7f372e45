package readme

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// Order is the README's example message type.
type Order struct {
	URI string `json:"uri" validate:"required"`
}

// MediaTypes is the README's "Conventions" snippet.
func MediaTypes() []string {
	return []string{
		fxpubsub.Created("FooBar.ThisThat"), // application/vnd.globality.pubsub._.created.foo_bar.this_that
		fxpubsub.Deleted("Foo", fxpubsub.Organization("example"), fxpubsub.Public()),
		// application/vnd.example.pubsub.deleted.foo
		fxpubsub.Lifecycle("archived")("Order"), // application/vnd.globality.pubsub._.archived.order
	}
}

// SimpleSchema is the README's "Validation" snippet.
type SimpleSchema struct {
	Message   string  `json:"message" validate:"required"`
	Timestamp float64 `json:"timestamp" validate:"required"`
}

// PubSubMediaType gives SimpleSchema its media type.
func (SimpleSchema) PubSubMediaType() string { return "application/vnd.globality.pubsub.simple" }

// Produce is the README's "Producing messages" snippets.
func Produce(ctx context.Context, producer *fxpubsub.Producer, mediaType string) ([]string, error) {
	messageID, err := producer.Produce(ctx, fxpubsub.Created("Order"), Order{URI: "https://orders/1"})
	if err != nil {
		return nil, err
	}
	ids := []string{messageID}
	messageID, err = producer.Produce(ctx, mediaType, map[string]any{"foo": "bar"}, fxpubsub.Field("bar", "baz"))
	return append(ids, messageID), err
}

// ProduceWithOpaque is the README's WithOpaqueData / OverrideOpaqueData snippet.
func ProduceWithOpaque(ctx context.Context, producer *fxpubsub.Producer, mediaType string, content any) (string, error) {
	messageID, err := producer.Produce(ctx, mediaType, content,
		fxpubsub.WithOpaqueData(map[string]string{"x-request-id": "only-if-the-context-has-none"}),
		fxpubsub.OverrideOpaqueData(map[string]string{"x-request-ttl": "3"})) // at most 3 more hops
	return messageID, err
}

// OpaqueValues is the README's "Opaque data" snippet; it returns what Get and Value gave.
func OpaqueValues(ctx context.Context) (context.Context, string, json.RawMessage, bool, error) {
	o := fxpubsub.OpaqueFrom(ctx).Clone()
	attempt := o.Get("x-attempt")     // "3" for the JSON number 3 and for the string "3"
	raw, ok := o.Value("x-attempt")   // the exact JSON text: 3, or "3" (quoted) for a string
	err := o.SetValue("x-attempt", 4) // stored as the JSON number 4; Set(key, "4") stores a string
	ctx = fxpubsub.WithOpaque(ctx, o) // messages produced with ctx carry it
	return ctx, attempt, raw, ok, err
}

// ProduceDeferred is the README's deferred-producer snippet.
func ProduceDeferred(ctx context.Context, producer *fxpubsub.Producer, mediaType string, content any, doTheWork func(context.Context) error) error {
	err := producer.Deferred(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		if err := d.Produce(ctx, mediaType, content); err != nil { // validated now, sent later
			return err
		}
		return doTheWork(ctx) // an error (or a panic) discards every buffered message
	})
	return err
}

// Consume is the README's "Consuming messages" snippet.
func Consume(ctx context.Context, consumer *fxpubsub.Consumer, process func(any) error) error {
	messages, err := consumer.Consume(ctx)
	if err != nil {
		return err
	}
	for _, m := range messages {
		_ = process(m.Content)
		_ = m.Ack(ctx)
	}
	return nil
}

// ConsumeWithProcess is the README's Process snippet.
func ConsumeWithProcess(ctx context.Context, consumer *fxpubsub.Consumer, process func(any) error) error {
	messages, err := consumer.Consume(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range messages {
		err := m.Process(ctx, func(ctx context.Context, m *fxpubsub.Message) error {
			return process(m.Content)
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewLingeringProducer is the README's batch-linger snippet (natural batching).
func NewLingeringProducer(snsClient fxpubsub.SNSClient, registry *fxpubsub.SchemaRegistry, topics *fxpubsub.TopicMap) *fxpubsub.Producer {
	producer := fxpubsub.NewProducer(snsClient, registry, topics, fxpubsub.ProducerOptions{
		BatchLinger: 2 * time.Millisecond, // sns_producer.batch_linger: wait up to 2 ms to fill a batch
	})
	return producer
}
