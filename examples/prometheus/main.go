package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// name is the daemon's name: its metadata name and the EXAMPLE__ prefix of its environment.
const name = "example"

// GreetingMediaType is the demo's media type.
var GreetingMediaType = fxpubsub.Created("Greeting")

// Greeting is the demo's message.
type Greeting struct {
	URI  string `json:"uri" validate:"required,url"`
	Text string `json:"text" validate:"required"`
}

// HandleGreeting succeeds, except for the texts "later" (RETRIED in an hour) and "broken" (FAILED,
// redelivered after the backoff).
func HandleGreeting(_ context.Context, g *Greeting) error {
	switch g.Text {
	case "later":
		return &fxpubsub.Nack{Timeout: time.Hour, Reason: "try again later"}
	case "broken":
		return errors.New("greeting is broken")
	}
	return nil
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run runs the daemon and returns its exit code; cancelling ctx stops it like SIGTERM. listening,
// if set, gets the metrics server's address once it listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, listening func(addr string)) int {
	opts := []fx.Option{
		fx.Provide(NewMeterProvider),
		fx.Invoke(func(lc fx.Lifecycle, s *fxconfig.Settings, reg *prometheus.Registry, log *zap.Logger) error {
			return ServeMetrics(lc, s, reg, log, stdout, listening)
		}),
		fxpubsub.AsHandlerFunc(GreetingMediaType, HandleGreeting),
	}
	if !queueGiven(args, os.Environ()) {
		args = append([]string{"--testing", "--set", "logging.level=warn"}, args...)
		opts = append(opts, fx.Invoke(publishDemo))
	}
	return fxpubsub.MainContext(ctx, name, args, nil, stdout, stderr, opts...)
}

// NewMeterProvider returns a meter provider that exports to a Prometheus registry of its own
// (apps that already serve prometheus.DefaultRegisterer can pass that instead), and shuts it down
// on stop.
func NewMeterProvider(lc fx.Lifecycle) (metric.MeterProvider, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	lc.Append(fx.StopHook(mp.Shutdown))
	return mp, reg, nil
}

// Config is section prometheus.
type Config struct {
	// Addr is where GET /metrics is served (default 127.0.0.1:9464; port 0 picks a free one).
	Addr string `koanf:"addr"`
}

// ServeMetrics serves reg on prometheus.addr from start to stop.
func ServeMetrics(lc fx.Lifecycle, s *fxconfig.Settings, reg *prometheus.Registry, log *zap.Logger, stdout io.Writer, listening func(string)) error {
	cfg := Config{Addr: "127.0.0.1:9464"}
	if err := s.Unmarshal("prometheus", &cfg); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("prometheus.addr: %w", err)
			}
			fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
			if listening != nil {
				listening(ln.Addr().String())
			}
			go func() {
				defer close(done)
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					log.Error("metrics server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			err := srv.Shutdown(ctx)
			<-done
			return err
		},
	})
	return nil
}

// publishDemo publishes the demo's greetings once the app has started, from a goroutine the start
// hook starts and the stop hook waits for (hooks only schedule work). A failed publish stops the
// app with exit code 1.
func publishDemo(lc fx.Lifecycle, sh fx.Shutdowner, producer *fxpubsub.Producer, log *zap.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				for i, text := range []string{"hello", "hi", "good morning", "later", "broken"} {
					g := Greeting{URI: fmt.Sprintf("https://greetings.example/%d", i), Text: text}
					if _, err := producer.Produce(ctx, GreetingMediaType, g); err != nil {
						log.Error("publish greeting", zap.Error(err))
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
}

// queueGiven reports whether the command line or the environment names a queue to consume (see
// fxpubsub.Main's flags); otherwise run is the demo.
func queueGiven(args, environ []string) bool {
	for _, a := range args {
		if a == "--stdin" || a == "--config" || strings.HasPrefix(a, "--sqs-queue-url") || strings.HasPrefix(a, "--config=") ||
			strings.Contains(a, "sqs_consumer.sqs_queue_url=") {
			return true
		}
	}
	for _, e := range environ {
		if strings.HasPrefix(e, "EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL=") || strings.HasPrefix(e, "EXAMPLE__SETTINGS=") {
			return true
		}
	}
	return false
}
