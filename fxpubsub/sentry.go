package fxpubsub

import (
	"context"
	"errors"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxsentry"
)

// NewSentryHook adapts r to a ResultHook: FAILED results are reported as error events (a panic
// with its stack), EXPIRED ones as warnings, nothing else. With Sentry disabled (or r nil) it
// returns nil and the dispatcher runs no hook at all.
func NewSentryHook(r *fxsentry.Reporter) ResultHook {
	if !r.Enabled() {
		return nil
	}
	return func(ctx context.Context, m *Message, res Result) {
		var level sentry.Level
		switch res.Type {
		case Failed:
			level = sentry.LevelError
		case Expired:
			level = sentry.LevelWarning
		default:
			return
		}
		f := fxsentry.Failure{Err: res.Err, Level: level, MediaType: m.MediaType, Opaque: OpaqueFrom(ctx)}
		var pe *PanicError
		if errors.As(res.Err, &pe) {
			f.Stack = pe.Stack
		}
		r.Report(ctx, f)
	}
}
