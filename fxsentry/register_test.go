package fxsentry_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// The decorated before_send, not the default, is the one sentry-go calls, and it receives the
// default to chain to.
func TestDecorateBeforeSendIsWhatSentryCalls(t *testing.T) {
	srv := newSentryServer(t)
	var calls atomic.Int32
	var c components
	app := fxtest.New(t,
		fxconfig.ForTesting("orders", sentryValues(srv.DSN())),
		fxconfig.Module, fxsentry.Module,
		fxsentry.DecorateBeforeSend(func(prev fxsentry.BeforeSend, cfg fxsentry.Config) fxsentry.BeforeSend {
			return func(e *sentry.Event, h *sentry.EventHint) *sentry.Event {
				calls.Add(1)
				e = prev(e, h)
				e.Tags["decorated"] = cfg.Release
				if h.Context.Value(ctxKey{}) != "handler ctx" || h.OriginalException == nil {
					e.Tags["hint"] = "missing"
				}
				return e
			}
		}),
		fx.Populate(&c),
	)
	app.RequireStart()
	ctx := context.WithValue(context.Background(), ctxKey{}, "handler ctx")
	c.Reporter.Report(ctx, fxsentry.Failure{Err: errors.New("x"), Opaque: map[string]any{"x-request-id": "r"}})
	app.RequireStop()
	e := srv.wait(t, 1, time.Second)[0]
	if calls.Load() != 1 || e.tags()["decorated"] != "test-sha" || e.tags()["hint"] != "" || e.tags()["x-request-id"] != "r" {
		t.Fatalf("calls %d, tags %v", calls.Load(), e.tags())
	}
	// The unnamed BeforeSend follows the named one.
	c.Unnamed(&sentry.Event{Tags: map[string]string{}}, &sentry.EventHint{Context: context.Background()})
	if calls.Load() != 2 {
		t.Fatal("unnamed BeforeSend is not the decorated one")
	}
}

type ctxKey struct{}

// The seed README's "disable all filtering" override.
func TestDecorateBeforeSendDisablesFiltering(t *testing.T) {
	srv := newSentryServer(t)
	var r *fxsentry.Reporter
	app := fxtest.New(t,
		fxconfig.ForTesting("orders", sentryValues(srv.DSN())),
		fxconfig.Module, fxsentry.Module,
		fxsentry.DecorateBeforeSend(func(fxsentry.BeforeSend) fxsentry.BeforeSend {
			return func(event *sentry.Event, _ *sentry.EventHint) *sentry.Event {
				return event // this disables all filtering
			}
		}),
		fx.Populate(&r),
	)
	app.RequireStart()
	r.Hub().Scope().SetContext("order", sentry.Context{"card": "4111"})
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("x")})
	app.RequireStop()
	e := srv.wait(t, 1, time.Second)[0]
	if card := e["contexts"].(map[string]any)["order"].(map[string]any)["card"]; card != "4111" {
		t.Fatalf("card = %v, want it unfiltered", card)
	}
}

func TestDecorateBeforeSendRejectsBadSignatures(t *testing.T) {
	for _, give := range []any{nil, 42, func() {}, func(fxsentry.BeforeSend) {}, func(string) fxsentry.BeforeSend { return nil },
		func(fxsentry.BeforeSend) (fxsentry.BeforeSend, string) { return nil, "" }} {
		var r *fxsentry.Reporter
		app := fx.New(fx.NopLogger, fxconfig.ForTesting("orders", nil), fxconfig.Module, fxsentry.Module,
			fxsentry.DecorateBeforeSend(give), fx.Populate(&r))
		if err := app.Err(); err == nil || !strings.Contains(err.Error(), "fxsentry.DecorateBeforeSend: want func(fxsentry.BeforeSend") {
			t.Errorf("%T: got %v", give, err)
		}
	}
}

func TestDecorateBeforeSendNilKeepsStrictDefault(t *testing.T) {
	srv := newSentryServer(t)
	var r *fxsentry.Reporter
	app := fxtest.New(t, fxconfig.ForTesting("orders", sentryValues(srv.DSN())), fxconfig.Module, fxsentry.Module,
		fxsentry.DecorateBeforeSend(func(fxsentry.BeforeSend) (fxsentry.BeforeSend, error) { return nil, nil }),
		fx.Populate(&r))
	app.RequireStart()
	r.Hub().Scope().SetContext("order", sentry.Context{"card": "4111"})
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("x")})
	app.RequireStop()
	if card := srv.wait(t, 1, time.Second)[0]["contexts"].(map[string]any)["order"].(map[string]any)["card"]; card != fxsentry.Redacted {
		t.Fatalf("card = %v", card)
	}
}
