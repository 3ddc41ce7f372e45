package fxpubsub_test

import (
	"context"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// A handler may log from goroutines of its own: LoggerFrom builds the per-message logger once,
// safely (go test -race fails here if it does not), and every line carries the opaque fields.
func TestLoggerFromConcurrentUse(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	const fanOut = 8
	handler := func(ctx context.Context, c *orderCreated) error {
		var wg sync.WaitGroup
		for range fanOut {
			wg.Go(func() { fxpubsub.LoggerFrom(ctx).Info("part done") })
		}
		wg.Wait()
		return nil
	}
	hr, err := fxpubsub.NewHandlerRegistry(mustReg(t, orderMT, handler))
	if err != nil {
		t.Fatal(err)
	}
	d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{Logger: zap.New(core)})
	_, r := d.Handle(context.Background(), &fxpubsub.Message{MediaType: orderMT, Content: &orderCreated{OrderID: "1"}, MessageID: "m-1", Opaque: fxpubsub.Opaque{"x-request-id": "r-1"}})
	if r.Type != fxpubsub.Succeeded {
		t.Fatalf("result %v", r)
	}
	parts := logs.FilterMessage("part done").All()
	if len(parts) != fanOut {
		t.Fatalf("%d lines logged, want %d", len(parts), fanOut)
	}
	for _, e := range parts {
		opaque, _ := e.ContextMap()["opaque"].(map[string]any)
		if opaque["x-request-id"] != "r-1" || opaque["message_id"] != "m-1" {
			t.Fatalf("line lacks the message's opaque fields: %v", e.ContextMap())
		}
	}
}
