package readme

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

func TestMediaTypes(t *testing.T) {
	want := []string{
		"application/vnd.globality.pubsub._.created.foo_bar.this_that",
		"application/vnd.example.pubsub.deleted.foo",
		"application/vnd.globality.pubsub._.archived.order",
	}
	for i, got := range MediaTypes() {
		if got != want[i] {
			t.Errorf("snippet %d: %q, want %q", i, got, want[i])
		}
	}
}

// memoryPair is a producer and a consumer on a fresh in-memory backend (closed with the test).
func memoryPair(t *testing.T, schemas ...fxpubsub.Schema) (*fxpubsub.Producer, *fxpubsub.Consumer) {
	t.Helper()
	backend, err := fxpubsub.NewBackend(context.Background(), fxpubsub.DefaultConfig(), fxconfig.Metadata{Name: "readme", Testing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(backend.Memory.Close)
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), schemas...)
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := fxpubsub.NewConsumer(backend.SQS, reg, backend.Queue, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return fxpubsub.NewProducer(backend.SNS, reg, backend.Topics, fxpubsub.ProducerOptions{}), consumer
}

func TestOpaqueSnippets(t *testing.T) {
	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"x-attempt": json.RawMessage("3"), "x-request-ttl": "10"})
	ctx, attempt, raw, ok, err := OpaqueValues(ctx)
	if err != nil || attempt != "3" || string(raw) != "3" || !ok {
		t.Fatalf("OpaqueValues: %q %s %v %v", attempt, raw, ok, err)
	}
	if v, _ := fxpubsub.OpaqueFrom(ctx).Value("x-attempt"); string(v) != "4" {
		t.Fatalf("after SetValue: %s", v)
	}

	producer, consumer := memoryPair(t)
	if _, err := ProduceWithOpaque(ctx, producer, fxpubsub.Created("Order"), Order{URI: "https://orders/1"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := consumer.Consume(ctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("consume: %d messages, %v", len(msgs), err)
	}
	o := msgs[0].Opaque
	if o.Get("x-request-id") != "only-if-the-context-has-none" || o.Get("x-request-ttl") != "3" || o.Get("x-attempt") != "4" {
		t.Fatalf("opaque on the wire = %v", o)
	}
	if err := msgs[0].Ack(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestProduceConsume(t *testing.T) {
	ctx := context.Background()
	producer, consumer := memoryPair(t, fxpubsub.SchemaFor[SimpleSchema](SimpleSchema{}.PubSubMediaType()),
		fxpubsub.SchemaFor[map[string]any]("application/vnd.globality.pubsub.free_form"))
	ids, err := Produce(ctx, producer, "application/vnd.globality.pubsub.free_form")
	if err != nil || len(ids) != 2 {
		t.Fatalf("produce: %v %v", ids, err)
	}
	var seen []any
	if err := Consume(ctx, consumer, func(c any) error { seen = append(seen, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Fatalf("consumed %d messages, want 2", len(seen))
	}

	boom := errors.New("boom")
	if err := ProduceDeferred(ctx, producer, fxpubsub.Created("Order"), Order{URI: "u"}, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("deferred: %v", err)
	}
	if err := ProduceDeferred(ctx, producer, fxpubsub.Created("Order"), Order{URI: "u"}, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var got []any
	if err := ConsumeWithProcess(ctx, consumer, func(c any) error { got = append(got, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].(*fxpubsub.URIMessage).URI != "u" {
		t.Fatalf("only the successful unit of work publishes: %v", got)
	}
}
