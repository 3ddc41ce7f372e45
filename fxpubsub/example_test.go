package fxpubsub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

func ExampleCreated() {
	fmt.Println(fxpubsub.Created("FooBar.ThisThat"))
	fmt.Println(fxpubsub.Deleted("Foo", fxpubsub.Organization("example"), fxpubsub.Public()))
	// Output:
	// application/vnd.globality.pubsub._.created.foo_bar.this_that
	// application/vnd.example.pubsub.deleted.foo
}

func ExampleSchemaRegistry_Encode() {
	reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	body, err := reg.Encode(fxpubsub.Created("Order"), map[string]any{"uri": "https://orders/1", "ignored": true}, nil,
		fxpubsub.Opaque{"x-request-id": "abc"})
	fmt.Println(string(body), err)
	_, err = reg.Encode(fxpubsub.Created("Order"), map[string]any{}, nil, nil)
	fmt.Println(err)
	// Output:
	// {"mediaType":"application/vnd.globality.pubsub._.created.order","uri":"https://orders/1","opaqueData":{"x-request-id":"abc"}} <nil>
	// invalid "application/vnd.globality.pubsub._.created.order" message: uri: is required
}

// The Go form of the seed README's "messages act as context managers": Process acks when the
// function returns nil and nacks (by the backoff policy) on an error or a panic.
func ExampleMessage_Process() {
	ctx := context.Background()
	// Testing mode: an in-memory SNS topic with a queue subscribed to it.
	backend, _ := fxpubsub.NewBackend(ctx, fxpubsub.DefaultConfig(), fxconfig.Metadata{Name: "example", Testing: true})
	defer backend.Memory.Close()

	reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	producer := fxpubsub.NewProducer(backend.SNS, reg, backend.Topics, fxpubsub.ProducerOptions{})
	consumer, _ := fxpubsub.NewConsumer(backend.SQS, reg, backend.Queue, fxpubsub.ConsumerOptions{Wait: time.Second})
	_, _ = producer.Produce(ctx, fxpubsub.Created("Order"), map[string]any{"uri": "https://orders/1"})

	msgs, _ := consumer.Consume(ctx)
	for _, m := range msgs {
		err := m.Process(ctx, func(ctx context.Context, m *fxpubsub.Message) error {
			c, _ := fxpubsub.ContentAs[fxpubsub.URIMessage](m)
			fmt.Println("handling", m.MediaType, c.URI)
			return nil
		})
		fmt.Println("acked:", err == nil)
	}
	// Output:
	// handling application/vnd.globality.pubsub._.created.order https://orders/1
	// acked: true
}
