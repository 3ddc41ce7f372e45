package fxpubsub

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/microcosm-go/pubsub/fxconfig"
	"go.uber.org/dig"
	"go.uber.org/fx"
)

// Run runs an fx app of your own with [Main]'s command line, logs and exit codes: it is the way
// to build an app around fxpubsub without writing fx.New yourself. It parses args (without the
// program name) for Main's flags (--help prints usage and returns 0; a bad flag prints one line and
// returns 2; the daemon's flags, --sqs-queue-url, --processes, --health-addr and the others, set
// their config keys as under Main), builds fx.New from fxconfig's and this package's [Module] and
// opts, with fx's own event log on zap only under --debug, starts it and runs until SIGINT or
// SIGTERM, until an fx.Shutdowner shuts it down (its exit code is returned), or until the
// daemon, when opts include [RunConsumer], stops by itself. Start-up failures (a missing
// required key, missing credentials) return 1 with one line on stderr naming what was wrong.
// opts must not include [Module] or fxconfig's Input again. Main is Run with [RunConsumer] and
// [ServeHealth]:
//
//	func main() { os.Exit(fxpubsub.Run("orders", os.Args[1:], fx.Invoke(publishOrders))) }
func Run(name string, args []string, opts ...fx.Option) int {
	return RunContext(context.Background(), name, args, os.Stdin, os.Stdout, os.Stderr, opts...)
}

// RunContext is [Run] with its context and standard streams made explicit, as [MainContext] is
// for Main: cancelling ctx stops the app like SIGTERM.
func RunContext(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...fx.Option) int {
	return run(ctx, runStreams{stdin: stdin, stdout: stdout, stderr: stderr}, name, args, false, opts)
}

// runStreams are a run's standard streams.
type runStreams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// runSlot is where [RunConsumer] tells a run the daemon it turned on (nil: the app runs none).
type runSlot struct{ daemon *Daemon }

// recordDaemonParams are what [RunConsumer]'s invoke takes: the daemon, and a run's slot when the
// app is run by [Run] or [Main].
type recordDaemonParams struct {
	fx.In
	Daemon *Daemon
	Slot   *runSlot `optional:"true"`
}

// recordDaemon is [RunConsumer]'s invoke: building the daemon turns it on.
func recordDaemon(p recordDaemonParams) {
	if p.Slot != nil {
		p.Slot.daemon = p.Daemon
	}
}

// run is [Run] and [Main]: daemon says the app is Main's consumer daemon (its usage text, and
// [RunConsumer] and [ServeHealth] before opts).
func run(ctx context.Context, std runStreams, name string, args []string, daemon bool, opts []fx.Option) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(std.stderr, "%s: %s\n", name, oneLine(err))
		return code
	}
	cmd, err := parseMainArgs(name, args)
	cmd.daemon = daemon
	switch {
	case errors.Is(err, flag.ErrHelp):
		cmd.usage(std.stdout)
		return ExitOK
	case err != nil:
		fmt.Fprintf(std.stderr, "%s: %s\nRun '%s --help' for usage.\n", name, oneLine(err), name)
		return ExitUsage
	}

	var replay *ReplayReader
	switch {
	case cmd.stdin:
		replay = NewReplayReader(std.stdin, "stdin")
	case cmd.replayFile != "":
		f, err := os.Open(cmd.replayFile)
		if err != nil {
			return fail(ExitFailure, fmt.Errorf("replay: %w", err))
		}
		defer f.Close()
		replay = NewReplayReader(f, cmd.replayFile)
	}

	var (
		slot     runSlot
		settings *fxconfig.Settings
	)
	appOpts := []fx.Option{
		fxconfig.WithInput(cmd.input),
		Module,
		fx.Supply(&slot),
		fx.Populate(&settings),
	}
	if daemon {
		appOpts = append(appOpts, RunConsumer(), ServeHealth())
	}
	if cmd.debug {
		appOpts = append(appOpts, fx.WithLogger(fxconfig.EventLogger))
	} else {
		appOpts = append(appOpts, fx.NopLogger)
	}
	if replay != nil {
		appOpts = append(appOpts, fx.Provide(replaySource(replay)))
	}
	app := fx.New(append(appOpts, opts...)...)
	if err := app.Err(); err != nil {
		err = dig.RootCause(err)
		if errors.Is(err, ErrNoQueue) {
			err = fmt.Errorf("%w; pass --sqs-queue-url (or --testing for the in-memory backend)", err)
		}
		return fail(ExitFailure, err)
	}
	if err := settings.CheckKeys(); err != nil {
		return fail(ExitUsage, err)
	}
	daemonRuns := slot.daemon
	if replay != nil && daemonRuns == nil {
		return fail(ExitUsage, errors.New("--stdin and replay files need the consumer daemon: this app does not run fxpubsub.RunConsumer()"))
	}

	// Start on a context of its own: a cancelled ctx means "stop", which happens right after start.
	// (fx returns a start-context error while hooks may still be starting, so a failed start is
	// always followed by Stop, which stops whatever did start.)
	startCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), app.StopTimeout())
		defer cancelStop()
		_ = app.Stop(stopCtx)
		return fail(ExitFailure, fmt.Errorf("start: %w", dig.RootCause(err)))
	}

	code := ExitOK
	var fatal error
	select {
	case sig := <-app.Wait():
		code = sig.ExitCode
		if code != ExitOK && daemonRuns != nil {
			fatal = daemonRuns.Err()
		}
	case <-ctx.Done():
	}

	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), app.StopTimeout())
	defer cancelStop()
	stopErr := app.Stop(stopCtx)

	switch {
	case fatal != nil:
		fail(code, fatal)
	case code != ExitOK && daemonRuns != nil:
		fail(code, errors.New("stopped with a fatal error (see the log)"))
	}
	if stopErr != nil {
		fail(ExitFailure, fmt.Errorf("stop: %w", stopErr))
		code = max(code, ExitFailure)
	}
	if replay != nil && replay.Err() != nil {
		fail(ExitFailure, fmt.Errorf("replay: %w", replay.Err()))
		code = max(code, ExitFailure)
	}
	return code
}
