package fxsentry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

func sentryValues(dsn string) map[string]any {
	return map[string]any{"sentry_logging_pubsub": map[string]any{"enabled": true, "dsn": dsn, "release": "test-sha"}}
}

type components struct {
	fx.In
	Named    fxsentry.BeforeSend `name:"sentry_before_send"`
	Unnamed  fxsentry.BeforeSend
	Reporter *fxsentry.Reporter
	Config   fxsentry.Config
}

func TestModuleComponentsDisabledByDefault(t *testing.T) {
	var c components
	fxtest.New(t, fxconfig.ForTesting("orders", nil), fxconfig.Module, fxsentry.Module, fx.Populate(&c)).RequireStart().RequireStop()
	if c.Named == nil || c.Unnamed == nil || c.Reporter == nil || c.Reporter.Enabled() || c.Config.Enabled {
		t.Fatalf("components = %+v", c)
	}
	// The default is the strict one.
	e := c.Named(&sentry.Event{Contexts: map[string]sentry.Context{"extra": {"card": "4111", "handler": "h"}}}, nil)
	if e.Contexts["extra"]["card"] != fxsentry.Redacted || e.Contexts["extra"]["handler"] != "h" {
		t.Fatalf("default before_send kept %v", e.Contexts["extra"])
	}
}

func TestModuleReadsEnvironmentFromInput(t *testing.T) {
	srv := newSentryServer(t)
	var r *fxsentry.Reporter
	app := fxtest.New(t,
		fxconfig.WithInput(fxconfig.Input{Name: "orders", Environ: []string{
			"ORDERS__SENTRY_LOGGING_PUBSUB__ENABLED=true", "ORDERS__SENTRY_LOGGING_PUBSUB__DSN=" + srv.DSN(),
			"MICROCOSM_ENVIRONMENT=production", "BUILD_SHA=0123abc",
		}}),
		fxconfig.Module, fxsentry.Module, fx.Populate(&r))
	app.RequireStart()
	r.Report(context.Background(), fxsentry.Failure{Err: errors.New("x")})
	app.RequireStop() // flushes
	e := srv.wait(t, 1, time.Second)[0]
	if e.str("environment") != "production" || e.str("release") != "0123abc" || e.str("server_name") != "orders_daemon" {
		t.Fatalf("event = %v", e)
	}
}

func TestModuleStartupErrorNamesKey(t *testing.T) {
	var r *fxsentry.Reporter
	app := fx.New(fx.NopLogger,
		fxconfig.ForTesting("orders", map[string]any{"sentry_logging": map[string]any{"enabled": true, "dsn": "nope"}}),
		fxconfig.Module, fxsentry.Module, fx.Populate(&r))
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), "sentry_logging.dsn: invalid DSN") {
		t.Fatalf("got %v", err)
	}
}
