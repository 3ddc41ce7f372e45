package readme

import (
	"context"
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

func TestProduceConsume(t *testing.T) {
	ctx := context.Background()
	backend, err := fxpubsub.NewBackend(ctx, fxpubsub.DefaultConfig(), fxconfig.Metadata{Name: "readme", Testing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Memory.Close()
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[SimpleSchema](SimpleSchema{}.PubSubMediaType()),
		fxpubsub.SchemaFor[map[string]any]("application/vnd.globality.pubsub.free_form"))
	if err != nil {
		t.Fatal(err)
	}
	producer := fxpubsub.NewProducer(backend.SNS, reg, backend.Topics, fxpubsub.ProducerOptions{})
	consumer, err := fxpubsub.NewConsumer(backend.SQS, reg, backend.Queue, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
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
