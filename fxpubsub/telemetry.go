package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the OpenTelemetry instrumentation scope of every meter and tracer the library
// uses.
const ScopeName = "github.com/microcosm-go/pubsub/fxpubsub"

// Opaque keys of the W3C trace context (https://www.w3.org/TR/trace-context/) that carry a
// trace from a producer span to the consumer span of the next hop, inside opaqueData.
const (
	OpaqueTraceParent = "traceparent"
	OpaqueTraceState  = "tracestate"
)

// Metric attribute keys and values kept from the original's statsd tags, so dashboards translate.
// The consumer side spells the media type "media-type", the producer side "media_type", as the
// original did.
const (
	attrSource          = attribute.Key("source")
	attrResult          = attribute.Key("result")
	attrMediaTypeHyphen = attribute.Key("media-type")
	attrMediaType       = attribute.Key("media_type")
	attrPublishResult   = attribute.Key("publish_result")
	attrAction          = attribute.Key("action")
	attrQueue           = attribute.Key("messaging.destination.name")
	sourceValue         = "microcosm-pubsub"
)

// TelemetryOptions choose where a [Telemetry] sends metrics and spans.
type TelemetryOptions struct {
	// MeterProvider records metrics (default: otel.GetMeterProvider(), a no-op until the app
	// installs one).
	MeterProvider metric.MeterProvider
	// TracerProvider records spans (default: otel.GetTracerProvider(), a no-op until the app
	// installs one).
	TracerProvider trace.TracerProvider
	// Propagator writes the producer span's context into outgoing opaqueData and reads it back on
	// the consumer side (default: propagation.TraceContext{}, the W3C traceparent and tracestate
	// keys). The global propagator is deliberately not the default: it is a no-op unless the app
	// sets one, and the trace must cross hops either way.
	Propagator propagation.TextMapPropagator
	// DisableMetrics turns the library's metrics off (the original's pubsub_send_metrics.enabled
	// false): its instruments come from a no-op meter, so the app's own instruments on
	// MeterProvider keep recording. Spans are unaffected.
	DisableMetrics bool
	// Attributes are added to every metric the library records, as the original's statsd
	// constant tags were ([NewTelemetryFx] sets service and environment).
	Attributes []attribute.KeyValue
}

// Telemetry holds the library's OpenTelemetry instruments and tracer; see the package
// documentation's Observability section for what is recorded. Pass one to [ProducerOptions],
// [DispatcherOptions] and [DaemonOptions]; a nil *Telemetry records nothing. [Module] provides one
// built from the graph's optional metric.MeterProvider, trace.TracerProvider and
// propagation.TextMapPropagator.
//
// With no SDK installed (the global providers, no-op by default) the per-message cost is an
// atomic load per hook point: instruments report themselves disabled and no span is started.
type Telemetry struct {
	tracer trace.Tracer         // nil: tracing off
	tp     trace.TracerProvider // where tracer came from
	lazyTP bool                 // tp is the unset global provider: tracing starts once one is set
	prop   propagation.TextMapPropagator
	meter  metric.Meter
	consts []attribute.KeyValue // added to every metric's attributes

	message, handleStart, batch, producer, receive metric.Float64Histogram
	batchSize                                      metric.Int64Histogram

	received, handled, released, receiveCalls, emptyReceives, receiveErrors, extensions metric.Int64ObservableCounter
	settleCalls, settleEntries, settleCallErrors, settleFailures                        metric.Int64ObservableCounter
	inFlight, reserved, settlePending                                                   metric.Int64ObservableUpDownCounter
	utilization                                                                         metric.Float64ObservableGauge

	sourceOpt []metric.RecordOption
	attrs     sync.Map // attrKey → []metric.RecordOption
	nAttrs    atomic.Int64
}

// maxAttrSets bounds the cached attribute sets (media type × result); beyond it sets are built
// per record.
const maxAttrSets = 4096

// Bucket boundaries in seconds: the SDK's defaults suit milliseconds.
var (
	durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	delayBuckets    = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800, 43200}
	sizeBuckets     = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
)

// NewTelemetry creates the instruments and tracer. Zero options mean the global providers and the
// W3C trace-context propagator.
func NewTelemetry(opts TelemetryOptions) (*Telemetry, error) {
	t := &Telemetry{prop: opts.Propagator, consts: slices.Clone(opts.Attributes)}
	if t.prop == nil {
		t.prop = propagation.TraceContext{}
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if !isNoopTracerProvider(tp) {
		t.tp, t.lazyTP = tp, isUnsetGlobal(tp)
		t.tracer = tp.Tracer(ScopeName)
	}
	mp := opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if opts.DisableMetrics {
		mp = noopmetric.NewMeterProvider()
	}
	t.meter = mp.Meter(ScopeName)
	if err := t.instruments(); err != nil {
		return nil, fmt.Errorf("create telemetry instruments: %w", err)
	}
	t.sourceOpt = []metric.RecordOption{metric.WithAttributeSet(t.attrSet(attrSource.String(sourceValue)))}
	return t, nil
}

func (t *Telemetry) instruments() error {
	m := t.meter
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	seconds := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(buckets...))
		check(err)
		return h
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		check(err)
		return c
	}
	upDown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		check(err)
		return c
	}
	var err error

	t.message = seconds("message", "Time to handle one message (not IGNORED), by result and media type.", durationBuckets)
	t.handleStart = seconds("message_handle_start", "Delay from publish (opaque x-request-published) to handler start.", delayBuckets)
	t.batch = seconds("message_batch", "Time from a receive returning to the last of its messages being handled (batches with a non-IGNORED message).", durationBuckets)
	t.batchSize, err = m.Int64Histogram("message_batch_size", metric.WithUnit("{message}"),
		metric.WithDescription("Non-IGNORED messages per receive batch."), metric.WithExplicitBucketBoundaries(sizeBuckets...))
	check(err)
	t.producer = seconds("sns_producer", "Duration of the SNS publish call that settled a message, by outcome and media type.", durationBuckets)
	t.receive = seconds("sqs_consumer.receive.duration", "Duration of ReceiveMessage calls (long polls), by result: messages, empty or error.", durationBuckets)

	t.received = counter("sqs_consumer.received", "{message}", "Messages received.")
	t.handled = counter("sqs_consumer.handled", "{message}", "Messages dispatched to a result.")
	t.released = counter("sqs_consumer.released", "{message}", "Received messages returned unhandled at shutdown.")
	t.receiveCalls = counter("sqs_consumer.receive.calls", "{call}", "ReceiveMessage calls.")
	t.emptyReceives = counter("sqs_consumer.receive.empty", "{call}", "ReceiveMessage calls that returned no message.")
	t.receiveErrors = counter("sqs_consumer.receive.errors", "{call}", "ReceiveMessage calls that failed (retried with backoff).")
	t.extensions = counter("sqs_consumer.visibility_extensions", "{message}", "Visibility extensions by the heartbeat for long-running handlers.")
	t.settleCalls = counter("sqs_consumer.settle.calls", "{call}", "DeleteMessageBatch (action delete) and ChangeMessageVisibilityBatch (action change_visibility) calls.")
	t.settleEntries = counter("sqs_consumer.settle.entries", "{message}", "Entries sent in settle batch calls, retries included.")
	t.settleCallErrors = counter("sqs_consumer.settle.call_errors", "{call}", "Settle batch calls that failed as a whole (retried while attempts remain).")
	t.settleFailures = counter("sqs_consumer.settle.failures", "{message}", "Settle entries given up on; the message comes back after its visibility timeout.")
	t.inFlight = upDown("sqs_consumer.in_flight", "{message}", "Messages received and not yet settled.")
	t.reserved = upDown("sqs_consumer.workers.reserved", "{worker}", "Worker slots taken: holding a message, or reserved by a receiver waiting for messages.")
	t.settlePending = upDown("sqs_consumer.settle.pending", "{message}", "Settle entries queued or in a call that has not returned (delete: handled but not yet deleted).")
	t.utilization, err = m.Float64ObservableGauge("sqs_consumer.workers.utilization", metric.WithUnit("1"),
		metric.WithDescription("Fraction of the worker pool (sqs_consumer.concurrency) holding a message."))
	check(err)
	return errors.Join(errs...)
}

// attrSet is the attribute set of kv and the constant attributes.
func (t *Telemetry) attrSet(kv ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append(kv, t.consts...)...)
}

// isNoopTracerProvider reports the API's no-op providers, which make tracing pointless.
func isNoopTracerProvider(tp trace.TracerProvider) bool {
	switch fmt.Sprintf("%T", tp) {
	case "noop.TracerProvider", "*noop.TracerProvider", "trace.noopTracerProvider":
		return true
	}
	return false
}

// isUnsetGlobal reports the global delegating provider, before the app set one. Its tracers
// delegate once a provider is set, so tracing is checked per message (see tracing).
func isUnsetGlobal(tp trace.TracerProvider) bool {
	return fmt.Sprintf("%T", tp) == "*global.tracerProvider"
}

// tracing reports whether spans are worth starting.
func (t *Telemetry) tracing() bool {
	if t == nil || t.tracer == nil {
		return false
	}
	// The comparison cannot panic: t.tp's dynamic type is a pointer.
	return !t.lazyTP || otel.GetTracerProvider() != t.tp
}

// recordOpts returns the cached attribute options of key, building them with build.
func (t *Telemetry) recordOpts(key attrKey, build func() attribute.Set) []metric.RecordOption {
	if v, ok := t.attrs.Load(key); ok {
		return v.([]metric.RecordOption)
	}
	opts := []metric.RecordOption{metric.WithAttributeSet(build())}
	if t.nAttrs.Load() < maxAttrSets {
		if _, loaded := t.attrs.LoadOrStore(key, opts); !loaded {
			t.nAttrs.Add(1)
		}
	}
	return opts
}

type attrKey struct {
	mediaType string
	result    ResultType // consumer side
	publish   int8       // producer side: 1 SUCCESS, 2 FAILURE
}

func (t *Telemetry) messageOpts(mediaType string, r ResultType) []metric.RecordOption {
	return t.recordOpts(attrKey{mediaType: mediaType, result: r}, func() attribute.Set {
		return t.attrSet(attrSource.String(sourceValue), attrResult.String(r.String()), attrMediaTypeHyphen.String(mediaType))
	})
}

func (t *Telemetry) publishOpts(mediaType string, ok bool) []metric.RecordOption {
	key, result := attrKey{mediaType: mediaType, publish: 1}, "SUCCESS"
	if !ok {
		key.publish, result = 2, "FAILURE"
	}
	return t.recordOpts(key, func() attribute.Set {
		return t.attrSet(attrSource.String(sourceValue), attrPublishResult.String(result), attrMediaType.String(mediaType))
	})
}

// messageMetered reports whether per-message metrics are recorded.
func (t *Telemetry) messageMetered(ctx context.Context) bool {
	return t != nil && (t.message.Enabled(ctx) || t.handleStart.Enabled(ctx))
}

// recordMessage records message and message_handle_start for a handled message (not IGNORED,
// as in the original).
func (t *Telemetry) recordMessage(ctx context.Context, m *Message, r Result, start time.Time) {
	if r.Type == Ignored {
		return
	}
	opts := t.messageOpts(m.MediaType, r.Type)
	t.message.Record(ctx, r.Elapsed.Seconds(), opts...)
	if pub, ok := publishedAt(m.Opaque); ok {
		t.handleStart.Record(ctx, max(start.Sub(pub).Seconds(), 0), opts...)
	}
}

// publishedAt parses x-request-published (decimal epoch seconds).
func publishedAt(o Opaque) (time.Time, bool) {
	v := o.Get(OpaquePublished)
	if v == "" {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(f * 1e6)), true
}

// producerMetered reports whether sns_producer is recorded.
func (t *Telemetry) producerMetered(ctx context.Context) bool {
	return t != nil && t.producer.Enabled(ctx)
}

// queueName is the last path part of a queue URL (the original's destination name), or the name
// itself.
func queueName(queue string) string {
	return queue[strings.LastIndexByte(queue, '/')+1:]
}

// topicName is the last part of a topic ARN.
func topicName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// TelemetryConfig is section telemetry: the library's own metrics.
type TelemetryConfig struct {
	// Metrics records the library's metrics (default true); false turns them off while the app's
	// own instruments keep recording (the original's pubsub_send_metrics.enabled).
	Metrics bool `koanf:"metrics"`
	// Service is the constant "service" attribute of the library's metrics (default:
	// $METRICS_NAME, else the app name), as the original's statsd tag service:.
	Service string `koanf:"service"`
	// Environment is the constant "environment" attribute of the library's metrics (default:
	// $MICROCOSM_ENVIRONMENT, else "undefined"), as the original's statsd tag environment:.
	Environment string `koanf:"environment"`
}

// Environment variables that default the constant metric attributes, as in the original.
const (
	EnvMetricsName = "METRICS_NAME"
	EnvEnvironment = "MICROCOSM_ENVIRONMENT"
)

// attributes returns the constant attributes: service and environment, each from c, else the
// environment variable (getenv), else name and "undefined".
func (c TelemetryConfig) attributes(name string, getenv func(string) string) []attribute.KeyValue {
	pick := func(v, env, def string) string {
		if v != "" {
			return v
		}
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	return []attribute.KeyValue{
		attribute.String("service", pick(c.Service, EnvMetricsName, name)),
		attribute.String("environment", pick(c.Environment, EnvEnvironment, "undefined")),
	}
}
