package fxsentry_test

// End to end: the consumer daemon on the in-memory backend, a failing handler, and a real
// sentry-go client sending to a loopback Sentry.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// sentryWiring is what these tests add to fxpubsub.Module: nothing, since the module bundles
// fxsentry.Module and registers the reporter's hook itself.
func sentryWiring() fx.Option { return fx.Options() }

type sentryOrder struct {
	URI    string `json:"uri" validate:"required"`
	Action string `json:"action"`
}

var sentryOrderMT = fxpubsub.Created("SentryOrder")

func handleSentryOrder(_ context.Context, o *sentryOrder) error {
	switch o.Action {
	case "fail":
		return fmt.Errorf("charge %s: %w", o.URI, errCardDeclined)
	case "panic":
		var m map[string]int
		//lint:ignore SA5000 the point: a runtime error (assignment to entry in nil map) inside a handler
		m[o.URI]++
	}
	return nil
}

var errCardDeclined = errors.New("card declined")

// handled counts results by request id, for tests that must know a message was handled.
type handled struct {
	mu      sync.Mutex
	results map[string]fxpubsub.ResultType
	changed chan struct{}
}

func newHandled() *handled {
	return &handled{results: map[string]fxpubsub.ResultType{}, changed: make(chan struct{}, 1)}
}

func (h *handled) hook(ctx context.Context, _ *fxpubsub.Message, r fxpubsub.Result) {
	h.mu.Lock()
	h.results[fxpubsub.OpaqueFrom(ctx).Get("x-request-id")] = r.Type
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *handled) wait(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		n := 0
		for _, id := range ids {
			if _, ok := h.results[id]; ok {
				n++
			}
		}
		h.mu.Unlock()
		if n == len(ids) {
			return
		}
		select {
		case <-h.changed:
		case <-deadline.C:
			t.Fatalf("messages %v not all handled", ids)
		}
	}
}

func newConsumerApp(t *testing.T, values map[string]any, populate ...any) *fxtest.App {
	t.Helper()
	values["sqs_consumer"] = map[string]any{"wait_seconds": 1}
	return fxtest.New(t,
		fxconfig.ForTesting("orders", values),
		fxpubsub.Module,
		sentryWiring(),
		fxpubsub.AsHandlerFunc(sentryOrderMT, handleSentryOrder),
		fxpubsub.RunConsumer(),
		fx.Populate(populate...),
	)
}

func publish(t *testing.T, p *fxpubsub.Producer, opaque fxpubsub.Opaque, o sentryOrder) {
	t.Helper()
	if _, err := p.Produce(fxpubsub.WithOpaque(context.Background(), opaque), sentryOrderMT, o); err != nil {
		t.Fatal(err)
	}
}

func TestDaemonReportsFailedAndExpiredMessages(t *testing.T) {
	srv := newSentryServer(t)
	var (
		producer *fxpubsub.Producer
		reporter *fxsentry.Reporter
	)
	values := sentryValues(srv.DSN())
	values["sentry_logging_pubsub"].(map[string]any)["custom_tags_mapping"] = map[string]any{"x-tenant": "tenant"}
	app := newConsumerApp(t, values, &producer, &reporter)
	app.RequireStart()
	// Data on the reporter's scope reaches every event, through the strict default before_send.
	reporter.Hub().Scope().SetContext("order", sentry.Context{"card": "4111 1111", "order_id": "o-9"})

	var wg sync.WaitGroup
	for _, m := range []struct {
		opaque fxpubsub.Opaque
		order  sentryOrder
	}{
		{fxpubsub.Opaque{"x-request-id": "req-fail", "x-request-user": "user-a", "x-tenant": "acme"}, sentryOrder{URI: "https://orders/1", Action: "fail"}},
		{fxpubsub.Opaque{"x-request-id": "req-panic", "x-request-user": "user-b"}, sentryOrder{URI: "https://orders/2", Action: "panic"}},
		{fxpubsub.Opaque{"x-request-id": "req-ok", "x-request-user": "user-c"}, sentryOrder{URI: "https://orders/3"}},
		{fxpubsub.Opaque{"x-request-id": "req-expired", "x-request-ttl": "1"}, sentryOrder{URI: "https://orders/4"}},
	} {
		wg.Go(func() { publish(t, producer, m.opaque, m.order) })
	}
	wg.Wait()
	srv.wait(t, 3, 20*time.Second)
	app.RequireStop()

	events := srv.Events()
	got := byTag(events, "x-request-id")
	if len(events) != 3 || len(got) != 3 {
		t.Fatalf("got %d events for %d requests, want FAILED, FAILED (panic) and EXPIRED only", len(events), len(got))
	}

	fail := got["req-fail"]
	tags := fail.tags()
	if tags["message-id"] == "" || tags["media-type"] != sentryOrderMT || tags["handler"] != "Handle Sentry Order" ||
		tags["uri"] != "https://orders/1" || tags["tenant"] != "acme" || tags["span"] != "" {
		t.Errorf("failed message tags = %v", tags)
	}
	if fail.str("user", "id") != "user-a" || fail.str("level") != "error" || fail.str("release") != "test-sha" || fail.str("server_name") != "orders_daemon" {
		t.Errorf("failed message event = %v", fail)
	}
	if ex := fail.exception(); ex["value"] != "charge https://orders/1: card declined" || len(fail.exceptions()) != 2 {
		t.Errorf("exception = %v", fail.exceptions())
	}
	order := fail["contexts"].(map[string]any)["order"].(map[string]any)
	if order["card"] != fxsentry.Redacted || order["order_id"] != "o-9" {
		t.Errorf("order context = %v, want card redacted and order_id kept", order)
	}

	p := got["req-panic"]
	if p.str("user", "id") != "user-b" || p.tags()["tenant"] != "" || p.tags()["uri"] != "https://orders/2" {
		t.Errorf("panic event leaked or lost data: tags %v user %v", p.tags(), p["user"])
	}
	ex := p.exception()
	if !strings.Contains(ex["value"].(string), "assignment to entry in nil map") || ex["mechanism"].(map[string]any)["handled"] != false {
		t.Errorf("panic exception = %v", ex)
	}
	frames := ex["stacktrace"].(map[string]any)["frames"].([]any)
	if top := frames[len(frames)-1].(map[string]any); top["function"] != "handleSentryOrder" {
		t.Errorf("panic stack ends in %v, want the handler", top)
	}

	if e := got["req-expired"]; e.str("level") != "warning" || !strings.Contains(e.exception()["value"].(string), "ttl expired") {
		t.Errorf("expired event = %v", e)
	}
}

func TestDaemonSendsNothingWhenDisabled(t *testing.T) {
	srv := newSentryServer(t)
	var (
		producer *fxpubsub.Producer
		reporter *fxsentry.Reporter
	)
	h := newHandled()
	// A DSN but not enabled: nothing is sent, and no hook runs.
	values := map[string]any{"sentry_logging_pubsub": map[string]any{"dsn": srv.DSN()}}
	app := fxtest.New(t,
		fxconfig.ForTesting("orders", values),
		fxpubsub.Module, sentryWiring(),
		fxpubsub.AsResultHook(func() fxpubsub.ResultHook { return h.hook }),
		fxpubsub.AsHandlerFunc(sentryOrderMT, handleSentryOrder),
		fxpubsub.RunConsumer(),
		fx.Populate(&producer, &reporter),
	)
	app.RequireStart()
	publish(t, producer, fxpubsub.Opaque{"x-request-id": "req-fail"}, sentryOrder{URI: "https://orders/1", Action: "fail"})
	publish(t, producer, fxpubsub.Opaque{"x-request-id": "req-panic"}, sentryOrder{URI: "https://orders/2", Action: "panic"})
	h.wait(t, "req-fail", "req-panic")
	app.RequireStop()
	if reporter.Enabled() || fxpubsub.NewSentryHook(reporter) != nil {
		t.Fatal("disabled Sentry must give no hook")
	}
	if n := len(srv.Events()); n != 0 {
		t.Fatalf("disabled Sentry sent %d events", n)
	}
}

// Disabled Sentry costs nothing per message: there is no hook for the dispatcher to run (it drops
// nil hooks, as NewDispatcherFx does below), even for the FAILED results it would report.
func BenchmarkSentryHookDisabled(b *testing.B) {
	r, err := fxsentry.NewReporter(fxsentry.DefaultConfig(), fxsentry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var hooks []fxpubsub.ResultHook
	if h := fxpubsub.NewSentryHook(r); h != nil {
		hooks = append(hooks, h)
	}
	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"x-request-id": "r"})
	m := &fxpubsub.Message{MediaType: sentryOrderMT}
	res := fxpubsub.Result{Type: fxpubsub.Failed, Err: errCardDeclined}
	b.ReportAllocs()
	for b.Loop() {
		for _, h := range hooks {
			h(ctx, m, res)
		}
	}
	if len(hooks) != 0 {
		b.Fatal("a disabled reporter gave a hook")
	}
}

// The enabled hook's cost for the messages it does not report: no allocation, no Sentry call.
func BenchmarkSentryHookSucceeded(b *testing.B) {
	r, err := fxsentry.NewReporter(fxsentry.Config{Enabled: true, DSN: "http://public@127.0.0.1:9/1"}, fxsentry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = r.Close(context.Background()) }()
	hook := fxpubsub.NewSentryHook(r)
	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"x-request-id": "r"})
	m := &fxpubsub.Message{MediaType: sentryOrderMT}
	res := fxpubsub.Result{Type: fxpubsub.Succeeded}
	b.ReportAllocs()
	for b.Loop() {
		hook(ctx, m, res)
	}
}
