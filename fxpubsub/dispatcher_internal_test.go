package fxpubsub

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// logFieldCount sizes the result line's field slice: never smaller than what log writes (the
// slice would be reallocated), and at most one larger (the stack trace only panics have), for
// every kind of result, with and without a span.
func TestLogFieldCount(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	d := &Dispatcher{opts: DispatcherOptions{Logger: zap.New(core)}}
	m := &Message{MediaType: orderMT, MessageID: "m-1"}
	_, noopSpan := tracenoop.NewTracerProvider().Tracer("t").Start(context.Background(), "x")
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, span := tp.Tracer("t").Start(context.Background(), "x")
	defer span.End()
	stack := &PanicError{Value: "boom", Stack: []byte("goroutine 1")}
	for name, r := range map[string]Result{
		"succeeded":  {Type: Succeeded},
		"skipped":    {Type: Skipped, Reason: "r"},
		"retried":    {Type: Retried, Reason: "later", Extra: map[string]any{"k": 1}},
		"failed":     {Type: Failed, Err: errors.New("boom")},
		"panic":      {Type: Failed, Err: stack, Reason: "r", Extra: map[string]any{"k": 1}},
		"ignored":    {Type: Ignored, Reason: "no handler", Err: errors.New("unbound")},
		"expired":    {Type: Expired, Reason: "ttl"},
		"failed+ext": {Type: Failed, Err: errors.New("x"), Extra: map[string]any{"a": 1}},
	} {
		for _, sp := range []trace.Span{nil, noopSpan, span} {
			logs.TakeAll()
			d.log(context.Background(), m, r, sp)
			entries := logs.TakeAll()
			if len(entries) != 1 {
				t.Fatalf("%s: %d entries", name, len(entries))
			}
			written := len(entries[0].Context)
			if got := logFieldCount(r, sp); got < written || got > written+1 {
				t.Errorf("%s (span %v): logFieldCount = %d, log wrote %d fields", name, sp != nil, got, written)
			}
		}
	}
}

// The result line keeps the original's wording; for handled media types it is built once.
func TestResultLine(t *testing.T) {
	reg, err := NewRegistration[orderCreated](orderMT, HandlerFunc[orderCreated](func(context.Context, *orderCreated) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := NewHandlerRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(hr, DispatcherOptions{})
	for r := Succeeded; r <= Failed; r++ {
		for _, mt := range []string{orderMT, "application/vnd.globality.pubsub._.created.unhandled"} {
			if got, want := d.line(mt, r), "Result for media type: "+mt+" was : "+r.String(); got != want {
				t.Errorf("line(%s, %v) = %q, want %q", mt, r, got, want)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = d.line(orderMT, Failed) }); n != 0 {
		t.Errorf("line allocates %v times for a handled media type", n)
	}
}
