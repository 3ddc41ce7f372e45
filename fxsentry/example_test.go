package fxsentry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
)

// The seed README's "disable all filtering" override, against a loopback stand-in for Sentry.
func ExampleDecorateBeforeSend() {
	received := make(chan []byte, 10)
	sentrySrv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- body
	}))
	defer sentrySrv.Close()
	dsn := "http://public@" + strings.TrimPrefix(sentrySrv.URL, "http://") + "/1"

	var reporter *fxsentry.Reporter
	app := fx.New(
		fx.NopLogger,
		fxconfig.ForTesting("orders", map[string]any{
			"sentry_logging_pubsub": map[string]any{"enabled": true, "dsn": dsn, "release": "example"},
		}),
		fxconfig.Module,
		fxsentry.Module,
		fxsentry.DecorateBeforeSend(func(fxsentry.BeforeSend) fxsentry.BeforeSend {
			return func(event *sentry.Event, _ *sentry.EventHint) *sentry.Event {
				return event // this disables all filtering
			}
		}),
		fx.Populate(&reporter),
	)
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	reporter.Hub().Scope().SetContext("order", sentry.Context{"card": "4111"})
	reporter.Report(ctx, fxsentry.Failure{Err: errors.New("card declined")})
	if err := app.Stop(ctx); err != nil { // flushes the event
		fmt.Println(err)
		return
	}
	body := <-received
	fmt.Println("unfiltered:", bytes.Contains(body, []byte(`"card":"4111"`)))
	// Output: unfiltered: true
}
