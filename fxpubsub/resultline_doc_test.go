package fxpubsub_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// TestResultLineFieldsAreDocumented: every field a result line carries (for each kind of result,
// a panic's stack and a handler's extra fields included) is in the README's table of result-line
// fields, so the table cannot fall behind the code.
func TestResultLineFieldsAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)`(?:, `([a-z_]+)`)? \\|").FindAllSubmatch(readme, -1) {
		documented[string(m[1])] = true
		if len(m[2]) > 0 {
			documented[string(m[2])] = true
		}
	}
	for _, base := range []string{"level", "ts", "caller", "msg", "elapsed_time", "retry_timeout_seconds", "stacktrace"} {
		if !documented[base] {
			t.Fatalf("README's result-line table lacks %q (found %v)", base, documented)
		}
	}

	outcomes := map[string]error{
		"succeeded": nil,
		"retried":   &fxpubsub.Nack{Timeout: time.Second, Reason: "later", Extra: map[string]any{"attempt": 2}},
		"skipped":   &fxpubsub.SkipMessage{Reason: "done already", Extra: map[string]any{"k": "v"}},
		"failed":    errors.New("boom"),
	}
	core, logs := observer.New(zapcore.DebugLevel)
	for name, outcome := range outcomes {
		hr, err := fxpubsub.NewHandlerRegistry(mustReg(t, orderMT, func(context.Context, *orderCreated) error { return outcome }))
		if err != nil {
			t.Fatal(err)
		}
		d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{Logger: zap.New(core)})
		d.Dispatch(context.Background(), &fxpubsub.Message{MediaType: orderMT, Content: &orderCreated{OrderID: name}, MessageID: name})
	}
	hr, err := fxpubsub.NewHandlerRegistry(mustReg(t, orderMT, func(context.Context, *orderCreated) error { panic("handler panic") }))
	if err != nil {
		t.Fatal(err)
	}
	fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{Logger: zap.New(core)}).
		Dispatch(context.Background(), &fxpubsub.Message{MediaType: orderMT, Content: &orderCreated{OrderID: "p"}, MessageID: "p"})

	lines := logs.FilterMessageSnippet("Result for media type").All()
	if len(lines) != len(outcomes)+1 {
		t.Fatalf("%d result lines, want %d", len(lines), len(outcomes)+1)
	}
	seen := map[string]bool{}
	for _, e := range lines {
		for k := range e.ContextMap() {
			seen[k] = true
			if !documented[k] {
				t.Errorf("result line field %q is not in the README's table of result-line fields", k)
			}
		}
	}
	for _, k := range []string{"media_type", "result", "elapsed_time", "opaque", "reason", "retry_timeout_seconds", "extra", "error", "stacktrace"} {
		if !seen[k] {
			t.Errorf("no result line carried %q; the test no longer covers it", k)
		}
	}
}

// A message built by hand has nothing to settle it with: its settling methods say so with a
// typed error instead of panicking.
func TestHandBuiltMessageHasNoSettler(t *testing.T) {
	m := &fxpubsub.Message{MediaType: orderMT, MessageID: "by-hand"}
	ctx := context.Background()
	for name, err := range map[string]error{
		"Ack": m.Ack(ctx), "Nack": m.Nack(ctx, time.Second), "NackBackoff": m.NackBackoff(ctx), "Extend": m.Extend(ctx, time.Second),
	} {
		if !errors.Is(err, fxpubsub.ErrNoSettler) {
			t.Errorf("%s: %v, want ErrNoSettler", name, err)
		}
	}
}
