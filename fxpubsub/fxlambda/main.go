package fxlambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/dig"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Main runs an AWS Lambda function that handles SQS events, the original's make_lambda_handler:
// it builds the fx app of [fxpubsub.Module], [Module] and opts (the app's handlers and
// collaborators, as given to fxpubsub.Main) once per cold start, starts it, and hands every
// invocation to the same [Handler]. name is the app name: the metadata name and the prefix of
// environment variables (NAME__SECTION__KEY), the function's only configuration source besides
// NAME__SETTINGS files. Call it from main:
//
//	func main() { os.Exit(fxlambda.Main("example", handlers)) }
//
// Main returns only when the app cannot be built or started (1, with the reason on stderr), or
// after the Lambda service's SIGTERM has stopped the app (0).
func Main(name string, opts ...fx.Option) int {
	return run(name, os.Stderr, func(h *Handler, stop func()) {
		lambda.StartWithOptions(h.Invoke, lambda.WithEnableSIGTERM(stop))
	}, opts...)
}

// run builds and starts the app, then serves with start until it returns.
func run(name string, stderr io.Writer, start func(h *Handler, stop func()), opts ...fx.Option) int {
	var h *Handler
	app := fx.New(append([]fx.Option{
		fxconfig.WithInput(fxconfig.Input{Name: name}),
		fxpubsub.Module,
		Module,
		fx.NopLogger,
		fx.Populate(&h),
	}, opts...)...)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", name, dig.RootCause(err))
		return 1
	}
	if err := app.Err(); err != nil {
		return fail(err)
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return fail(fmt.Errorf("start: %w", err))
	}
	stopped := make(chan error, 1)
	stop := func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
		defer cancel()
		stopped <- app.Stop(stopCtx)
	}
	start(h, stop)
	select {
	case err := <-stopped:
		if err != nil {
			return fail(fmt.Errorf("stop: %w", err))
		}
	default:
		stop()
		if err := <-stopped; err != nil {
			return fail(fmt.Errorf("stop: %w", err))
		}
	}
	return 0
}

// Module provides the [Handler] from the graph of [fxpubsub.Module]. Add Options to the graph
// (fx.Supply(fxlambda.Options{...})) to change its defaults.
var Module = fx.Module("pubsub-lambda", fx.Provide(NewHandlerFx))

// HandlerParams are the handler's dependencies.
type HandlerParams struct {
	fx.In
	Decoder        *fxpubsub.Decoder
	Dispatcher     *fxpubsub.Dispatcher
	Backend        *fxpubsub.Backend
	Options        Options              `optional:"true"`
	Reporter       *fxsentry.Reporter   `optional:"true"`
	MeterProvider  metric.MeterProvider `optional:"true"`
	TracerProvider trace.TracerProvider `optional:"true"`
	Logger         *zap.Logger          `optional:"true"`
}

// forceFlusher is what OpenTelemetry SDK providers implement.
type forceFlusher interface {
	ForceFlush(ctx context.Context) error
}

// NewHandlerFx builds the handler: it settles through the backend's SQS client (none in testing
// mode, whose in-memory queues are not the function's event source), and flushes Sentry and the
// OpenTelemetry providers (the graph's, else the global ones) before each invocation returns.
func NewHandlerFx(p HandlerParams) *Handler {
	opts := p.Options
	if opts.SQS == nil && p.Backend.Memory == nil {
		opts.SQS = p.Backend.SQS
	}
	if opts.Logger == nil {
		opts.Logger = p.Logger
	}
	if p.Reporter.Enabled() {
		r := p.Reporter
		opts.Flush = append(opts.Flush, func(ctx context.Context) error {
			if !r.Flush(ctx) {
				return errors.New("sentry: pending events not sent")
			}
			return nil
		})
	}
	var mp any = p.MeterProvider
	if p.MeterProvider == nil {
		mp = otel.GetMeterProvider()
	}
	var tp any = p.TracerProvider
	if p.TracerProvider == nil {
		tp = otel.GetTracerProvider()
	}
	for _, prov := range []any{mp, tp} {
		if f, ok := prov.(forceFlusher); ok {
			opts.Flush = append(opts.Flush, f.ForceFlush)
		}
	}
	return NewHandler(p.Decoder, p.Dispatcher, opts)
}
