package fxpubsub_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// runApp runs fxpubsub.RunContext with opts plus an OnStart hook that stops it (the in-process
// SIGTERM), so an app that starts returns at once.
func runApp(t *testing.T, args []string, opts ...fx.Option) mainRun {
	t.Helper()
	return runOwnApp(t, true, args, opts...)
}

// runOwnApp is runApp; without stop, the app must stop by itself.
func runOwnApp(t *testing.T, stop bool, args []string, opts ...fx.Option) mainRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr strings.Builder
	if stop {
		opts = append(opts, fx.Invoke(func(lc fx.Lifecycle) { lc.Append(fx.StartHook(cancel)) }))
	}
	code := fxpubsub.RunContext(ctx, "runtest", args, strings.NewReader(""), &stdout, &stderr, opts...)
	if context.Cause(ctx) == context.DeadlineExceeded {
		t.Fatal("RunContext did not return before the deadline")
	}
	return mainRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestRunHelpAndUsageErrors(t *testing.T) {
	r := runApp(t, []string{"--help"})
	if r.code != fxpubsub.ExitOK || r.stderr != "" {
		t.Errorf("--help: exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	for _, w := range []string{"Usage: runtest [flags]", "--sqs-queue-url", "--processes", "--health-addr", "--set", "--debug", "Exit status"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("usage does not mention %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "consumer daemon") {
		t.Errorf("usage of an app of one's own describes Main's daemon:\n%s", r.stdout)
	}
	r = runApp(t, []string{"--nope"})
	if r.code != fxpubsub.ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, "runtest: unknown flag --nope") || !strings.Contains(r.stderr, "Run 'runtest --help' for usage.") {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q; want 2 and the flag named", r.code, r.stdout, r.stderr)
	}
}

// fxEvents returns the observed log entries written by fx's event logger.
func fxEvents(logs *observer.ObservedLogs) int {
	n := 0
	for _, e := range logs.All() {
		switch e.Message {
		case "provided", "invoking", "invoked", "started", "running", "OnStart hook executed", "OnStop hook executed", "stopped", "decorated":
			n++
		}
	}
	return n
}

func TestRunLogsFxEventsOnlyWithDebug(t *testing.T) {
	for _, debug := range []bool{false, true} {
		core, logs := observer.New(zapcore.DebugLevel)
		args := []string{"--testing"}
		if debug {
			args = append(args, "--debug")
		}
		r := runApp(t, args, fx.Decorate(func(*zap.Logger) *zap.Logger { return zap.New(core) }))
		if r.code != fxpubsub.ExitOK {
			t.Fatalf("debug=%v: exit %d, stderr %q", debug, r.code, r.stderr)
		}
		switch n := fxEvents(logs); {
		case debug && n == 0:
			t.Errorf("--debug: no fx events in the log: %v", logs.AllUntimed())
		case !debug && n > 0:
			t.Errorf("without --debug: %d fx events in the log", n)
		}
	}
}

// appConfig is an app's own config section with a required key.
type appConfig struct {
	Region string `koanf:"region" validate:"required"`
}

func TestRunMissingRequiredKeyIsOneLine(t *testing.T) {
	r := runApp(t, []string{"--testing"}, fx.Invoke(func(s *fxconfig.Settings) error {
		var c appConfig
		return s.Unmarshal("orders", &c)
	}))
	if r.code != fxpubsub.ExitFailure {
		t.Errorf("exit %d, want 1", r.code)
	}
	expectOneLine(t, r.stderr, "runtest: orders.region: is required")
}

func TestRunTakesTheDaemonFlags(t *testing.T) {
	var cfg fxpubsub.Config
	r := runApp(t, []string{"--testing", "--sqs-queue-url", "run-orders", "--processes", "3", "--health-addr", "127.0.0.1:0", "--envelope", "raw"},
		fx.Populate(&cfg))
	if r.code != fxpubsub.ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if cfg.Consumer.SQSQueueURL != "run-orders" || cfg.Consumer.Pollers != 3 || cfg.Health.Addr != "127.0.0.1:0" || cfg.Envelope.StrategyName != "raw" {
		t.Errorf("the daemon flags did not reach the config: consumer %+v, health %+v, envelope %+v", cfg.Consumer, cfg.Health, cfg.Envelope)
	}
}

func TestRunReplayNeedsTheDaemon(t *testing.T) {
	r := runApp(t, []string{"--testing", "--stdin"})
	if r.code != fxpubsub.ExitUsage {
		t.Errorf("exit %d, want 2", r.code)
	}
	expectOneLine(t, r.stderr, "fxpubsub.RunConsumer()")
}

// An app's own fx.Shutdowner exit code is Run's.
func TestRunReturnsTheShutdownExitCode(t *testing.T) {
	r := runOwnApp(t, false, []string{"--testing"}, fx.Invoke(func(lc fx.Lifecycle, s fx.Shutdowner) {
		lc.Append(fx.StartHook(func() error { return s.Shutdown(fx.ExitCode(3)) }))
	}))
	if r.code != 3 || r.stderr != "" {
		t.Errorf("exit %d, stderr %q; want 3 and nothing", r.code, r.stderr)
	}
}
