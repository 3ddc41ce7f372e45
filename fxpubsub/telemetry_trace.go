package fxpubsub

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// Span attribute keys beyond the messaging semantic conventions.
const (
	spanAttrMediaType    = attribute.Key("pubsub.media_type")
	spanAttrResult       = attribute.Key("pubsub.result")
	spanAttrHandler      = attribute.Key("pubsub.handler")
	spanAttrReceiveCount = attribute.Key("pubsub.receive_count")
	spanAttrSkipped      = attribute.Key("pubsub.skipped")
)

// opaqueCarrier lets a propagator read and write trace context in opaque data (keys lower case).
type opaqueCarrier Opaque

func (c opaqueCarrier) Get(key string) string { return Opaque(c).Get(key) }
func (c opaqueCarrier) Set(key, value string) { Opaque(c).Set(key, value) }
func (c opaqueCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// TraceContextFrom returns the remote span context carried by opaque data (the W3C traceparent
// a traced producer wrote), or an invalid one. Tracing need not be on: it reads the keys directly.
func TraceContextFrom(o Opaque) trace.SpanContext {
	return trace.SpanContextFromContext(defaultPropagator.Extract(context.Background(), opaqueCarrier(o)))
}

type queueKey struct{}

// withQueueName records the consumed queue's name for consumer spans (the daemon sets it once on
// its handler context).
func withQueueName(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, queueKey{}, name)
}

// startProcess starts the consumer span of m, continuing the trace its opaque data carries.
func (t *Telemetry) startProcess(ctx context.Context, m *Message) (context.Context, trace.Span) {
	ctx = t.prop.Extract(ctx, opaqueCarrier(m.Opaque))
	queue, _ := ctx.Value(queueKey{}).(string)
	name := "process"
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, semconv.MessagingSystemAWSSQS, semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("process"),
		semconv.MessagingMessageID(m.MessageID), spanAttrMediaType.String(m.MediaType), spanAttrReceiveCount.Int(m.ReceiveCount))
	if queue != "" {
		name += " " + queue
		attrs = append(attrs, semconv.MessagingDestinationName(queue))
	}
	if id := m.Opaque.Get(OpaqueRequestID); id != "" {
		attrs = append(attrs, semconv.MessagingMessageConversationID(id))
	}
	return t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
}

// endProcess ends a consumer span with the message's result; FAILED is an error.
func endProcess(span trace.Span, r Result) {
	if r.Handler != "" {
		span.SetAttributes(spanAttrResult.String(r.Type.String()), spanAttrHandler.String(r.Handler))
	} else {
		span.SetAttributes(spanAttrResult.String(r.Type.String()))
	}
	if r.Type == Failed {
		if r.Err != nil {
			span.RecordError(r.Err)
			span.SetStatus(codes.Error, r.Err.Error())
		} else {
			span.SetStatus(codes.Error, r.Reason)
		}
	}
	span.End()
}

// traceFields are the log fields of an active span.
func traceFields(sc trace.SpanContext) []zap.Field {
	if !sc.IsValid() {
		return nil
	}
	return []zap.Field{zap.String("trace_id", sc.TraceID().String()), zap.String("span_id", sc.SpanID().String())}
}

// startPublish starts the producer span of one message and writes its context into opaque,
// replacing any trace context the opaque data carried in from the handler's message.
func (t *Telemetry) startPublish(ctx context.Context, mediaType, topicARN string, opaque Opaque) trace.Span {
	attrs := make([]attribute.KeyValue, 0, 7)
	topic := topicName(topicARN)
	attrs = append(attrs, semconv.MessagingSystemAWSSNS, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("publish"),
		semconv.MessagingDestinationName(topic), spanAttrMediaType.String(mediaType))
	if id := opaque.Get(OpaqueRequestID); id != "" {
		attrs = append(attrs, semconv.MessagingMessageConversationID(id))
	}
	ctx, span := t.tracer.Start(ctx, "publish "+topic, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	for _, k := range t.prop.Fields() {
		delete(opaque, lowerKey(k))
	}
	t.prop.Inject(ctx, opaqueCarrier(opaque))
	return span
}

// finishPublish records sns_producer and ends the message's span once its publish is settled.
func (t *Telemetry) finishPublish(ctx context.Context, o *outgoing, id string, err error, elapsed time.Duration, metered bool) {
	if metered {
		t.producer.Record(ctx, elapsed.Seconds(), t.publishOpts(o.mediaType, err == nil)...)
	}
	endPublish(o, id, err)
}

// endPublish ends the message's producer span, if any.
func endPublish(o *outgoing, id string, err error) {
	if o.span == nil {
		return
	}
	if id != "" {
		o.span.SetAttributes(semconv.MessagingMessageID(id))
	}
	if err != nil {
		o.span.RecordError(err)
		o.span.SetStatus(codes.Error, err.Error())
	}
	o.span.End()
	o.span = nil
}

// skipPublish ends the span of a message not published (skip mode, or a deferred unit of work
// that failed).
func skipPublish(o *outgoing) {
	if o.span != nil {
		o.span.SetAttributes(spanAttrSkipped.Bool(true))
		o.span.End()
		o.span = nil
	}
}
