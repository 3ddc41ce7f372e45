package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ResultHook observes every handled message after its result is known and before it is settled.
// Hooks run on the worker goroutine: keep them fast. The Sentry reporter and the example's printer
// are hooks; [AsResultHook] registers one.
type ResultHook func(ctx context.Context, m *Message, r Result)

// DispatcherOptions configure a [Dispatcher]; zero values mean defaults.
type DispatcherOptions struct {
	// EnableTTL turns hop-TTL loop protection on (sqs_message_context.enable_ttl).
	EnableTTL bool
	// InitialTTL is the TTL of a message that carries none (default 32).
	InitialTTL int
	// MaxAttempts skips (deletes) messages received more often than this (0: no limit).
	MaxAttempts int
	// Logger gets one result line per message (default: none).
	Logger *zap.Logger
	// Hooks observe results.
	Hooks []ResultHook
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Telemetry records the message and message_handle_start metrics and a consumer span per
	// message, continuing the trace in the message's opaque data (default nil: none).
	Telemetry *Telemetry
}

// Dispatcher routes each message to the handler for its media type and classifies the outcome
// (the original's sqs_message_dispatcher).
type Dispatcher struct {
	handlers *HandlerRegistry
	opts     DispatcherOptions
	// lines holds the result line's message for each handled media type and result, built once.
	lines map[string]*[len(resultNames)]string
	// resultLog writes the result line. When the logger adds callers, resultLog is the logger
	// without that option and log sets the caller (a fixed place) itself, once looked up: zap
	// would walk the stack for every line.
	resultLog  *zap.Logger
	callerOn   bool
	callerOnce sync.Once
	caller     zapcore.EntryCaller
}

// NewDispatcher returns a dispatcher over handlers.
func NewDispatcher(handlers *HandlerRegistry, opts DispatcherOptions) *Dispatcher {
	if opts.InitialTTL <= 0 {
		opts.InitialTTL = DefaultInitialTTL
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dispatcher{handlers: handlers, opts: opts, lines: map[string]*[len(resultNames)]string{}, resultLog: opts.Logger}
	if addsCaller(opts.Logger) {
		d.resultLog, d.callerOn = opts.Logger.WithOptions(zap.WithCaller(false)), true
	}
	if handlers != nil {
		for _, mt := range handlers.MediaTypes() {
			var l [len(resultNames)]string
			for r := Succeeded; r <= Failed; r++ {
				l[r] = resultLine(mt, r)
			}
			d.lines[mt] = &l
		}
	}
	return d
}

// addsCaller reports whether l annotates its entries with their caller (zap.AddCaller), asking a
// copy of l whose core takes every entry.
func addsCaller(l *zap.Logger) bool {
	probe := l.WithOptions(zap.WrapCore(func(zapcore.Core) zapcore.Core { return probeCore{} }))
	ce := probe.Check(zapcore.InfoLevel, "")
	return ce != nil && ce.Caller.Defined
}

// probeCore takes every entry and writes none (see addsCaller).
type probeCore struct{}

func (probeCore) Enabled(zapcore.Level) bool          { return true }
func (c probeCore) With([]zapcore.Field) zapcore.Core { return c }
func (c probeCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (probeCore) Write(zapcore.Entry, []zapcore.Field) error { return nil }
func (probeCore) Sync() error                                { return nil }

// resultLine is the result line's message, the original's wording.
func resultLine(mediaType string, r ResultType) string {
	return "Result for media type: " + mediaType + " was : " + r.String()
}

// line returns resultLine(mediaType, r), without building it for handled media types.
func (d *Dispatcher) line(mediaType string, r ResultType) string {
	if l, ok := d.lines[mediaType]; ok && r >= Succeeded && r <= Failed {
		return l[r]
	}
	return resultLine(mediaType, r)
}

// Handlers returns the handler registry.
func (d *Dispatcher) Handlers() *HandlerRegistry { return d.handlers }

type messageKey struct{}

// MessageFrom returns the message a handler is running for, or nil.
func MessageFrom(ctx context.Context) *Message {
	m, _ := ctx.Value(messageKey{}).(*Message)
	return m
}

type loggerKey struct{}

// LoggerFrom returns the handler's logger: the dispatcher's logger with the message's opaque data
// as fields (built on first use). Outside a handler it returns a no-op logger.
func LoggerFrom(ctx context.Context) *zap.Logger {
	lz, ok := ctx.Value(loggerKey{}).(*lazyLogger)
	if !ok {
		return zap.NewNop()
	}
	lz.once.Do(func() {
		lz.l = lz.base.With(append(traceFields(trace.SpanContextFromContext(ctx)), zap.Object("opaque", opaqueFields(OpaqueFrom(ctx))))...)
	})
	return lz.l
}

// lazyLogger builds the handler's logger on first use; a handler may ask from several goroutines.
type lazyLogger struct {
	once sync.Once
	base *zap.Logger
	l    *zap.Logger
}

// handlerContext is a handler's context: one allocation carrying the message, its opaque data and
// the lazily built logger (three context.WithValue layers would cost three). The opaque data (the
// message's, case-folded, with the library's keys over it) is built on first use: most handlers
// never ask, and the result line encodes it straight from the message.
type handlerContext struct {
	context.Context
	msg     *Message
	ttl     string // the decremented hop TTL; "" when TTL is off or unreadable
	handler string // the handler's name; "" when none was found
	logger  lazyLogger

	opaqueOnce  sync.Once
	opaqueBuilt atomic.Bool
	opaque      Opaque
}

// Value answers the handler's keys and defers the rest to the parent.
func (c *handlerContext) Value(key any) any {
	switch key.(type) {
	case opaqueKey:
		return c.opaqueData()
	case messageKey:
		return c.msg
	case loggerKey:
		return &c.logger
	}
	return c.Context.Value(key)
}

// opaqueData builds the handler's opaque data once: the original's case-folded context, the
// message's opaque data with keys lower-cased, then the library's keys over it.
func (c *handlerContext) opaqueData() Opaque {
	c.opaqueOnce.Do(func() {
		m := c.msg
		o := make(Opaque, len(m.Opaque)+6)
		o.Merge(m.Opaque)
		o[OpaqueMessageID] = m.MessageID
		o[OpaqueReceiptHandle] = m.ReceiptHandle
		if m.URI != "" {
			o[OpaqueURI] = m.URI
		}
		if c.ttl != "" {
			o[OpaqueTTL] = c.ttl
		}
		if c.handler != "" {
			o[OpaqueHandler] = c.handler
		}
		c.opaque = o
		c.opaqueBuilt.Store(true)
	})
	return c.opaque
}

// overlays reports whether the library sets key in the handler's opaque data.
func (c *handlerContext) overlays(key string) bool {
	switch key {
	case OpaqueMessageID, OpaqueReceiptHandle:
		return true
	case OpaqueURI:
		return c.msg.URI != ""
	case OpaqueTTL:
		return c.ttl != ""
	case OpaqueHandler:
		return c.handler != ""
	}
	return false
}

// MarshalLogObject logs the handler's opaque data (the result line's "opaque" field) without
// building it when it was not built and its keys need no case folding.
func (c *handlerContext) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if c.opaqueBuilt.Load() || !lowerKeys(c.msg.Opaque) {
		return opaqueFields(c.opaqueData()).MarshalLogObject(enc)
	}
	m := c.msg
	for k, v := range m.Opaque {
		if !c.overlays(k) {
			addOpaqueField(enc, k, v)
		}
	}
	enc.AddString(OpaqueMessageID, m.MessageID)
	enc.AddString(OpaqueReceiptHandle, m.ReceiptHandle)
	if m.URI != "" {
		enc.AddString(OpaqueURI, m.URI)
	}
	if c.ttl != "" {
		enc.AddString(OpaqueTTL, c.ttl)
	}
	if c.handler != "" {
		enc.AddString(OpaqueHandler, c.handler)
	}
	return nil
}

// lowerKeys reports whether every key of o is lower case already.
func lowerKeys(o Opaque) bool {
	for k := range o {
		if lowerKey(k) != k {
			return false
		}
	}
	return true
}

type opaqueFields Opaque

func (o opaqueFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for k, v := range o {
		addOpaqueField(enc, k, v)
	}
	return nil
}

// addOpaqueField logs one opaque value: a string as a string, any other value as its JSON.
func addOpaqueField(enc zapcore.ObjectEncoder, k string, v any) {
	if s, ok := v.(string); ok {
		enc.AddString(k, s)
	} else if raw, err := opaqueJSON(v); err == nil {
		enc.AddReflected(k, raw) // JSON text, logged as JSON
	} else {
		enc.AddString(k, opaqueString(v))
	}
}

// Handle handles one message and returns its result; it does not settle the message (see
// [Dispatcher.Dispatch]).
func (d *Dispatcher) Handle(ctx context.Context, m *Message) (context.Context, Result) {
	m.resolvePayload(ctx) // a large payload the source left for its handling
	start := d.opts.Now()
	hc := &handlerContext{Context: ctx, msg: m, logger: lazyLogger{base: d.opts.Logger}}
	ttl := 1
	var ttlErr error
	if d.opts.EnableTTL {
		// Only the exact key is the hop TTL (the original reads opaque_data["x-request-ttl"] from
		// the case-sensitive wire dict); a spelling such as X-Request-Ttl is ordinary data, and
		// the decremented TTL written here replaces it in the case-folded context.
		ttl = d.opts.InitialTTL
		if v, ok := m.Opaque[OpaqueTTL]; ok {
			ttl, ttlErr = parseTTL(v)
		}
		if ttlErr == nil {
			ttl--
			hc.ttl = strconv.Itoa(ttl)
		}
	}
	reg, found := d.handlers.Find(m.MediaType)
	if found {
		hc.handler = reg.Name
	}
	ctx = hc

	var r Result
	if ttlErr != nil {
		// The original raises here; a message whose TTL cannot be read must not start again at
		// the initial TTL, so it fails and backs off to the dead-letter queue.
		r = Result{Type: Failed, Err: ttlErr, Reason: "message hop ttl is not an integer"}
	} else {
		r = d.classify(ctx, m, reg, found, ttl)
	}
	r.Elapsed = d.opts.Now().Sub(start)
	return ctx, r
}

func (d *Dispatcher) classify(ctx context.Context, m *Message, reg Registration, found bool, ttl int) Result {
	switch {
	case d.opts.EnableTTL && ttl <= 0:
		return Result{Type: Expired, Reason: "message ttl expired", Err: &TTLExpired{Reason: "hop ttl reached 0"}}
	case d.opts.MaxAttempts > 0 && m.ReceiveCount > d.opts.MaxAttempts:
		return Result{Type: Skipped, Reason: fmt.Sprintf("message exceeded maximum of %d processing attempts", d.opts.MaxAttempts),
			Extra: map[string]any{"max": d.opts.MaxAttempts}}
	case m.Err != nil && isUnknownMediaType(m.Err):
		return Result{Type: Ignored, Reason: "no schema registered for media type " + m.MediaType}
	case m.Err != nil:
		return Result{Type: Failed, Err: m.Err, Reason: "message could not be decoded"}
	case !found:
		return Result{Type: Ignored, Reason: "no handler registered for " + m.MediaType}
	}
	r := Result{Handler: reg.Name, Type: Succeeded}
	if err := callHandler(ctx, reg, m.Content); err != nil {
		classifyError(&r, err)
	}
	return r
}

// classifyError sets r from a handler's error. It is a function of its own so that the targets
// of errors.As, which escape to the heap, are allocated only when a handler returned an error.
func classifyError(r *Result, err error) {
	var (
		nack   *Nack
		skip   *SkipMessage
		ignore *IgnoreMessage
		ttlErr *TTLExpired
	)
	switch {
	case errors.As(err, &nack):
		r.Type, r.Err, r.Reason, r.Extra, r.Retry = Retried, err, nack.Reason, nack.Extra, nack.Timeout
	case errors.As(err, &skip):
		r.Type, r.Err, r.Reason, r.Extra = Skipped, err, skip.Reason, skip.Extra
	case errors.As(err, &ignore):
		r.Type, r.Err, r.Reason, r.Extra = Ignored, err, ignore.Reason, ignore.Extra
	case errors.As(err, &ttlErr):
		r.Type, r.Err, r.Reason, r.Extra = Expired, err, ttlErr.Reason, ttlErr.Extra
	default:
		r.Type, r.Err = Failed, err
	}
}

// isUnknownMediaType reports whether err is or wraps an *UnknownMediaTypeError.
func isUnknownMediaType(err error) bool {
	var unknown *UnknownMediaTypeError
	return errors.As(err, &unknown)
}

// callHandler runs the handler, turning a panic into a *PanicError.
func callHandler(ctx context.Context, reg Registration, content any) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return reg.call(ctx, content)
}

// Dispatch handles m, logs the result, runs the hooks and settles the message: it deletes it for
// SUCCEEDED, SKIPPED, IGNORED and EXPIRED, and changes its visibility for RETRIED (the Nack's
// timeout) and FAILED (the backoff policy).
func (d *Dispatcher) Dispatch(ctx context.Context, m *Message) Result {
	m.resolvePayload(ctx) // before the span and metrics, which name the media type
	t := d.opts.Telemetry
	var span trace.Span
	if t.tracing() {
		ctx, span = t.startProcess(ctx, m)
	}
	metered := t.messageMetered(ctx)
	var start time.Time
	if metered {
		start = d.opts.Now()
	}
	hctx, r := d.Handle(ctx, m)
	if r.Type == Failed {
		r.Retry = m.Backoff()
	}
	d.log(hctx, m, r, span)
	for _, h := range d.opts.Hooks {
		h(hctx, m, r)
	}
	var err error
	if r.Type.Deletes() {
		err = m.Ack(ctx)
	} else {
		err = m.Nack(ctx, r.Retry)
	}
	if err != nil {
		d.opts.Logger.Warn("settle message", zap.String("message_id", m.MessageID), zap.Stringer("result", r.Type), zap.Error(err))
	}
	if metered {
		t.recordMessage(ctx, m, r, start)
	}
	if span != nil {
		endProcess(span, r)
	}
	return r
}

// log writes the result line; with a consumer span it carries trace_id and span_id.
// logFieldCount is the number of fields log writes for r, so their slice (which escapes into the
// logger) is allocated at its size: 4 in the common case instead of room for all 11.
func logFieldCount(r Result, span trace.Span) int {
	n := 4
	if span != nil && span.SpanContext().IsValid() {
		n += 2 // trace_id, span_id
	}
	if r.Reason != "" {
		n++
	}
	if r.Type == Retried || r.Type == Failed {
		n++
	}
	if len(r.Extra) > 0 {
		n++
	}
	if r.Err != nil && r.Type == Failed {
		n += 2
	}
	return n
}

func (d *Dispatcher) log(ctx context.Context, m *Message, r Result, span trace.Span) {
	ce := d.resultLog.Check(r.Type.Level(), d.line(m.MediaType, r.Type))
	if ce == nil {
		return
	}
	if d.callerOn {
		d.callerOnce.Do(func() { d.caller = zapcore.NewEntryCaller(runtime.Caller(0)) }) // the result line's caller: here
		ce.Caller = d.caller
	}
	var opaque zapcore.ObjectMarshaler
	if hc, ok := ctx.(*handlerContext); ok {
		opaque = hc // encodes the opaque data without building the handler's map
	} else {
		opaque = opaqueFields(OpaqueFrom(ctx))
	}
	fields := make([]zap.Field, 0, logFieldCount(r, span))
	if span != nil {
		fields = append(fields, traceFields(span.SpanContext())...)
	}
	fields = append(fields,
		zap.String("media_type", m.MediaType),
		zap.String("result", r.Type.String()),
		zap.Float64("elapsed_time", float64(r.Elapsed.Microseconds())/1000),
		zap.Object("opaque", opaque),
	)
	if r.Reason != "" {
		fields = append(fields, zap.String("reason", r.Reason))
	}
	if r.Type == Retried || r.Type == Failed {
		fields = append(fields, zap.Float64("retry_timeout_seconds", r.Retry.Seconds()))
	}
	if len(r.Extra) > 0 {
		fields = append(fields, zap.Any("extra", r.Extra))
	}
	if r.Err != nil && r.Type == Failed {
		fields = append(fields, zap.Error(r.Err))
		var pe *PanicError
		if errors.As(r.Err, &pe) {
			fields = append(fields, zap.ByteString("stacktrace", pe.Stack))
		}
	}
	ce.Write(fields...)
}
