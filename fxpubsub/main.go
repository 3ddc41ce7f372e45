package fxpubsub

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/microcosm-go/pubsub/fxconfig"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// EnvHeartbeatThreshold is the environment variable that gives [Main]'s
// --heartbeat-threshold-seconds its default, as in the original.
const EnvHeartbeatThreshold = "MICROCOSM_HEARTBEAT_THRESHOLD_SECONDS"

// Exit codes of [Main].
const (
	ExitOK      = 0 // stopped by SIGINT/SIGTERM (after draining), or the end of replay input
	ExitFailure = 1 // start-up failed, or the daemon stopped on a fatal error
	ExitUsage   = 2 // bad command line
)

// Main runs a consumer daemon, the original's ConsumerDaemon().run(): it parses args (without the
// program name), builds an fx app from [Module], [RunConsumer], [ServeHealth] and opts (the app's
// handlers and collaborators), starts it, and runs until SIGINT or SIGTERM (it then drains and
// returns 0) or until the daemon stops by itself (0 at the end of replay input, 1 on a fatal error
// such as a queue that does not exist). Start-up failures return 1 and usage errors 2, each
// reported on stderr in one line. name is the app name: the metadata name and the prefix of
// environment variables (NAME__SECTION__KEY). Call it from main:
//
//	func main() { os.Exit(fxpubsub.Main("example", os.Args[1:], handlers)) }
//
// Flags:
//
//	--sqs-queue-url QUEUE  the queue to consume: a URL, a queue name (resolved with GetQueueUrl),
//	                       or the path of an existing JSON-lines file to replay (see ReplayReader)
//	--stdin                replay JSON lines from stdin; the envelope defaults to naive
//	--envelope NAME        codec, raw or naive (or the original's class names): sqs_envelope.strategy_name
//	--processes N          N independent pollers, each with its own receivers and worker
//	                       pool (sqs_consumer.pollers; default 1, the original's --processes)
//	--health-addr ADDR     serve the health endpoint on ADDR (health.addr; see NewHealthHandler)
//	--healthcheck-host H   the original's spelling: serve it on H:PORT (health.host; default
//	--healthcheck-port P   0.0.0.0), only when a port is given (health.port; default none)
//	--heartbeat-threshold-seconds S
//	                       a poller with no sign of life for S seconds is unhealthy
//	                       (health.heartbeat_threshold_seconds; default
//	                       $MICROCOSM_HEARTBEAT_THRESHOLD_SECONDS, else -1: no bound)
//	--config PATH          config file, repeatable
//	--set key=value        set a config key, repeatable
//	--strict-config        unknown or retired config keys fail start-up (exit 2)
//	--debug                human-readable logs and fx's own event log
//	--testing              in-memory SNS/SQS instead of AWS
//	--help                 print usage and return 0
//
// The flags set sqs_consumer.sqs_queue_url, sqs_consumer.pollers, sqs_envelope.strategy_name,
// health.*, strict_config, debug and testing with the highest precedence (see package fxconfig).
// --health-addr and --healthcheck-host/--healthcheck-port are two spellings of one address, so
// giving both is a usage error. Without --debug, fx's own event log is off.
//
// Configuration keys that nothing reads (a typo, or a key only the original had) are logged as
// warnings at start-up, naming the nearest known key or what replaces the original's; with
// --strict-config (or strict_config: true) they fail start-up instead, with exit code 2.
//
// A replay (--stdin or a file) makes a [ReplayReader]'s source the daemon's [MessageSource], with
// one receiver, while SNS stays as configured (in-memory with --testing); each input line is handled
// once, and the daemon stops by itself at the end of the input with exit code 0, even when some
// messages FAILED (their results are logged). A read error on the input makes the exit code 1.
func Main(name string, args []string, opts ...fx.Option) int {
	return MainContext(context.Background(), name, args, os.Stdin, os.Stdout, os.Stderr, opts...)
}

// MainContext is [Main] with its context and standard streams made explicit, for tests and
// embedding: cancelling ctx stops the daemon like SIGTERM (drain, return 0); --stdin reads stdin;
// usage goes to stdout for --help, usage errors and failures to stderr. Logs still go to the
// process's stderr (see fxconfig.NewLogger).
func MainContext(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...fx.Option) int {
	return run(ctx, runStreams{stdin: stdin, stdout: stdout, stderr: stderr}, name, args, true, opts)
}

// mainCommand is a parsed command line.
type mainCommand struct {
	name       string
	fs         *flag.FlagSet
	input      fxconfig.Input
	stdin      bool
	replayFile string
	debug      bool
	daemon     bool // Main's consumer daemon, rather than an app run by Run
}

func parseMainArgs(name string, args []string) (*mainCommand, error) {
	cmd := &mainCommand{name: name, input: fxconfig.Input{Name: name}}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	cmd.fs = fs
	fxconfig.BindFlags(fs, &cmd.input)
	queue := fs.String("sqs-queue-url", "", "the `queue` to consume: a URL, a queue name, or a JSON-lines file to replay")
	fs.BoolVar(&cmd.stdin, "stdin", false, "replay JSON lines from stdin (the envelope defaults to naive)")
	envelope := fs.String("envelope", "", "envelope `name`: codec (default), raw or naive")
	healthAddr := fs.String("health-addr", "", "serve the health endpoint on `addr`, e.g. 127.0.0.1:8080")
	processes := fs.Int("processes", 1, "`n` independent pollers, each with its own receivers and worker pool")
	healthHost := fs.String("healthcheck-host", "0.0.0.0", "serve the health endpoint on `host` (with --healthcheck-port)")
	healthPort := fs.Int("healthcheck-port", 0, "serve the health endpoint on `port` (default: none)")
	threshold := fs.Int("heartbeat-threshold-seconds", -1, "a poller with no sign of life for `seconds` is unhealthy (-1: no bound; default $"+EnvHeartbeatThreshold+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cmd, err
		}
		if f, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
			return cmd, fmt.Errorf("unknown flag -%s", f)
		}
		return cmd, err
	}
	if fs.NArg() > 0 {
		return cmd, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := func(key string, v any) {
		if cmd.input.Flags == nil {
			cmd.input.Flags = map[string]any{}
		}
		cmd.input.Flags[key] = v
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["processes"] {
		if *processes < 1 {
			return cmd, fmt.Errorf("--processes: must be at least 1, got %d", *processes)
		}
		set("sqs_consumer.pollers", *processes)
	}
	if given["health-addr"] && (given["healthcheck-host"] || given["healthcheck-port"]) {
		return cmd, errors.New("--health-addr and --healthcheck-host/--healthcheck-port are two spellings of one address: give one")
	}
	if given["healthcheck-host"] {
		set("health.host", *healthHost)
	}
	if given["healthcheck-port"] {
		if *healthPort < 1 || *healthPort > 65535 {
			return cmd, fmt.Errorf("--healthcheck-port: must be between 1 and 65535, got %d", *healthPort)
		}
		set("health.port", *healthPort)
	}
	switch env, ok := os.LookupEnv(EnvHeartbeatThreshold); {
	case given["heartbeat-threshold-seconds"]:
		if *threshold < -1 {
			return cmd, fmt.Errorf("--heartbeat-threshold-seconds: must be -1 (no bound) or more, got %d", *threshold)
		}
		set("health.heartbeat_threshold_seconds", *threshold)
	case ok && env != "":
		n, err := strconv.Atoi(strings.TrimSpace(env))
		if err != nil || n < -1 {
			return cmd, fmt.Errorf("$%s: want whole seconds, -1 (no bound) or more, got %q", EnvHeartbeatThreshold, env)
		}
		set("health.heartbeat_threshold_seconds", n)
	}
	if *queue != "" && cmd.stdin {
		return cmd, errors.New("--stdin and --sqs-queue-url are mutually exclusive")
	}
	if *queue != "" {
		if fi, err := os.Stat(*queue); err == nil && fi.Mode().IsRegular() {
			cmd.replayFile = *queue
		} else {
			set("sqs_consumer.sqs_queue_url", *queue)
		}
	}
	if *envelope != "" {
		env, err := ParseEnvelope(*envelope)
		if err != nil {
			return cmd, fmt.Errorf("--envelope: %w", err)
		}
		set("sqs_envelope.strategy_name", string(env))
	} else if _, ok := cmd.input.Flags["sqs_envelope.strategy_name"]; cmd.stdin && !ok {
		set("sqs_envelope.strategy_name", string(EnvelopeNaive))
	}
	if *healthAddr != "" {
		if _, _, err := net.SplitHostPort(*healthAddr); err != nil {
			return cmd, fmt.Errorf("--health-addr: %w", err)
		}
		set("health.addr", *healthAddr)
	}
	if cmd.stdin || cmd.replayFile != "" {
		// A replay is one stream: one receiver reads it (the daemon's default is several).
		set("sqs_consumer.receivers", 1)
		set("sqs_consumer.pollers", 1)
	}
	cmd.debug, _ = cmd.input.Flags["debug"].(bool)
	return cmd, nil
}

func (c *mainCommand) usage(w io.Writer) {
	if c.daemon {
		fmt.Fprintf(w, `Usage: %[1]s [flags]

%[1]s is a consumer daemon: it receives messages from one SQS queue and hands each to the handler
for its media type, until SIGINT or SIGTERM (then it drains in-flight messages and exits 0).

Flags:
`, c.name)
	} else {
		fmt.Fprintf(w, "Usage: %s [flags]\n\nFlags:\n", c.name)
	}
	c.fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		left := "  --" + f.Name
		if arg != "" {
			left += " " + arg
		}
		fmt.Fprintf(w, "%-28s %s\n", left, usage)
	})
	fmt.Fprintf(w, `
Configuration, later wins: defaults, config files (--config, or $%[1]s__SETTINGS),
environment variables (%[1]s__<SECTION>__<KEY>), flags.

Exit status: 0 after SIGINT/SIGTERM or at the end of a replay, 1 when start-up fails or the
consumer stops on a fatal error (e.g. the queue does not exist), 2 for a bad command line.
`, strings.ToUpper(strings.ReplaceAll(c.name, "-", "_")))
}

// replaySource returns a constructor of r's source for the daemon; it logs r's counts when the
// app stops (after the daemon has drained).
func replaySource(r *ReplayReader) func(fx.Lifecycle, *Decoder, *zap.Logger) MessageSource {
	return func(lc fx.Lifecycle, dec *Decoder, log *zap.Logger) MessageSource {
		lc.Append(fx.StopHook(func() {
			_ = r.Close()
			s := r.Stats()
			log.Info("replay finished", zap.String("input", r.QueueURL()), zap.Int64("lines", s.Lines),
				zap.Int64("messages", s.Messages), zap.Int64("deleted", s.Deleted), zap.Int64("not_deleted", s.VisibilityChanges))
		}))
		return r.Source(dec)
	}
}

// oneLine flattens err (joined errors are newline-separated) into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
