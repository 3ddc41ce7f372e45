package fxpubsub

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// nopSettler settles nothing, so the dispatcher is measured alone.
type nopSettler struct{}

func (nopSettler) Ack(context.Context, *Message) error                   { return nil }
func (nopSettler) Nack(context.Context, *Message, time.Duration) error   { return nil }
func (nopSettler) Extend(context.Context, *Message, time.Duration) error { return nil }

func dispatchRig(tb testing.TB, tel *Telemetry, logger *zap.Logger) (*Dispatcher, *Message) {
	tb.Helper()
	reg, err := NewRegistration[orderCreated](orderMT, HandlerFunc[orderCreated](func(context.Context, *orderCreated) error { return nil }))
	if err != nil {
		tb.Fatal(err)
	}
	handlers, err := NewHandlerRegistry(reg)
	if err != nil {
		tb.Fatal(err)
	}
	d := NewDispatcher(handlers, DispatcherOptions{EnableTTL: true, Logger: logger, Telemetry: tel})
	m := &Message{
		MediaType: orderMT, Content: &orderCreated{URI: "https://orders/1", OrderID: "1"}, MessageID: "m-1", ReceiptHandle: "rh-1", ReceiveCount: 1,
		Opaque:  Opaque{OpaqueRequestID: "req-1", OpaquePublished: "1700000000.123456", OpaqueTraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		settler: nopSettler{}, backoff: NaiveBackoff{Timeout: time.Second},
	}
	return d, m
}

func TestTelemetryOffWithoutProviders(t *testing.T) {
	if !isUnsetGlobal(otel.GetTracerProvider()) {
		t.Fatal("the global tracer provider is set in this test binary, or otel renamed its delegating type: tracing would always be on")
	}
	for name, opts := range map[string]TelemetryOptions{
		"global": {},
		"noop":   {MeterProvider: noop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()},
	} {
		tel, err := NewTelemetry(opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if tel.tracing() || tel.messageMetered(ctx) || tel.producerMetered(ctx) || tel.forDaemon("q").receiveMetered(ctx) {
			t.Errorf("%s: telemetry on with no SDK installed", name)
		}
		// No more allocations than without telemetry: nothing is done per message. Measured with a
		// logger that drops everything, because zap draws from sync.Pools and the race detector
		// makes sync.Pool drop a quarter of what it is given at random: with a writing logger the
		// count would move by an allocation either way for reasons that have nothing to do with
		// telemetry. Builds without -race also measure with a JSON logger writing every line.
		loggers := map[string]*zap.Logger{"nop logger": zap.NewNop()}
		if !raceEnabled {
			loggers["json logger"] = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(discard{}), zapcore.InfoLevel))
		}
		for lname, logger := range loggers {
			off, m := dispatchRig(t, nil, logger)
			on, _ := dispatchRig(t, tel, logger)
			// The least of a few measurements: a GC emptying zap's buffer pool mid-run adds an
			// allocation that has nothing to do with telemetry.
			a := minAllocs(func() { off.Dispatch(ctx, m) })
			b := minAllocs(func() { on.Dispatch(ctx, m) })
			if b > a {
				t.Errorf("%s, %s: %v allocs per dispatch with telemetry, %v without", name, lname, b, a)
			}
			if a == 0 {
				t.Errorf("%s, %s: no allocations measured at all: the rig is not dispatching", name, lname)
			}
		}
	}
	var nilTel *Telemetry
	if nilTel.tracing() || nilTel.messageMetered(context.Background()) || nilTel.forDaemon("q") != nil {
		t.Error("nil telemetry is on")
	}
}

// minAllocs returns the least of five AllocsPerRun measurements of fn.
func minAllocs(fn func()) float64 {
	least := testing.AllocsPerRun(200, fn)
	for range 4 {
		least = min(least, testing.AllocsPerRun(200, fn))
	}
	return least
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestTelemetryTracingOnWithProvider(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tel, err := NewTelemetry(TelemetryOptions{TracerProvider: tp, Propagator: propagation.TraceContext{}})
	if err != nil {
		t.Fatal(err)
	}
	d, m := dispatchRig(t, tel, nil)
	if r := d.Dispatch(context.Background(), m); r.Type != Succeeded {
		t.Fatalf("result %v", r.Type)
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	// Without a daemon there is no queue name; the span still continues the message's trace.
	s := spans[0]
	if s.Name() != "process" || s.SpanKind() != trace.SpanKindConsumer || s.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		s.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("span %q kind %v parent %v", s.Name(), s.SpanKind(), s.Parent())
	}
	if sc := TraceContextFrom(m.Opaque); sc.SpanID() != s.Parent().SpanID() {
		t.Fatalf("TraceContextFrom = %v", sc)
	}
}

// BenchmarkDispatchTelemetry measures Dispatcher.Dispatch alone (no-op handler, JSON result line
// discarded, settling a no-op) without telemetry, with the default global providers (nothing
// installed: what fxpubsub.Module gives), and with the SDK installed (metrics to a manual reader,
// spans through a batch processor to a discarding exporter).
func BenchmarkDispatchTelemetry(b *testing.B) {
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(discard{}), zapcore.InfoLevel))
	global, err := NewTelemetry(TelemetryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}))
	defer func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) }()
	sdk, err := NewTelemetry(TelemetryOptions{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		tel  *Telemetry
	}{{"none", nil}, {"global", global}, {"sdk", sdk}} {
		b.Run("telemetry="+bc.name, func(b *testing.B) {
			d, m := dispatchRig(b, bc.tel, logger)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				d.Dispatch(ctx, m)
			}
		})
	}
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }
