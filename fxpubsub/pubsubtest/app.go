package pubsubtest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// DefaultTimeout is how long [App]'s helpers wait for messages to be handled.
const DefaultTimeout = 10 * time.Second

// App is a started test app consuming from the in-memory backend: [Options] plus the test's own
// options plus [fxpubsub.RunConsumer], built with fxtest, started, and stopped at t's cleanup. Its
// log goes to t's log ([LogTo]).
type App struct {
	*fxtest.App
	// Producer is the app's producer (sns_producer).
	Producer *fxpubsub.Producer
	// Recorder holds everything published, by the test or by handlers.
	Recorder *Recorder
	// Results holds every handled message's result.
	Results *Results
	// Timeout bounds [App.Handle] and [App.Wait] (default [DefaultTimeout]).
	Timeout time.Duration

	t testing.TB
}

// New builds and starts a test app from Options(name, values), opts and the consumer daemon, and
// stops it when the test ends; a start error fails t. Use fxtest.New with [Options] directly for
// an app that must not consume, or to control start and stop yourself.
func New(t testing.TB, name string, values map[string]any, opts ...fx.Option) *App {
	t.Helper()
	a := &App{Timeout: DefaultTimeout, t: t}
	a.App = fxtest.New(t,
		Options(name, values),
		LogTo(t),
		fx.Options(opts...),
		fxpubsub.RunConsumer(),
		fx.Populate(&a.Producer, &a.Recorder, &a.Results),
	)
	a.RequireStart()
	t.Cleanup(func() { a.RequireStop() })
	return a
}

// Publish produces one message with the app's producer (so it is recorded and, on the in-memory
// backend, delivered to the app's queue) and returns its SNS message id. A produce error fails t
// with t.Fatalf.
func (a *App) Publish(ctx context.Context, mediaType string, content any, opts ...fxpubsub.ProduceOption) string {
	a.t.Helper()
	id, err := a.Producer.Produce(ctx, mediaType, content, opts...)
	if err != nil {
		a.t.Fatalf("pubsubtest: produce %s: %v", mediaType, err)
	}
	return id
}

// Handle publishes one message, waits until the app's consumer has handled it, and returns its
// first result. Messages its handler published are recorded by then. It fails t when the publish
// fails or the message is not handled within a.Timeout.
func (a *App) Handle(ctx context.Context, mediaType string, content any, opts ...fxpubsub.ProduceOption) Handled {
	a.t.Helper()
	id := a.Publish(ctx, mediaType, content, opts...)
	if id == "" {
		a.t.Fatalf("pubsubtest: produce %s returned no message id (is sns_producer.skip on?)", mediaType)
		return Handled{}
	}
	return a.Results.WaitForMessage(a.t, id, a.Timeout)
}

// Wait waits until at least n messages were handled (see [Results.Wait]).
func (a *App) Wait(n int) []Handled {
	a.t.Helper()
	return a.Results.Wait(a.t, n, a.Timeout)
}
