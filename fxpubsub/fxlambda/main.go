package fxlambda

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/dig"
	"go.uber.org/fx"
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
