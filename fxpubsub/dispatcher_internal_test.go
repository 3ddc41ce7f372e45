package fxpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	d := &Dispatcher{opts: DispatcherOptions{Logger: zap.New(core)}, resultLog: zap.New(core)}
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

// noopOrderHandlers registers a handler for orderMT that does nothing.
func noopOrderHandlers(t *testing.T) *HandlerRegistry {
	t.Helper()
	reg, err := NewRegistration[orderCreated](orderMT, HandlerFunc[orderCreated](func(context.Context, *orderCreated) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := NewHandlerRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	return hr
}

// The result line keeps the original's wording; for handled media types it is built once.
func TestResultLine(t *testing.T) {
	hr := noopOrderHandlers(t)
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

// The result line keeps its caller when the logger adds callers (looked up once, pointing into
// dispatcher.go), has none when it does not, and logs the same opaque data whether or not the
// handler built its opaque map, case folding included.
func TestResultLineCallerAndOpaque(t *testing.T) {
	hr := noopOrderHandlers(t)
	for _, withCaller := range []bool{true, false} {
		for _, opaque := range []Opaque{
			{"x-request-id": "r-1", "n": json.RawMessage("12"), "message_id": "forged", "x-request-ttl": "5"},
			{"X-Request-Id": "upper", "x-request-id": "lower", "Only-Upper": "u"},
		} {
			core, logs := observer.New(zapcore.InfoLevel)
			var opts []zap.Option
			if withCaller {
				opts = append(opts, zap.AddCaller())
			}
			d := NewDispatcher(hr, DispatcherOptions{Logger: zap.New(core, opts...), EnableTTL: true})
			m := &Message{MediaType: orderMT, MessageID: "m-1", ReceiptHandle: "rh-1", URI: "https://orders/1", Opaque: opaque, Content: &orderCreated{}}
			hctx, r := d.Handle(context.Background(), m)
			d.log(hctx, m, r, nil) // from the message
			if hc := hctx.(*handlerContext); hc.opaqueBuilt.Load() && lowerKeys(opaque) {
				t.Errorf("the result line built the handler's opaque map for %v; it encodes it from the message", opaque)
			}
			built := OpaqueFrom(hctx)
			d.log(hctx, m, r, nil) // from the built map
			entries := logs.TakeAll()
			if len(entries) != 2 {
				t.Fatalf("%d entries, want 2", len(entries))
			}
			for i, e := range entries {
				if e.Caller.Defined != withCaller {
					t.Errorf("entry %d: caller defined %v, want %v", i, e.Caller.Defined, withCaller)
				}
				if withCaller && !strings.HasSuffix(e.Caller.TrimmedPath(), "fxpubsub/dispatcher.go:"+strconv.Itoa(e.Caller.Line)) {
					t.Errorf("entry %d: caller %s, want a line of fxpubsub/dispatcher.go", i, e.Caller.TrimmedPath())
				}
				got, _ := e.ContextMap()["opaque"].(map[string]any)
				want := map[string]any{}
				for k, v := range built {
					if s, ok := v.(string); ok {
						want[k] = s
					} else {
						want[k] = v
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("entry %d (%v): opaque logged %v, want %v", i, opaque, got, want)
				}
			}
			wantTTL := "31" // the initial 32, less this hop
			if _, ok := opaque["x-request-ttl"]; ok {
				wantTTL = "4"
			}
			if built["message_id"] != "m-1" || built["x-request-ttl"] != wantTTL || built["handler"] == "" || built["uri"] != "https://orders/1" {
				t.Errorf("built opaque %v lacks the library's keys", built)
			}
		}
	}
}

// Classifying a handler that returned nil allocates nothing (the errors.As targets, which escape,
// are allocated only for an error).
func TestClassifySuccessAllocs(t *testing.T) {
	hr := noopOrderHandlers(t)
	d := NewDispatcher(hr, DispatcherOptions{})
	reg, _ := hr.Find(orderMT)
	m := &Message{MediaType: orderMT, Content: &orderCreated{}}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _ = d.classify(ctx, m, reg, true, 1) }); n != 0 {
		t.Errorf("classify allocates %v times for a handler that succeeded", n)
	}
	if r := d.classify(ctx, m, reg, true, 1); r.Type != Succeeded {
		t.Errorf("got %v", r.Type)
	}
}
