package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/zap"
)

// Middleware wraps a handler of T with behaviour of its own (logging, a timeout, deduplication).
type Middleware[T any] func(next fxpubsub.Handler[T]) fxpubsub.Handler[T]

// Wrap returns h wrapped in mws, the first outermost: Wrap(h, a, b) runs a, then b, then h. The
// result keeps h's name (see [Named]).
func Wrap[T any](h fxpubsub.Handler[T], mws ...Middleware[T]) fxpubsub.Handler[T] {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Named is fxpubsub's interface for handlers that name themselves. The handlers of this package and
// every [Middleware] here report the name of the handler they wrap, so a wrapped handler keeps its
// name in logs and in the opaque "handler" key.
type Named = fxpubsub.Named

// NameOf returns h's name as fxpubsub names handlers (see fxpubsub.HandlerName).
func NameOf(h any) string { return fxpubsub.HandlerName(h) }

// wrapped is a handler made by a middleware; it carries the wrapped handler's name.
type wrapped[T any] struct {
	name string
	fn   func(ctx context.Context, content *T) error
}

func (w *wrapped[T]) Handle(ctx context.Context, content *T) error { return w.fn(ctx, content) }

func (w *wrapped[T]) HandlerName() string { return w.name }

func wrap[T any](next fxpubsub.Handler[T], fn func(ctx context.Context, content *T) error) fxpubsub.Handler[T] {
	return &wrapped[T]{name: NameOf(next), fn: fn}
}

// Logging traces each call of the handler at debug level: "handling" before, and after it
// "handled", "handled with outcome" (a Nack, SkipMessage, IgnoreMessage or TTLExpired, with its
// reason) or "handler failed" (any other error), with the elapsed time. Failures stay at debug:
// the dispatcher's result line already reports them once, at warn. A nil logger means the
// dispatcher's per-message logger ([fxpubsub.LoggerFrom]), which carries the opaque data.
func Logging[T any](logger *zap.Logger) Middleware[T] {
	return func(next fxpubsub.Handler[T]) fxpubsub.Handler[T] {
		name := NameOf(next)
		return wrap(next, func(ctx context.Context, content *T) error {
			l := logger
			if l == nil {
				l = fxpubsub.LoggerFrom(ctx)
			}
			l = l.With(zap.String("handler", name))
			l.Debug("handling")
			start := time.Now()
			err := next.Handle(ctx, content)
			elapsed := zap.Float64("elapsed_ms", float64(time.Since(start).Microseconds())/1000)
			switch {
			case err == nil:
				l.Debug("handled", elapsed)
			case isOutcome(err):
				l.Debug("handled with outcome", elapsed, zap.String("outcome", err.Error()))
			default:
				l.Debug("handler failed", elapsed, zap.Error(err))
			}
			return err
		})
	}
}

// isOutcome reports whether err is one of fxpubsub's outcome errors rather than a failure.
func isOutcome(err error) bool {
	var (
		nack   *fxpubsub.Nack
		skip   *fxpubsub.SkipMessage
		ignore *fxpubsub.IgnoreMessage
		ttl    *fxpubsub.TTLExpired
	)
	return errors.As(err, &nack) || errors.As(err, &skip) || errors.As(err, &ignore) || errors.As(err, &ttl)
}

// deletes reports whether the message is deleted after err (success, skip, ignore, ttl expired).
func deletes(err error) bool {
	if err == nil {
		return true
	}
	var nack *fxpubsub.Nack
	return isOutcome(err) && !errors.As(err, &nack)
}

// TimeoutError reports a handler that failed after its deadline passed.
type TimeoutError struct {
	Handler string
	After   time.Duration
	Err     error // what the handler returned
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("handler %s timed out after %s: %v", e.Handler, e.After, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout gives each call of the handler a context that expires after d. The handler must honour
// its context (HTTP requests, SDK calls and database calls do): a handler that returns an error
// after the deadline fails with a *[TimeoutError] (result FAILED, so the message is retried by
// the backoff policy); one that finishes in time, or succeeds anyway, is unaffected. Timeout never
// abandons a running handler: the message stays in flight until the handler returns.
func Timeout[T any](d time.Duration) Middleware[T] {
	return func(next fxpubsub.Handler[T]) fxpubsub.Handler[T] {
		name := NameOf(next)
		return wrap(next, func(ctx context.Context, content *T) error {
			tctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			err := next.Handle(tctx, content)
			if err != nil && !isOutcome(err) && errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
				return &TimeoutError{Handler: name, After: d, Err: err}
			}
			return err
		})
	}
}
