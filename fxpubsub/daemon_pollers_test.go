package fxpubsub_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// blockingHandler reports each message it starts on entered and returns when release closes.
type blockingHandler struct {
	entered chan string
	release chan struct{}
}

func newBlockingHandler() *blockingHandler {
	return &blockingHandler{entered: make(chan string, 16), release: make(chan struct{})}
}

func (h *blockingHandler) Handle(_ context.Context, c *orderCreated) error {
	h.entered <- c.OrderID
	<-h.release
	return nil
}

func (h *blockingHandler) await(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-h.entered:
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d of %d messages reached the handler", i, n)
		}
	}
}

// startBlocking starts a daemon with opts whose handler is a blockingHandler.
func startBlocking(t *testing.T, opts fxpubsub.DaemonOptions) (*rig, *blockingHandler, *fxpubsub.Daemon) {
	t.Helper()
	r := newRig(t, awstest.Memory(t), awstest.PipelineOptions{Raw: true})
	h := newBlockingHandler()
	reg, err := fxpubsub.NewRegistration[orderCreated](orderMT, h)
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, r, []fxpubsub.Registration{reg}, opts)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, h, d
}

func produceOrders(t *testing.T, r *rig, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := r.producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDaemonPollers: Pollers 2 runs two pollers, each with its own worker pool: with one worker
// each, two messages are handled at once. Stats and Heartbeats cover both.
func TestDaemonPollers(t *testing.T) {
	r, h, d := startBlocking(t, fxpubsub.DaemonOptions{Pollers: 2, Receivers: 1, Concurrency: 1})
	produceOrders(t, r, "1", "2")
	h.await(t, 2) // one worker per poller: both pollers hold a message
	if s := d.Stats(); s.Busy != 2 || s.InFlight != 2 {
		t.Errorf("stats %+v, want 2 busy workers and 2 messages in flight over the two pollers", s)
	}
	beats := d.Heartbeats()
	if len(beats) != 2 || beats[0].Poller != 1 || beats[1].Poller != 2 {
		t.Fatalf("heartbeats %+v, want pollers 1 and 2", beats)
	}
	for _, b := range beats {
		if b.Err != nil || b.Since > 20*time.Second {
			t.Errorf("poller %d: %+v, want healthy and recent", b.Poller, b)
		}
	}
	close(h.release)
	waitFor(t, 20*time.Second, "both messages handled", func() bool { return d.Stats().Handled == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Healthy(); err == nil || !strings.Contains(err.Error(), "poller 1") || !strings.Contains(err.Error(), "poller 2") {
		t.Errorf("after stop: %v, want both pollers unhealthy", err)
	}
}

// TestDaemonHealthThreshold: with a heartbeat threshold, a poller that shows no sign of life for
// longer (its only worker stuck, so it cannot receive) is unhealthy, and healthy again once it
// moves.
func TestDaemonHealthThreshold(t *testing.T) {
	r, h, d := startBlocking(t, fxpubsub.DaemonOptions{Receivers: 1, Concurrency: 1, HealthThreshold: 300 * time.Millisecond})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	}()
	produceOrders(t, r, "stuck")
	h.await(t, 1)
	waitFor(t, 10*time.Second, "the stuck poller to turn unhealthy", func() bool {
		err := d.Healthy()
		return err != nil && strings.Contains(err.Error(), "no sign of life") && strings.Contains(err.Error(), "heartbeat threshold 300ms")
	})
	close(h.release)
	waitFor(t, 10*time.Second, "the poller to be healthy again", func() bool { return d.Healthy() == nil })
}

// createdOrderHandler is named by its type, as the original names handler classes.
type createdOrderHandler struct {
	mu      sync.Mutex
	handler []string // the opaque "handler" each message saw
}

func (h *createdOrderHandler) Handle(ctx context.Context, _ *orderCreated) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handler = append(h.handler, fxpubsub.OpaqueFrom(ctx).Get("handler"))
	return nil
}

// TestDaemonLogsHandlersAndBatches: the original's start-up listing, one "Handling: <media type>
// with handler: <name>" line per handler, with the titleized type name that the opaque "handler"
// key also carries; and its debug "Completed batch" line per receive batch.
func TestDaemonLogsHandlersAndBatches(t *testing.T) {
	r := newRig(t, awstest.Memory(t), awstest.PipelineOptions{Raw: true})
	core, logs := observer.New(zapcore.DebugLevel)
	h := &createdOrderHandler{}
	reg, err := fxpubsub.NewRegistration[orderCreated](orderMT, h)
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, r, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Pollers: 2, Receivers: 1, Logger: zap.New(core)})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	produceOrders(t, r, "1", "2", "3")
	waitFor(t, 20*time.Second, "three messages in completed batches", func() bool {
		n := 0
		for _, e := range logs.FilterMessageSnippet("Completed batch: Message count: ").All() {
			n += int(e.ContextMap()["message_count"].(int64))
		}
		return n == 3
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	listing := logs.FilterMessageSnippet("Handling: ").All()
	want := "Handling: " + orderMT + " with handler: Created Order Handler"
	if len(listing) != 1 || listing[0].Message != want || listing[0].Level != zapcore.InfoLevel {
		t.Errorf("start-up listing %v, want one info line %q", listing, want)
	}
	for _, e := range logs.FilterMessageSnippet("Completed batch").All() {
		n, ms := e.ContextMap()["message_count"], e.ContextMap()["elapsed_time"]
		if e.Level != zapcore.DebugLevel || !strings.HasPrefix(e.Message, "Completed batch: Message count: ") || !strings.Contains(e.Message, ", elapsed_time: ") || ms == nil {
			t.Errorf("batch line %q (count %v, elapsed %v), want the original's debug line", e.Message, n, ms)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.handler) != 3 || h.handler[0] != "Created Order Handler" {
		t.Errorf("opaque handler %v, want Created Order Handler for each", h.handler)
	}
}
