package fxconfig

import (
	"os"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"
)

// Input says where configuration comes from. [Load] reads it; the module
// expects it in the graph, supplied with [WithInput], [FromArgs] or
// [ForTesting].
type Input struct {
	// Name is the application name. It is required, becomes the metadata
	// name and, upper-cased with "-" turned into "_", the prefix of
	// environment variables.
	Name string

	// Args are command-line arguments without the program name. They are
	// parsed for the standard flags of [BindFlags]; unknown flags and
	// positional arguments are an error.
	Args []string

	// Environ holds "K=V" pairs. nil means os.Environ(); an empty non-nil
	// slice means no environment at all.
	Environ []string

	// Files lists config files (JSON, or YAML by a .yaml/.yml extension),
	// merged in order. --config appends to it. When it is empty the file
	// named by the environment variable <NAME>__SETTINGS is read, if set.
	Files []string

	// Values are programmatic settings, merged after files and before the
	// environment. Top-level keys may be dotted paths ("a.b"); keys inside
	// nested maps are taken literally.
	Values map[string]any

	// Flags are already-parsed overrides keyed by dotted config key, with
	// the highest precedence. Entry points put their own flags here (for
	// example "sqs_consumer.sqs_queue_url"); --set, --debug and --testing
	// write here too.
	Flags map[string]any

	// LogOutput is where the module's *zap.Logger writes. nil means
	// stderr. Tests point it at the test log (pubsubtest.LogTo does), so
	// an app's log lines show up beside the test that wrote them, and
	// only when it fails or runs with -v.
	LogOutput zapcore.WriteSyncer
}

// Getenv returns the value of the environment variable key in in.Environ
// (the process environment when Environ is nil), or "" when it is not set.
func (in Input) Getenv(key string) string {
	if in.Environ == nil {
		return os.Getenv(key)
	}
	return lookupEnv(in.Environ, key)
}

// WithInput supplies in to the graph for [Module].
func WithInput(in Input) fx.Option {
	return fx.Supply(in)
}

// FromArgs supplies an [Input] that reads the process environment and
// parses args (without the program name) for the standard flags. A bad
// flag, or --help, is an fx start-up error: apps that want usage, exit
// codes 0 and 2, one-line errors and the daemon's flags run with
// fxpubsub.Run instead of fx.New.
func FromArgs(name string, args []string) fx.Option {
	return WithInput(Input{Name: name, Args: args})
}

// ForTesting supplies an [Input] for tests: the process environment is
// ignored, values are the programmatic settings and testing is true.
func ForTesting(name string, values map[string]any) fx.Option {
	return WithInput(Input{
		Name:    name,
		Environ: []string{},
		Values:  values,
		Flags:   map[string]any{"testing": true},
	})
}
