package fxpubsub

import (
	"context"
	"errors"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
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

// SentryHookParams take the reporter optionally, so [Core] works with or without fxsentry.Module.
type SentryHookParams struct {
	fx.In
	Reporter *fxsentry.Reporter `optional:"true"`
}

// NewSentryHookFx returns the Sentry result hook (nil when Sentry is off or absent).
func NewSentryHookFx(p SentryHookParams) ResultHook { return NewSentryHook(p.Reporter) }

// sentryHook joins the result hooks with the Sentry reporter.
var sentryHook = AsResultHook(NewSentryHookFx)
