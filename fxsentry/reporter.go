package fxsentry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/getsentry/sentry-go"
	"go.uber.org/zap"
)

// sendTimeout bounds one HTTP request to Sentry.
const sendTimeout = 10 * time.Second

// maxTagValue is Sentry's limit on tag values, in characters.
const maxTagValue = 200

// Failure is one message-handling failure to report.
type Failure struct {
	// Err is what went wrong. A Failure without Err is not reported.
	Err error
	// Level is the event level: sentry.LevelError (the default; FAILED results) or
	// sentry.LevelWarning (EXPIRED results).
	Level sentry.Level
	// Stack is a goroutine stack in the text format of runtime/debug.Stack, such as a recovered
	// panic carries. When set it becomes the stack trace of the outermost exception, which is
	// marked unhandled.
	Stack []byte
	// Opaque is the message's opaque data (keys lower case), the source of tags and the user id.
	// A string value is used as is; any other value (a json.RawMessage, as fxpubsub.Opaque holds
	// for numbers, booleans and nested values, or any Go value) as its JSON text.
	Opaque map[string]any
	// MediaType is the message's media type; it is the media_type opaque value when Opaque has
	// none (the dispatcher does not put it there).
	MediaType string
}

// Options configure a [Reporter].
type Options struct {
	// BeforeSend filters every event; nil means [StrictBeforeSend] with the keys of the config's
	// tag mapping and user id.
	BeforeSend BeforeSend
	// Logger gets a warning when stopping could not send every pending event (default: none).
	Logger *zap.Logger
}

// Reporter sends failed messages to Sentry through its own sentry-go client and hub (never the
// global ones). A disabled Reporter (Sentry off, or the nil *Reporter) does nothing and costs
// nothing: check [Reporter.Enabled] to skip even the call. Its methods are safe for concurrent use.
type Reporter struct {
	client       *sentry.Client
	hub          *sentry.Hub
	tags         []tagRule
	userKey      string
	flushTimeout time.Duration
	logger       *zap.Logger
	transport    *http.Transport
	abort        context.CancelFunc
	closeOnce    sync.Once
}

type tagRule struct{ key, tag string }

// NewReporter returns a Reporter for cfg: disabled when cfg.Enabled is false (no client, no
// goroutines), else with a sentry-go client configured from cfg (DSN, environment, release,
// server name, sample rate) and opts.BeforeSend. It fails if cfg does not validate. Call
// [Reporter.Close] when done.
func NewReporter(cfg Config, opts Options) (*Reporter, error) {
	if !cfg.Enabled {
		return &Reporter{}, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mapping := cfg.TagMapping()
	r := &Reporter{
		userKey:      cfg.UserIDKey(),
		flushTimeout: cfg.FlushTimeout,
		logger:       opts.Logger,
	}
	if r.flushTimeout == 0 {
		r.flushTimeout = DefaultConfig().FlushTimeout
	}
	if r.logger == nil {
		r.logger = zap.NewNop()
	}
	for key, tag := range mapping {
		r.tags = append(r.tags, tagRule{key: key, tag: tag})
	}
	sort.Slice(r.tags, func(i, j int) bool { return r.tags[i].key < r.tags[j].key })
	beforeSend := opts.BeforeSend
	if beforeSend == nil {
		beforeSend = StrictBeforeSend(keepKeys(cfg)...)
	}
	var abortCtx context.Context
	abortCtx, r.abort = context.WithCancel(context.Background())
	r.transport = newTransport()
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:         cfg.DSN,
		Environment: cfg.Environment,
		Release:     cfg.Release,
		ServerName:  cfg.ServerName,
		SampleRate:  cfg.SampleRate,
		BeforeSend:  beforeSend,
		HTTPClient:  &http.Client{Transport: abortable{rt: r.transport, abort: abortCtx}, Timeout: sendTimeout},
		// The classic HTTP transport: an event is queued on the reporting goroutine, so a flush
		// waits for it. (With sentry-go 0.46's telemetry buffer, Flush can return while an event
		// is between the buffer and the transport, and Close then drops it.)
		DisableTelemetryBuffer: true,
		DisableMetrics:         true, // no metrics API is offered; don't start its batcher
	})
	if err != nil {
		r.abort()
		return nil, err
	}
	r.client = client
	r.hub = sentry.NewHub(client, sentry.NewScope())
	return r, nil
}

// keepKeys are the keys [StrictBeforeSend] keeps for cfg: the tag mapping's opaque keys and tag
// names, and the user-id key.
func keepKeys(cfg Config) []string {
	keys := []string{cfg.UserIDKey()}
	for key, tag := range cfg.TagMapping() {
		keys = append(keys, key, tag)
	}
	return keys
}

// Enabled reports whether r sends events.
func (r *Reporter) Enabled() bool { return r != nil && r.client != nil }

// Hub returns r's own hub, or nil when disabled. To capture other events with r's client, use a
// clone per goroutine: r.Hub().Clone().
func (r *Reporter) Hub() *sentry.Hub {
	if r == nil {
		return nil
	}
	return r.hub
}

// Report sends f as one event and returns its id, or nil when nothing was sent (disabled, no
// error, sampled out or dropped by before_send). Tags (from the tag mapping) and the user id (from
// the user-id key) are set on a scope cloned for this event only, so concurrent reports never see
// each other's. The event's exception is f.Err with its chain; its stack trace is f.Stack (a
// panic's), else one the error carries (errors from packages sentry-go understands, such as
// github.com/pkg/errors), else none: the reporting goroutine's stack would say nothing about the
// failure and would group unrelated failures together. The event's transaction is the handler
// name (else the media type), and ctx is passed to before_send as hint.Context.
func (r *Reporter) Report(ctx context.Context, f Failure) *sentry.EventID {
	if r == nil || r.client == nil || f.Err == nil {
		return nil
	}
	level := f.Level
	if level == "" {
		level = sentry.LevelError
	}
	scope := r.hub.Scope().Clone()
	scope.SetLevel(level)
	for _, t := range r.tags {
		v := lookup(f.Opaque, t.key)
		if v == "" && t.key == "media_type" {
			v = f.MediaType
		}
		if v != "" {
			scope.SetTag(t.tag, truncate(v, maxTagValue))
		}
	}
	if id := lookup(f.Opaque, r.userKey); id != "" {
		scope.SetUser(sentry.User{ID: id})
	}

	event := r.client.EventFromException(f.Err, level)
	if last := len(event.Exception) - 1; last >= 0 {
		ex := &event.Exception[last]
		if st := parseStack(f.Stack); st != nil {
			ex.Stacktrace = st
			if ex.Mechanism == nil {
				ex.Mechanism = &sentry.Mechanism{Type: "generic"}
			}
			ex.Mechanism.SetUnhandled()
		} else if sentry.ExtractStacktrace(f.Err) == nil {
			ex.Stacktrace = nil // sentry-go's fallback: the stack of this call
		}
	}
	event.Transaction = lookup(f.Opaque, "handler")
	if event.Transaction == "" {
		event.Transaction = f.MediaType
	}
	return r.client.CaptureEvent(event, &sentry.EventHint{Context: ctx, OriginalException: f.Err}, scope)
}

// Close sends pending events, waiting at most the flush timeout or until ctx is done, then
// aborts what is still in flight and releases the client (its goroutines and connections).
// Events not sent by then are lost and logged. Close is idempotent; a disabled Reporter's does
// nothing.
func (r *Reporter) Close(ctx context.Context) error {
	if r == nil || r.client == nil {
		return nil
	}
	r.closeOnce.Do(func() {
		fctx, cancel := context.WithTimeout(ctx, r.flushTimeout)
		defer cancel()
		if !r.client.FlushWithContext(fctx) {
			r.logger.Warn("sentry: pending events not sent before stopping", zap.Duration("flush_timeout", r.flushTimeout), zap.Error(context.Cause(fctx)))
		}
		r.abort()
		r.client.Close()
		r.transport.CloseIdleConnections()
	})
	return nil
}

// lookup returns opaque[key] as text, matching keys case-insensitively (an exact match first).
func lookup(opaque map[string]any, key string) string {
	if v, ok := opaque[key]; ok {
		return text(v)
	}
	for k, v := range opaque {
		if strings.EqualFold(k, key) {
			return text(v)
		}
	}
	return ""
}

// text renders an opaque value: a string as is, anything else as its JSON text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.RawMessage:
		return string(x)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// newTransport returns a transport of r's own (so Close can drop its connections), configured as
// http.DefaultTransport.
func newTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, MaxIdleConns: 100,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
}

// abortable makes every request fail fast once abort is done, so closing the client never waits
// for a slow Sentry.
type abortable struct {
	rt    http.RoundTripper
	abort context.Context
}

func (a abortable) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(a.abort, cancel)
	release := func() { stop(); cancel() }
	resp, err := a.rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releaseOnClose struct {
	io.ReadCloser
	release func()
	once    sync.Once
}

func (b *releaseOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// Flush waits until pending events are sent, at most the flush timeout or until ctx is done, and
// reports whether they all were. Unlike Close it keeps the reporter usable: an AWS Lambda
// function flushes before each invocation returns, because Lambda freezes the process between
// invocations. A disabled Reporter's returns true at once.
func (r *Reporter) Flush(ctx context.Context) bool {
	if r == nil || r.client == nil {
		return true
	}
	fctx, cancel := context.WithTimeout(ctx, r.flushTimeout)
	defer cancel()
	return r.client.FlushWithContext(fctx)
}
