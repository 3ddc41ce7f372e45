package pubsubtest_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
)

const timeout = 10 * time.Second

type orderCreated struct {
	URI     string `json:"uri" validate:"required"`
	OrderID string `json:"order_id" validate:"required"`
	Items   int    `json:"items"`
}

type shipmentCreated struct {
	URI   string `json:"uri" validate:"required"`
	Order string `json:"order"`
}

var (
	orderMT    = fxpubsub.Created("Order")
	shipmentMT = fxpubsub.Created("Shipment")
)

// orderHandler is the handler under test: it publishes a shipment for each order, and refuses
// orders without items.
type orderHandler struct{ producer *fxpubsub.Producer }

func newOrderHandler(p *fxpubsub.Producer) *orderHandler { return &orderHandler{producer: p} }

func (h *orderHandler) Handle(ctx context.Context, c *orderCreated) error {
	if c.Items == 0 {
		return errors.New("order has no items")
	}
	_, err := h.producer.Produce(ctx, shipmentMT, shipmentCreated{URI: c.URI + "/shipment", Order: c.OrderID})
	return err
}

// orders is the app module under test.
var orders = fx.Options(
	fxpubsub.AsHandler[orderCreated](orderMT, newOrderHandler),
	fxpubsub.AsHandlerFunc(shipmentMT, func(context.Context, *shipmentCreated) error { return nil }),
)

func TestOptionsRecordsAndDelivers(t *testing.T) {
	var (
		producer *fxpubsub.Producer
		rec      *pubsubtest.Recorder
		results  *pubsubtest.Results
	)
	app := fxtest.New(t, pubsubtest.Options("orders", nil), orders, fxpubsub.RunConsumer(), fx.Populate(&producer, &rec, &results))
	app.RequireStart()
	defer app.RequireStop()

	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"X-Request-Id": "req-1"})
	id, err := producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/1", OrderID: "1", Items: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Results come in the order handling finished: the shipment's handler may finish before the
	// order's handler, which published it, has returned.
	results.Wait(t, 2, timeout)
	if got := results.ByMediaType(orderMT); len(got) != 1 || got[0].SNSMessageID != id || got[0].Result.Type != fxpubsub.Succeeded {
		t.Errorf("handled orders = %v", got)
	}
	if got := results.ByMediaType(shipmentMT); len(got) != 1 || got[0].Result.Type != fxpubsub.Succeeded {
		t.Errorf("handled shipments = %v", got)
	}
	pubsubtest.AssertPublished(t, rec,
		pubsubtest.All(pubsubtest.HasMediaType(orderMT), pubsubtest.HasURI("https://orders/1"), pubsubtest.HasField("items", 2)),
		pubsubtest.All(pubsubtest.HasMediaType(shipmentMT), pubsubtest.HasField("order", "1"),
			pubsubtest.HasOpaque("x-request-id", "req-1"), pubsubtest.HasOpaque("x-request-ttl", "31")),
	)
	p := rec.Published()[0]
	if p.MessageID != id || p.TopicARN == "" || p.Attributes[fxpubsub.MediaTypeAttribute] != orderMT || p.URI() != "https://orders/1" {
		t.Errorf("recorded %+v", p)
	}
	if _, ok := p.Content["mediaType"]; ok {
		t.Errorf("content keeps mediaType: %v", p.Content)
	}
	if _, ok := p.Content["opaqueData"]; ok {
		t.Errorf("content keeps opaqueData: %v", p.Content)
	}
	if p.Opaque.Get(fxpubsub.OpaquePublished) == "" {
		t.Errorf("opaque lacks x-request-published: %v", p.Opaque)
	}
}

func TestOptionsProducerOnlyApp(t *testing.T) {
	var (
		producer *fxpubsub.Producer
		rec      *pubsubtest.Recorder
	)
	app := fxtest.New(t, pubsubtest.Options("orders", nil), fx.Populate(&producer, &rec))
	app.RequireStart()
	defer app.RequireStop()
	pubsubtest.AssertNothingPublished(t, rec)
	if _, err := producer.Produce(context.Background(), orderMT, map[string]any{"uri": "https://orders/2"}); err != nil {
		t.Fatal(err)
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasURI("https://orders/2"))
}

func TestOptionsRecordsBatchAndDeferred(t *testing.T) {
	var (
		producer *fxpubsub.Producer
		rec      *pubsubtest.Recorder
	)
	app := fxtest.New(t, pubsubtest.Options("orders", nil), orders, fx.Populate(&producer, &rec))
	app.RequireStart()
	defer app.RequireStop()
	ctx := context.Background()

	results, err := producer.ProduceBatch(ctx, []fxpubsub.Outgoing{
		{MediaType: orderMT, Content: orderCreated{URI: "https://orders/a", OrderID: "a"}},
		{MediaType: orderMT, Content: orderCreated{URI: "https://orders/b"}}, // invalid: no order_id
		{MediaType: shipmentMT, Content: shipmentCreated{URI: "https://shipments/c"}},
	})
	if err == nil || results[1].Err == nil {
		t.Fatalf("want the invalid entry to fail, got %v", err)
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasURI("https://orders/a"), pubsubtest.HasURI("https://shipments/c"))
	if got := rec.Published(); got[0].MessageID != results[0].MessageID || got[1].MessageID != results[2].MessageID {
		t.Errorf("batch message ids: recorded %q %q, produced %q %q", got[0].MessageID, got[1].MessageID, results[0].MessageID, results[2].MessageID)
	}

	rec.Reset()
	err = producer.Deferred(ctx, func(ctx context.Context, d *fxpubsub.Deferred) error {
		if err := d.Produce(ctx, orderMT, orderCreated{URI: "https://orders/d", OrderID: "d"}); err != nil {
			return err
		}
		pubsubtest.AssertNothingPublished(t, rec) // nothing until the unit of work succeeds
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasURI("https://orders/d"))
}

func TestOptionsValues(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   int
	}{
		{"nil values", nil, pubsubtest.TestWaitSeconds},
		{"other consumer keys", map[string]any{"sqs_consumer": map[string]any{"limit": 5}}, pubsubtest.TestWaitSeconds},
		{"typed section map", map[string]any{"sqs_consumer": map[string]int{"limit": 5}}, pubsubtest.TestWaitSeconds},
		{"nested", map[string]any{"sqs_consumer": map[string]any{"wait_seconds": 3}}, 3},
		{"dotted", map[string]any{"sqs_consumer.wait_seconds": 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg fxpubsub.Config
			fxtest.New(t, pubsubtest.Options("orders", tt.values), fx.Populate(&cfg)).RequireStart().RequireStop()
			if cfg.Consumer.WaitSeconds != tt.want {
				t.Errorf("wait_seconds = %d, want %d", cfg.Consumer.WaitSeconds, tt.want)
			}
		})
	}
	// The caller's map is not modified.
	values := map[string]any{"sqs_consumer": map[string]any{"limit": 5}}
	fxtest.New(t, pubsubtest.Options("orders", values)).RequireStart().RequireStop()
	if sec := values["sqs_consumer"].(map[string]any); len(values) != 1 || len(sec) != 1 {
		t.Errorf("values modified: %v", values)
	}
}

// countingSNS counts publishes; an app's own decoration of the backend.
type countingSNS struct {
	fxpubsub.SNSClient
	n *atomic.Int32
}

func (c countingSNS) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	c.n.Add(1)
	return c.SNSClient.Publish(ctx, in, optFns...)
}

func TestOptionsAppMayDecorateBackend(t *testing.T) {
	var n atomic.Int32
	var (
		producer *fxpubsub.Producer
		rec      *pubsubtest.Recorder
	)
	app := fxtest.New(t,
		pubsubtest.Options("orders", nil),
		fx.Decorate(func(b *fxpubsub.Backend) *fxpubsub.Backend {
			c := *b
			c.SNS = countingSNS{SNSClient: b.SNS, n: &n}
			return &c
		}),
		fx.Populate(&producer, &rec),
	)
	app.RequireStart()
	defer app.RequireStop()
	if _, err := producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders/3", OrderID: "3"}); err != nil {
		t.Fatal(err)
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasURI("https://orders/3"))
	if n.Load() != 1 {
		t.Errorf("app decorator saw %d publishes, want 1", n.Load())
	}
}

func TestAppHandle(t *testing.T) {
	app := pubsubtest.New(t, "orders", nil, orders)
	ctx := context.Background()

	h := app.Handle(ctx, orderMT, orderCreated{URI: "https://orders/4", OrderID: "4", Items: 1})
	if h.Result.Type != fxpubsub.Succeeded {
		t.Fatalf("result = %v", h)
	}
	if c, ok := h.Content.(*orderCreated); !ok || c.OrderID != "4" {
		t.Errorf("content = %#v", h.Content)
	}
	if h.MessageID == "" || h.MessageID == h.SNSMessageID || h.TopicARN == "" || h.ReceiveCount != 1 {
		t.Errorf("handled = %+v", h)
	}
	if h.Opaque.Get(fxpubsub.OpaqueTTL) != "31" || h.Opaque.Get(fxpubsub.OpaqueMessageID) != h.MessageID || h.Opaque.Get(fxpubsub.OpaqueHandler) == "" {
		t.Errorf("handler opaque = %v", h.Opaque)
	}
	// The shipment the handler published is recorded by the time Handle returns.
	pubsubtest.AssertPublished(t, app.Recorder,
		pubsubtest.HasMediaType(orderMT),
		pubsubtest.All(pubsubtest.HasMediaType(shipmentMT), pubsubtest.HasURI("https://orders/4/shipment")),
	)

	app.Recorder.Reset()
	h = app.Handle(ctx, orderMT, orderCreated{URI: "https://orders/5", OrderID: "5"})
	if h.Result.Type != fxpubsub.Failed || h.Result.Err == nil || h.Result.Err.Error() != "order has no items" {
		t.Fatalf("result = %v", h)
	}
	pubsubtest.AssertPublished(t, app.Recorder, pubsubtest.HasURI("https://orders/5"))

	if got := app.Results.ByMediaType(shipmentMT); len(got) != 1 {
		// Handled asynchronously: wait for it rather than assume.
		app.Results.WaitFor(t, shipmentMT, timeout)
	}
}

func TestAppWaitAndPublish(t *testing.T) {
	app := pubsubtest.New(t, "orders", map[string]any{"sqs_message_context": map[string]any{"enable_ttl": false}}, orders)
	ctx := context.Background()
	for _, id := range []string{"6", "7"} {
		if app.Publish(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id, Items: 1}) == "" {
			t.Fatal("no message id")
		}
	}
	got := app.Wait(4) // two orders and their two shipments
	for _, h := range got {
		if h.Result.Type != fxpubsub.Succeeded {
			t.Errorf("handled %v", h)
		}
	}
	pubsubtest.AssertPublishedInAnyOrder(t, app.Recorder,
		pubsubtest.HasURI("https://orders/7"),
		pubsubtest.HasURI("https://orders/6"),
		pubsubtest.HasURI("https://orders/6/shipment"),
		pubsubtest.HasURI("https://orders/7/shipment"),
	)
	if got := app.Results.ByMediaType(shipmentMT); len(got) != 2 {
		t.Errorf("handled shipments = %v", got)
	}
}

// New sends the app's log to the test's log: the consumer's start line and each result line.
func TestAppLogsToTest(t *testing.T) {
	fake := newFakeTB(nil)
	app := pubsubtest.New(fake, "orders", nil, orders)
	h := app.Handle(context.Background(), orderMT, orderCreated{URI: "https://orders/10", OrderID: "10", Items: 1})
	fake.cleanup()
	fake.mu.Lock()
	logged := strings.Join(fake.logged, "\n")
	fake.mu.Unlock()
	for _, want := range []string{`"msg":"consumer started"`, `"message_id":"` + h.MessageID + `"`, `"msg":"consumer stopped"`} {
		if !strings.Contains(logged, want) {
			t.Errorf("the test log lacks %s; it has:\n%s", want, logged)
		}
	}
}

func TestAppHelpersFailTheTest(t *testing.T) {
	fake := newFakeTB(t)
	app := pubsubtest.New(fake, "orders", nil, orders)
	defer fake.cleanup()
	app.Timeout = 50 * time.Millisecond
	ctx := context.Background()

	if id := app.Publish(ctx, orderMT, orderCreated{URI: "https://orders/8"}); id != "" {
		t.Errorf("invalid message published as %q", id)
	}
	requireFailure(t, fake, "produce "+orderMT, "order_id")

	fake = newFakeTB(t)
	app = pubsubtest.New(fake, "orders", map[string]any{"sns_producer": map[string]any{"skip": true}}, orders)
	defer fake.cleanup()
	app.Handle(ctx, orderMT, orderCreated{URI: "https://orders/9", OrderID: "9", Items: 1})
	requireFailure(t, fake, "returned no message id")

	fake = newFakeTB(t)
	app = pubsubtest.New(fake, "orders", nil) // no handlers: nothing waits for anything
	defer fake.cleanup()
	app.Timeout = 50 * time.Millisecond
	if got := app.Wait(1); len(got) != 0 {
		t.Errorf("Wait returned %v", got)
	}
	requireFailure(t, fake, "waited 50ms for 1 handled messages, got 0")
}
