package fxpubsub_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

type followUp struct {
	URI string `json:"uri" validate:"required"`
}

var followUpMT = fxpubsub.Created("FollowUp")

// recorder is an injected collaborator.
type recorder struct {
	mu     sync.Mutex
	orders []string
	follow []fxpubsub.Opaque
	done   chan struct{}
}

type orderHandler struct {
	rec      *recorder
	producer *fxpubsub.Producer
}

func newOrderHandler(rec *recorder, p *fxpubsub.Producer) *orderHandler {
	return &orderHandler{rec: rec, producer: p}
}

func (h *orderHandler) Handle(ctx context.Context, c *orderCreated) error {
	h.rec.mu.Lock()
	h.rec.orders = append(h.rec.orders, c.OrderID)
	h.rec.mu.Unlock()
	fxpubsub.LoggerFrom(ctx).Info("handling order")
	_, err := h.producer.Produce(ctx, followUpMT, followUp{URI: c.URI + "/follow"})
	return err
}

func TestModuleRunsConsumerOnMemoryBackend(t *testing.T) {
	rec := &recorder{done: make(chan struct{})}
	var producer *fxpubsub.Producer
	app := fxtest.New(t,
		fxconfig.ForTesting("example", map[string]any{"sqs_consumer": map[string]any{"wait_seconds": 1}}),
		fxpubsub.Module,
		fx.Supply(rec),
		fxpubsub.AsHandler[orderCreated](orderMT, newOrderHandler),
		fxpubsub.AsHandlerFunc(followUpMT, func(ctx context.Context, c *followUp) error {
			rec.mu.Lock()
			rec.follow = append(rec.follow, fxpubsub.OpaqueFrom(ctx).Clone())
			rec.mu.Unlock()
			close(rec.done)
			return nil
		}),
		fxpubsub.RunConsumer(),
		fx.Populate(&producer),
	)
	app.RequireStart()
	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"x-request-id": "req-9"})
	if _, err := producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/9", OrderID: "9"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.done:
	case <-time.After(20 * time.Second):
		t.Fatal("follow-up message never handled")
	}
	app.RequireStop()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.orders) != 1 || rec.orders[0] != "9" {
		t.Fatalf("orders = %v", rec.orders)
	}
	op := rec.follow[0]
	// The follow-up inherited the request id and the decremented TTL (31 → 30 after its own hop).
	if op.Get("x-request-id") != "req-9" || op.Get("x-request-ttl") != "30" || op.Get("handler") != "Function" {
		t.Fatalf("follow-up opaque = %v", op)
	}
}

func TestModuleDuplicateHandlers(t *testing.T) {
	app := fx.New(
		fx.NopLogger,
		fxconfig.ForTesting("example", nil),
		fxpubsub.Module,
		fxpubsub.AsHandlerFunc(orderMT, func(context.Context, *orderCreated) error { return nil }),
		fxpubsub.AsHandler[orderCreated](orderMT, newOrderHandler),
		fx.Supply(&recorder{}),
		fxpubsub.RunConsumer(),
	)
	var dup *fxpubsub.DuplicateHandlerError
	if err := app.Err(); !errors.As(err, &dup) {
		t.Fatalf("got %v, want DuplicateHandlerError", err)
	}
	if dup.MediaType != orderMT || !strings.Contains(dup.Error(), "Order Handler") || !strings.Contains(dup.Error(), "Function") {
		t.Fatalf("error must name both handlers: %v", dup)
	}
}

func TestModuleConfigErrors(t *testing.T) {
	tests := []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"sqs_consumer": map[string]any{"wait_seconds": "99"}}, `sqs_consumer.wait_seconds: must be between 0 and 20, got "99"`},
		{map[string]any{"sqs_consumer": map[string]any{"limit": "ten"}}, `sqs_consumer.limit`},
		{map[string]any{"sqs_envelope": map[string]any{"strategy_name": "lambda"}}, `sqs_envelope.strategy_name: unknown envelope "lambda"`},
		{map[string]any{"sns_topic_arns": map[string]any{"created": "x"}}, `sns_topic_arns.created`},
	}
	for _, tt := range tests {
		var p *fxpubsub.Producer
		app := fx.New(fx.NopLogger, fxconfig.ForTesting("example", tt.values), fxpubsub.Module, fx.Populate(&p))
		if err := app.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("values %v: got %v, want an error containing %q", tt.values, err, tt.want)
		}
	}
}

func TestModuleNeedsQueueOutsideTesting(t *testing.T) {
	var c *fxpubsub.Consumer
	app := fx.New(fx.NopLogger, fxconfig.WithInput(fxconfig.Input{Name: "example", Environ: []string{"AWS_REGION=us-east-1"}}), fxpubsub.Module, fx.Populate(&c))
	if err := app.Err(); !errors.Is(err, fxpubsub.ErrNoQueue) {
		t.Fatalf("got %v, want ErrNoQueue", err)
	}
	// A producer-only app needs no queue and never polls.
	var p *fxpubsub.Producer
	app = fx.New(fx.NopLogger, fxconfig.WithInput(fxconfig.Input{Name: "example", Environ: []string{"AWS_REGION=us-east-1"}}), fxpubsub.Module, fx.Populate(&p))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestModuleNamedComponents(t *testing.T) {
	type named struct {
		fx.In
		Producer   *fxpubsub.Producer        `name:"sns_producer"`
		Consumer   *fxpubsub.Consumer        `name:"sqs_consumer"`
		Dispatcher *fxpubsub.Dispatcher      `name:"sqs_message_dispatcher"`
		Schemas    *fxpubsub.SchemaRegistry  `name:"pubsub_message_schema_registry"`
		Handlers   *fxpubsub.HandlerRegistry `name:"sqs_message_handler_registry"`
	}
	var got named
	var unnamed *fxpubsub.Producer
	fxtest.New(t, fxconfig.ForTesting("example", nil), fxpubsub.Module, fx.Populate(&got, &unnamed)).RequireStart().RequireStop()
	if got.Producer == nil || got.Producer != unnamed || got.Consumer == nil || got.Dispatcher == nil || got.Schemas == nil || got.Handlers == nil {
		t.Fatalf("named components missing: %+v", got)
	}
}

func TestModuleDeferredBatchSizeFromConfig(t *testing.T) {
	const batchTopic = "arn:aws:sns:us-east-1:000000000000:batches"
	values := map[string]any{
		"sns_producer":   map[string]any{"deferred_batch_size": "2"},
		"sns_topic_arns": map[string]any{"mappings": map[string]any{fxpubsub.BatchMessageMediaType: batchTopic}},
	}
	app := pubsubtest.New(t, "example", values)
	err := app.Producer.DeferredBatch(context.Background(), func(ctx context.Context, d *fxpubsub.Deferred) error {
		for i := range 5 {
			if err := d.Produce(ctx, orderMT, orderCreated{URI: "https://orders/b", OrderID: strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 5 messages in blocks of 2: two batch messages and one message published directly.
	if got := len(app.Recorder.ByMediaType(fxpubsub.BatchMessageMediaType)); got != 2 {
		t.Fatalf("batch messages = %d, want 2: %v", got, app.Recorder.Published())
	}
	if got := len(app.Recorder.ByMediaType(orderMT)); got != 1 {
		t.Fatalf("direct messages = %d, want 1", got)
	}
}

// Module bundles fxconfig.Module and fxsentry.Module: adding either again is an error, and Core is
// the way to compose them by hand.
func TestModuleBundlesConfigAndSentry(t *testing.T) {
	for name, extra := range map[string]fx.Option{"fxconfig": fxconfig.Module, "fxsentry": fxsentry.Module} {
		app := fx.New(fx.NopLogger, fxconfig.ForTesting("example", nil), fxpubsub.Module, extra)
		if err := app.Err(); err == nil || !strings.Contains(err.Error(), "already provided") {
			t.Errorf("%s next to Module: got %v, want an \"already provided\" error", name, err)
		}
	}
	var p *fxpubsub.Producer
	app := fx.New(fx.NopLogger, fxconfig.ForTesting("example", nil), fxconfig.Module, fxsentry.Module, fxpubsub.Core, fx.Populate(&p))
	if err := app.Err(); err != nil || p == nil {
		t.Fatalf("Core with the modules composed by hand: %v", err)
	}
}
