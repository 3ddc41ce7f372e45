package fxsentry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxsentry"
)

func enabledConfig(dsn string) fxsentry.Config {
	cfg := fxsentry.DefaultConfig()
	cfg.Enabled = true
	cfg.DSN = dsn
	cfg.Environment = "test-env"
	cfg.Release = "test-release"
	cfg.ServerName = "orders_daemon"
	return cfg
}

func newReporter(t *testing.T, cfg fxsentry.Config, opts fxsentry.Options) *fxsentry.Reporter {
	t.Helper()
	r, err := fxsentry.NewReporter(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

type orderError struct{ id string }

func (e *orderError) Error() string { return "order " + e.id + " is broken" }

func TestReporterSendsFailure(t *testing.T) {
	srv := newSentryServer(t)
	r := newReporter(t, enabledConfig(srv.DSN()), fxsentry.Options{})
	if !r.Enabled() || r.Hub() == nil || r.Hub() == sentry.CurrentHub() {
		t.Fatal("an enabled reporter has its own hub")
	}
	err := fmt.Errorf("handle order: %w", &orderError{id: "42"})
	id := r.Report(context.Background(), fxsentry.Failure{
		Err:       err,
		MediaType: "application/vnd.globality.pubsub._.created.order",
		Opaque: map[string]any{
			"x-request-id": "req-1", "message_id": "m-1", "uri": "https://orders/42",
			"handler": "orders.Handle", "x-request-user": json.RawMessage("7"), "span_name": "span-a", "other": "x",
		},
	})
	if id == nil {
		t.Fatal("Report returned no event id")
	}
	e := srv.wait(t, 1, 10*time.Second)[0]
	if e.str("event_id") != string(*id) || e.str("level") != "error" || e.str("environment") != "test-env" ||
		e.str("release") != "test-release" || e.str("server_name") != "orders_daemon" || e.str("transaction") != "orders.Handle" {
		t.Errorf("event header fields: %v", e)
	}
	want := map[string]string{
		"x-request-id": "req-1", "message-id": "m-1", "uri": "https://orders/42", "handler": "orders.Handle",
		"media-type": "application/vnd.globality.pubsub._.created.order", "span": "span-a",
	}
	if got := e.tags(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	if e.str("user", "id") != "7" { // a JSON number in the opaque data, as its JSON text
		t.Errorf("user = %v", e["user"])
	}
	ex := e.exception()
	if ex["type"] != "*fmt.wrapError" || ex["value"] != "handle order: order 42 is broken" {
		t.Errorf("outermost exception = %v", ex)
	}
	if ex["stacktrace"] != nil {
		t.Errorf("a plain error must not carry the reporter's own stack: %v", ex["stacktrace"])
	}
	values := e.exceptions()
	if len(values) != 2 || values[0].(map[string]any)["type"] != "*fxsentry_test.orderError" {
		t.Errorf("exception chain = %v", values)
	}
}

func TestReporterCustomMappingAndUser(t *testing.T) {
	srv := newSentryServer(t)
	cfg := enabledConfig(srv.DSN())
	cfg.CustomTagsMapping = map[string]string{"X-Tenant": "tenant", "uri": ""}
	cfg.CustomUserID = "X-Account-Id"
	r := newReporter(t, cfg, fxsentry.Options{})
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("boom"), Opaque: map[string]any{
		"X-Tenant": "acme", "uri": "https://orders/1", "x-account-id": "acct-3", "x-request-user": "ignored",
	}})
	e := srv.wait(t, 1, 10*time.Second)[0]
	if got := e.tags(); got["tenant"] != "acme" || got["uri"] != "" {
		t.Errorf("tags = %v", got)
	}
	if e.str("user", "id") != "acct-3" {
		t.Errorf("user = %v", e["user"])
	}
}

// panicStack returns the stack a recovered panic carries (as fxpubsub's PanicError does).
func panicStack() (stack []byte) {
	defer func() {
		if recover() != nil {
			stack = debug.Stack()
		}
	}()
	explode()
	return nil
}

//go:noinline
func explode() { panic("kaboom") }

func TestReporterPanicStackAndExpiredLevel(t *testing.T) {
	srv := newSentryServer(t)
	r := newReporter(t, enabledConfig(srv.DSN()), fxsentry.Options{})
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("panic: kaboom"), Stack: panicStack(),
		Opaque: map[string]any{"x-request-id": "panic"}})
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("ttl expired"), Level: sentry.LevelWarning,
		Opaque: map[string]any{"x-request-id": "expired"}})
	events := byTag(srv.wait(t, 2, 10*time.Second), "x-request-id")

	p := events["panic"]
	ex := p.exception()
	frames, _ := ex["stacktrace"].(map[string]any)["frames"].([]any)
	if len(frames) == 0 {
		t.Fatalf("panic event has no stack: %v", ex)
	}
	top := frames[len(frames)-1].(map[string]any)
	if top["function"] != "explode" || !strings.HasSuffix(top["module"].(string), "fxsentry_test") || top["lineno"] == nil {
		t.Errorf("newest frame = %v, want explode", top)
	}
	for _, f := range frames {
		if m := f.(map[string]any)["module"]; m == "runtime" || m == "runtime/debug" {
			t.Errorf("runtime frame kept: %v", f)
		}
	}
	if mech, _ := ex["mechanism"].(map[string]any); mech == nil || mech["handled"] != false {
		t.Errorf("a panic is unhandled: mechanism = %v", ex["mechanism"])
	}
	if p.str("level") != "error" || events["expired"].str("level") != "warning" {
		t.Errorf("levels: panic %q, expired %q", p.str("level"), events["expired"].str("level"))
	}
}

func TestReporterScopesDoNotLeak(t *testing.T) {
	srv := newSentryServer(t)
	r := newReporter(t, enabledConfig(srv.DSN()), fxsentry.Options{})
	// A breadcrumb on the reporter's hub reaches every event, through the strict filter.
	r.Hub().AddBreadcrumb(&sentry.Breadcrumb{Message: "started", Data: map[string]any{"order_id": "9", "card": "4111"}}, nil)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := strconv.Itoa(i)
			r.Report(context.Background(), fxsentry.Failure{Err: errors.New("fail " + id), Opaque: map[string]any{
				"x-request-id": "req-" + id, "message_id": "msg-" + id, "x-request-user": "user-" + id,
			}})
		})
	}
	wg.Wait()
	events := srv.wait(t, n, 20*time.Second)
	for _, e := range events {
		id := strings.TrimPrefix(e.exception()["value"].(string), "fail ")
		tags := e.tags()
		if tags["x-request-id"] != "req-"+id || tags["message-id"] != "msg-"+id || e.str("user", "id") != "user-"+id || len(tags) != 2 {
			t.Errorf("event for %s has tags %v, user %v", id, tags, e["user"])
		}
		crumbs := e.list("breadcrumbs")
		if len(crumbs) != 1 {
			t.Errorf("breadcrumbs = %v", e["breadcrumbs"])
			continue
		}
		if data := crumbs[0].(map[string]any)["data"].(map[string]any); data["order_id"] != "9" || data["card"] != fxsentry.Redacted {
			t.Errorf("breadcrumb data = %v", data)
		}
	}
	if len(byTag(events, "x-request-id")) != n {
		t.Errorf("got %d distinct request ids, want %d", len(byTag(events, "x-request-id")), n)
	}
}

func TestReporterDisabled(t *testing.T) {
	for _, r := range []*fxsentry.Reporter{nil, newReporter(t, fxsentry.Config{DSN: "not even a dsn"}, fxsentry.Options{})} {
		if r.Enabled() || r.Hub() != nil {
			t.Error("disabled reporter looks enabled")
		}
		if id := r.Report(context.Background(), fxsentry.Failure{Err: errors.New("x")}); id != nil {
			t.Error("disabled reporter reported")
		}
		if err := r.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

func TestNewReporterRejectsBadConfig(t *testing.T) {
	_, err := fxsentry.NewReporter(fxsentry.Config{Enabled: true}, fxsentry.Options{})
	if err == nil || !strings.Contains(err.Error(), "sentry_logging_pubsub.dsn: is required") {
		t.Fatalf("got %v", err)
	}
}

// A Sentry that never answers must not hold up stopping beyond the flush timeout.
func TestReporterCloseIsBoundedWhenSentryHangs(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := newSentryServer(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	cfg := enabledConfig(srv.DSN())
	cfg.FlushTimeout = 100 * time.Millisecond
	r, err := fxsentry.NewReporter(cfg, fxsentry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("x")})
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("event never reached the server")
	}
	start := time.Now()
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Close took %s with a hanging Sentry", took)
	}
}

func BenchmarkReportDisabled(b *testing.B) {
	r, err := fxsentry.NewReporter(fxsentry.DefaultConfig(), fxsentry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	f := fxsentry.Failure{Err: errors.New("x"), Opaque: map[string]any{"x-request-id": "r"}}
	b.ReportAllocs()
	for b.Loop() {
		r.Report(ctx, f)
	}
}
