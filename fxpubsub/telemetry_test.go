package fxpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// otelRig is the real OpenTelemetry SDK with in-memory export: a manual metric reader and a span
// recorder.
type otelRig struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

func newOtelRig(t *testing.T) *otelRig {
	t.Helper()
	r := &otelRig{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	t.Cleanup(func() {
		_ = r.mp.Shutdown(context.Background())
		_ = r.tp.Shutdown(context.Background())
	})
	return r
}

// options puts the providers into an fx graph the way an app would.
func (r *otelRig) options() fx.Option {
	return fx.Options(
		fx.Provide(func() metric.MeterProvider { return r.mp }),
		fx.Provide(func() trace.TracerProvider { return r.tp }),
	)
}

func (r *otelRig) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != fxpubsub.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, fxpubsub.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// histPoints returns a float64 histogram's points keyed by their attributes.
func histPoints(t *testing.T, m metricdata.Metrics) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: %T, want a float64 histogram", m.Name, m.Data)
	}
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, p := range h.DataPoints {
		out[attrString(p.Attributes)] = p
	}
	return out
}

// sumPoints returns an int64 sum's values keyed by their attributes.
func sumPoints(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: %T, want an int64 sum", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, p := range s.DataPoints {
		out[attrString(p.Attributes)] = p.Value
	}
	return out
}

func attrString(s attribute.Set) string {
	return s.Encoded(attribute.DefaultEncoder())
}

func attrs(kv ...string) string {
	var a []attribute.KeyValue
	for i := 0; i < len(kv); i += 2 {
		a = append(a, attribute.String(kv[i], kv[i+1]))
	}
	return attrString(attribute.NewSet(a...))
}

// appAttrs is attrs with the constant attributes of the app "otel" with no environment: the
// service is the app's name and the environment "undefined".
func appAttrs(kv ...string) string {
	return attrs(append(kv, "service", "otel", "environment", "undefined")...)
}

// outcomeHandler turns an order id into a result; "ok" also publishes a follow-up (the second hop).
type outcomeHandler struct {
	producer *fxpubsub.Producer
}

func (h *outcomeHandler) Handle(ctx context.Context, c *orderCreated) error {
	switch c.OrderID {
	case "ok":
		_, err := h.producer.Produce(ctx, followUpMT, followUp{URI: c.URI + "/follow"})
		return err
	case "fail":
		return errors.New("database unavailable")
	case "retry":
		return &fxpubsub.Nack{Timeout: time.Hour, Reason: "not yet"}
	case "ignore":
		return &fxpubsub.IgnoreMessage{Reason: "not for us"}
	}
	return fmt.Errorf("unexpected order %q", c.OrderID)
}

// results counts dispatched messages through a result hook.
type results struct {
	mu     sync.Mutex
	byType map[fxpubsub.ResultType]int
	follow fxpubsub.Opaque
	n      int
	all    chan struct{}
	want   int
}

func (r *results) hook(ctx context.Context, m *fxpubsub.Message, res fxpubsub.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byType[res.Type]++
	if m.MediaType == followUpMT {
		r.follow = m.Opaque.Clone()
	}
	if r.n++; r.n == r.want {
		close(r.all)
	}
}

// TestTelemetry runs SUCCEEDED, FAILED, RETRIED and IGNORED messages (and the SUCCEEDED one's
// follow-up) through fxpubsub.Module on the in-memory backend with the real SDK installed, then
// checks metric names, units, attributes and values, the spans, and the trace ids in the logs.
func TestTelemetry(t *testing.T) {
	o := newOtelRig(t)
	res := &results{byType: map[fxpubsub.ResultType]int{}, all: make(chan struct{}), want: 5}
	core, logs := observer.New(zap.DebugLevel)
	var producer *fxpubsub.Producer
	app := fxtest.New(t,
		fxconfig.ForTesting("otel", map[string]any{"sqs_consumer": map[string]any{
			"wait_seconds": 1, "message_retry_visibility_timeout_seconds": 3600,
		}}),
		fxpubsub.Module,
		o.options(),
		fx.Decorate(func(*zap.Logger) *zap.Logger { return zap.New(core) }),
		fxpubsub.AsHandler[orderCreated](orderMT, func(p *fxpubsub.Producer) *outcomeHandler { return &outcomeHandler{producer: p} }),
		fxpubsub.AsHandlerFunc(followUpMT, func(context.Context, *followUp) error { return nil }),
		fxpubsub.AsResultHook(func() fxpubsub.ResultHook { return res.hook }),
		fxpubsub.RunConsumer(),
		fx.Populate(&producer),
	)
	app.RequireStart()
	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"x-request-id": "req-7"})
	for _, id := range []string{"ok", "fail", "retry", "ignore"} {
		if _, err := producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-res.all:
	case <-time.After(20 * time.Second):
		t.Fatal("messages not handled in time")
	}
	// Metrics are recorded after the result hooks and deletes are flushed in batches: poll.
	var ms map[string]metricdata.Metrics
	waitFor(t, 10*time.Second, "metrics of every message and settle call", func() bool {
		ms = o.collect(t)
		msg, ok := ms["message"].Data.(metricdata.Histogram[float64])
		if !ok {
			return false
		}
		var n uint64
		for _, p := range msg.DataPoints {
			n += p.Count
		}
		entries, ok := ms["sqs_consumer.settle.entries"].Data.(metricdata.Sum[int64])
		var settled int64
		if ok {
			for _, p := range entries.DataPoints {
				settled += p.Value
			}
		}
		return n == 4 && settled == 5
	})
	app.RequireStop()

	queue := fxpubsub.MemoryQueueName
	t.Run("units", func(t *testing.T) {
		want := map[string]string{
			"message": "s", "message_handle_start": "s", "message_batch": "s", "message_batch_size": "{message}", "sns_producer": "s",
			"sqs_consumer.receive.duration": "s", "sqs_consumer.received": "{message}", "sqs_consumer.handled": "{message}",
			"sqs_consumer.released": "{message}", "sqs_consumer.receive.calls": "{call}", "sqs_consumer.receive.empty": "{call}",
			"sqs_consumer.receive.errors": "{call}", "sqs_consumer.visibility_extensions": "{message}", "sqs_consumer.in_flight": "{message}",
			"sqs_consumer.workers.reserved": "{worker}", "sqs_consumer.workers.utilization": "1", "sqs_consumer.settle.calls": "{call}",
			"sqs_consumer.settle.entries": "{message}", "sqs_consumer.settle.call_errors": "{call}", "sqs_consumer.settle.failures": "{message}",
			"sqs_consumer.settle.pending": "{message}",
		}
		for name, unit := range want {
			m, ok := ms[name]
			if !ok {
				t.Errorf("metric %s missing", name)
				continue
			}
			if m.Unit != unit {
				t.Errorf("%s: unit %q, want %q", name, m.Unit, unit)
			}
		}
		if len(ms) != len(want) {
			t.Errorf("got %d metrics, want %d", len(ms), len(want))
		}
	})
	t.Run("message", func(t *testing.T) {
		// IGNORED is left out, as in the original.
		for _, name := range []string{"message", "message_handle_start"} {
			pts := histPoints(t, ms[name])
			for _, k := range []string{
				appAttrs("source", "microcosm-pubsub", "result", "SUCCEEDED", "media-type", orderMT),
				appAttrs("source", "microcosm-pubsub", "result", "FAILED", "media-type", orderMT),
				appAttrs("source", "microcosm-pubsub", "result", "RETRIED", "media-type", orderMT),
				appAttrs("source", "microcosm-pubsub", "result", "SUCCEEDED", "media-type", followUpMT),
			} {
				p, ok := pts[k]
				if !ok || p.Count != 1 {
					t.Errorf("%s{%s}: %+v, want one point", name, k, p)
					continue
				}
				// Seconds, not milliseconds: everything here takes far less than ten seconds.
				if p.Sum < 0 || p.Sum > 10 {
					t.Errorf("%s{%s}: sum %v s", name, k, p.Sum)
				}
			}
			if len(pts) != 4 {
				t.Errorf("%s: %d attribute sets, want 4 (no IGNORED): %v", name, len(pts), keys(pts))
			}
		}
	})
	t.Run("batch", func(t *testing.T) {
		pts := histPoints(t, ms["message_batch"])
		src := appAttrs("source", "microcosm-pubsub")
		if p := pts[src]; p.Count == 0 || len(pts) != 1 {
			t.Errorf("message_batch: %v", pts)
		}
		size, ok := ms["message_batch_size"].Data.(metricdata.Histogram[int64])
		if !ok || len(size.DataPoints) != 1 {
			t.Fatalf("message_batch_size: %+v", ms["message_batch_size"].Data)
		}
		// Every non-IGNORED message is counted in exactly one receive batch.
		if p := size.DataPoints[0]; p.Sum != 4 || attrString(p.Attributes) != src {
			t.Errorf("message_batch_size: sum %d attrs %s, want 4 and %s", p.Sum, attrString(p.Attributes), src)
		}
	})
	t.Run("sns_producer", func(t *testing.T) {
		pts := histPoints(t, ms["sns_producer"])
		for k, n := range map[string]uint64{
			appAttrs("source", "microcosm-pubsub", "publish_result", "SUCCESS", "media_type", orderMT):    4,
			appAttrs("source", "microcosm-pubsub", "publish_result", "SUCCESS", "media_type", followUpMT): 1,
		} {
			if pts[k].Count != n {
				t.Errorf("sns_producer{%s}: count %d, want %d", k, pts[k].Count, n)
			}
		}
		if len(pts) != 2 {
			t.Errorf("sns_producer: %v", keys(pts))
		}
	})
	t.Run("consumer", func(t *testing.T) {
		q := appAttrs("messaging.destination.name", queue)
		for name, want := range map[string]int64{
			"sqs_consumer.received": 5, "sqs_consumer.handled": 5, "sqs_consumer.released": 0, "sqs_consumer.in_flight": 0,
			"sqs_consumer.receive.errors": 0, "sqs_consumer.visibility_extensions": 0,
		} {
			if got := sumPoints(t, ms[name]); len(got) != 1 || got[q] != want {
				t.Errorf("%s = %v, want {%s: %d}", name, got, q, want)
			}
		}
		calls := sumPoints(t, ms["sqs_consumer.receive.calls"])[q]
		if calls < 1 || sumPoints(t, ms["sqs_consumer.receive.empty"])[q] > calls {
			t.Errorf("receive calls %d, empty %d", calls, sumPoints(t, ms["sqs_consumer.receive.empty"])[q])
		}
		del, chg := appAttrs("messaging.destination.name", queue, "action", "delete"), appAttrs("messaging.destination.name", queue, "action", "change_visibility")
		for name, want := range map[string]map[string]int64{
			"sqs_consumer.settle.entries":     {del: 3, chg: 2}, // ok, ignore, follow-up deleted; fail, retry nacked
			"sqs_consumer.settle.failures":    {del: 0, chg: 0},
			"sqs_consumer.settle.call_errors": {del: 0, chg: 0},
			"sqs_consumer.settle.pending":     {del: 0, chg: 0},
		} {
			got := sumPoints(t, ms[name])
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s{%s} = %d, want %d", name, k, got[k], v)
				}
			}
		}
		if got := sumPoints(t, ms["sqs_consumer.settle.calls"]); got[del] < 1 || got[chg] < 1 {
			t.Errorf("settle calls = %v", got)
		}
		g, ok := ms["sqs_consumer.workers.utilization"].Data.(metricdata.Gauge[float64])
		if !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value < 0 || g.DataPoints[0].Value > 1 {
			t.Errorf("utilization = %+v", ms["sqs_consumer.workers.utilization"].Data)
		}
		recv := histPoints(t, ms["sqs_consumer.receive.duration"])
		if recv[appAttrs("messaging.destination.name", queue, "result", "messages")].Count < 1 {
			t.Errorf("receive.duration = %v", keys(recv))
		}
	})

	spans := o.spans.Ended()
	byResult := map[string]sdktrace.ReadOnlySpan{}
	var producers []sdktrace.ReadOnlySpan
	for _, s := range spans {
		switch s.SpanKind() {
		case trace.SpanKindConsumer:
			if s.Name() != "process "+queue {
				t.Errorf("consumer span name %q", s.Name())
			}
			r := spanAttr(s, "pubsub.result")
			if spanAttr(s, "pubsub.media_type") == followUpMT {
				r = "FOLLOW-UP"
			}
			byResult[r] = s
		case trace.SpanKindProducer:
			producers = append(producers, s)
		}
	}
	t.Run("spans", func(t *testing.T) {
		if len(producers) != 5 || len(byResult) != 5 {
			t.Fatalf("%d producer spans, consumer spans by result %v; want 5 and 5", len(producers), keys(byResult))
		}
		for _, s := range producers {
			if s.Name() != "publish "+fxpubsub.MemoryTopicName || spanAttr(s, "messaging.system") != "aws.sns" || spanAttr(s, "messaging.message.id") == "" {
				t.Errorf("producer span %q attrs %v", s.Name(), s.Attributes())
			}
		}
		for r, s := range byResult {
			if spanAttr(s, "messaging.system") != "aws_sqs" || spanAttr(s, "messaging.destination.name") != queue ||
				spanAttr(s, "messaging.message.conversation_id") != "req-7" || spanAttr(s, "messaging.message.id") == "" {
				t.Errorf("%s consumer span attrs %v", r, s.Attributes())
			}
			wantErr := r == "FAILED"
			if (s.Status().Code == codes.Error) != wantErr {
				t.Errorf("%s consumer span status %v", r, s.Status())
			}
			// Every consumer span continues its producer's trace.
			if !s.Parent().IsRemote() || !s.Parent().IsValid() {
				t.Errorf("%s consumer span parent %v, want the remote producer span", r, s.Parent())
			}
		}
	})
	t.Run("two hops, one trace", func(t *testing.T) {
		first, follow := byResult["SUCCEEDED"], byResult["FOLLOW-UP"]
		if first == nil || follow == nil {
			t.Fatal("missing consumer spans")
		}
		var p1, p2 sdktrace.ReadOnlySpan
		for _, s := range producers {
			switch s.SpanContext().SpanID() {
			case first.Parent().SpanID():
				p1 = s
			case follow.Parent().SpanID():
				p2 = s
			}
		}
		if p1 == nil || p2 == nil {
			t.Fatal("consumer spans' parents are not producer spans")
		}
		// test → publish (p1) → process (first) → publish follow-up (p2) → process (follow).
		if p2.Parent().SpanID() != first.SpanContext().SpanID() {
			t.Errorf("follow-up producer span's parent %v, want the first consumer span %v", p2.Parent().SpanID(), first.SpanContext().SpanID())
		}
		tid := p1.SpanContext().TraceID()
		for _, s := range []sdktrace.ReadOnlySpan{first, p2, follow} {
			if s.SpanContext().TraceID() != tid {
				t.Errorf("span %q in trace %v, want %v", s.Name(), s.SpanContext().TraceID(), tid)
			}
		}
		// The link travels in opaqueData as a W3C traceparent.
		res.mu.Lock()
		tp := res.follow.Get(fxpubsub.OpaqueTraceParent)
		res.mu.Unlock()
		if want := fmt.Sprintf("00-%s-%s-01", tid, p2.SpanContext().SpanID()); tp != want {
			t.Errorf("follow-up opaque traceparent %q, want %q", tp, want)
		}
	})
	t.Run("logs", func(t *testing.T) {
		lines := logs.FilterMessageSnippet("Result for media type").All()
		if len(lines) != 5 {
			t.Fatalf("%d result lines, want 5", len(lines))
		}
		ids := map[string]bool{}
		for _, s := range byResult {
			ids[s.SpanContext().TraceID().String()+"/"+s.SpanContext().SpanID().String()] = true
		}
		for _, l := range lines {
			f := l.ContextMap()
			if id := fmt.Sprint(f["trace_id"], "/", f["span_id"]); !ids[id] {
				t.Errorf("result line %q: trace/span %s is no consumer span's", l.Message, id)
			}
		}
	})
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
