package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// name is the daemon's name: its metadata name and the EXAMPLE__ prefix of its environment.
const name = "example"

// demoMessages is how many messages the demo publishes.
const demoMessages = 5

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the daemon and returns its exit code; cancelling ctx stops it like SIGTERM.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts := []fx.Option{
		fx.Supply(&Output{w: stdout}),
		fx.Provide(NewCollaborator),
		fxpubsub.AsHandler[SimpleSchema]("", NewSimpleHandler),
		fxpubsub.AsResultHook(NewResultPrinter),
	}
	if !queueGiven(args, os.Environ()) {
		// The demo: in-memory backend, quiet logs (a later --set logging.level=... wins), and a
		// few messages to handle. Say so, so that a mistyped queue setting is noticed.
		fmt.Fprintln(stderr, fallbackNote)
		args = append([]string{"--testing", "--set", "logging.level=warn"}, args...)
		opts = append(opts, demo(demoMessages))
	}
	return fxpubsub.MainContext(ctx, name, args, stdin, stdout, stderr, opts...)
}

// fallbackNote is printed on stderr when run falls back to the in-memory demo.
const fallbackNote = "example: no queue given (--sqs-queue-url, --stdin, --config, " +
	"--set sqs_consumer.sqs_queue_url=..., EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL or EXAMPLE__SETTINGS), " +
	"so this is the demo on the in-memory backend: it publishes a few messages to itself and exits"

// demo publishes n messages once the app has started, from a goroutine the start hook starts and
// the stop hook waits for (hooks only schedule work), and shuts the app down (exit code 0) once n
// results are in. A failed publish stops the app with exit code 1.
func demo(n int) fx.Option {
	return fx.Options(
		fx.Invoke(func(lc fx.Lifecycle, sh fx.Shutdowner, producer *fxpubsub.Producer, log *zap.Logger) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			lc.Append(fx.Hook{
				OnStart: func(context.Context) error {
					go func() {
						defer close(done)
						for i := range n {
							msg := SimpleSchema{
								Message:   fmt.Sprintf("Hello, world! (%d of %d)", i+1, n),
								Timestamp: float64(time.Now().UnixMicro()) / 1e6,
							}
							if _, err := producer.Produce(ctx, SimpleMediaType, msg); err != nil {
								log.Error("publish example message", zap.Error(err))
								_ = sh.Shutdown(fx.ExitCode(1))
								return
							}
						}
					}()
					return nil
				},
				OnStop: func(context.Context) error {
					cancel()
					<-done
					return nil
				},
			})
		}),
		fxpubsub.AsResultHook(func(sh fx.Shutdowner) fxpubsub.ResultHook {
			var handled atomic.Int64
			return func(context.Context, *fxpubsub.Message, fxpubsub.Result) {
				if handled.Add(1) == int64(n) {
					_ = sh.Shutdown(fx.ExitCode(0))
				}
			}
		}),
	)
}

// queueGiven reports whether the command line or the environment names something to consume:
// --sqs-queue-url, --stdin, --config, --set sqs_consumer.sqs_queue_url=..., or the environment
// variables EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL or EXAMPLE__SETTINGS. Otherwise run is the demo.
func queueGiven(args, environ []string) bool {
	for i, a := range args {
		if a == "--" {
			break
		}
		flag, value, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		switch flag {
		case "sqs-queue-url", "stdin", "config":
			return true
		case "set":
			if value == "" && i+1 < len(args) {
				value = args[i+1]
			}
			if strings.HasPrefix(strings.TrimSpace(value), "sqs_consumer.sqs_queue_url=") {
				return true
			}
		}
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if v != "" && (k == "EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL" || k == "EXAMPLE__SETTINGS") {
			return true
		}
	}
	return false
}
