// Package fxconfig loads configuration with koanf, derives application
// [Metadata] and builds the zap logger, as the fx module [Module].
//
// # Usage
//
//	fx.New(
//		fxconfig.FromArgs("example", os.Args[1:]),
//		fxconfig.Module,
//		fx.WithLogger(fxconfig.EventLogger), // optional: fx events through zap
//		...
//	)
//
// Other modules take *[Settings] and fill their own typed section:
//
//	cfg := DefaultConfig()
//	err := settings.Unmarshal("sqs_consumer", &cfg)
//
// Tests use [ForTesting], which ignores the process environment and sets
// testing. [Load] works without fx.
//
// # Sources and precedence
//
// Later sources win:
//
//  1. typed defaults: the pre-filled fields each module passes to
//     [Settings.Unmarshal];
//  2. config files, JSON or YAML by extension (.json, .yaml, .yml), from
//     --config PATH (repeatable, merged in order) or, when no --config is
//     given, the file named by the environment variable <NAME>__SETTINGS;
//  3. programmatic [Input.Values] (for tests);
//  4. environment variables <NAME>__<SECTION>__<KEY>[__<SUB>...];
//  5. flags: --set key=value, --debug, --testing, --strict-config and an entry point's own
//     flags passed in [Input.Flags].
//
// Flags beating environment variables is a deliberate change from
// microcosm, where the environment overrode the daemon's CLI flags: the
// value typed on the command line is the one that applies.
//
// Maps merge key by key; scalars and lists replace (microcosm appended
// lists). Within a typed section, map fields also merge over their default
// maps. Keys are case-sensitive; environment keys are lower-cased.
//
// # Environment variables
//
// NAME is the app name upper-cased with "-" turned into "_" ("my-app" gives
// MY_APP). The rest of the variable name is split on "__", each part
// lower-cased and taken as one path element, so
//
//	EXAMPLE__SNS_TOPIC_ARNS__CREATED__FOO__BAR_BAZ=arn
//
// sets sns_topic_arns → created → foo → bar_baz = "arn". Values stay
// strings; [Settings.Unmarshal] converts them. <NAME>__SETTINGS names a
// config file and is not a setting. Variables with an empty part are
// ignored.
//
// # Typed sections
//
// [Settings.Unmarshal] fills a struct whose current values are the defaults.
// Keys come from koanf tags (else the snake_case field name); nested structs
// are nested maps. Conversions:
//
//   - bool: true/yes/on/1 (also y, t) and false/no/off/0/"" (also n, f),
//     case-insensitive;
//   - ints, uints and floats: numbers or numeric strings, range-checked;
//   - time.Duration: "30s", "1m30s", or a bare number of seconds (10, "0.5");
//   - strings: any scalar;
//   - slices: a list, or a comma-separated string;
//   - maps with string keys, any, pointers (set when present, nil by a
//     null), and encoding.TextUnmarshaler types.
//
// A null value keeps the default. Unknown keys do not fail Unmarshal, so that
// newer config works with older code; instead, [Module] logs a warning for
// each key that a source sets and no component read, naming the nearest known
// key (see [Settings.KeyWarnings]), and with strict_config (--strict-config)
// fails start-up with a [*KeysError]. After filling, validate tags
// (github.com/go-playground/validator) are checked.
//
// fxconfig's own section is "logging" ([Config]): level is debug, info
// (default), warn/warning or error. The logger writes JSON normally and a
// human-readable console format when debug is set.
//
// # Errors
//
// Every bad value is a [*FieldError] naming the full dotted key and the
// value, for example:
//
//	sqs_consumer.limit: cannot convert "ten" to int
//	sqs_consumer.wait_seconds: must be between 0 and 20, got "99"
//	sqs_consumer.sqs_queue_url: is required
//	sqs_consumer.backoff_policy: must be one of [naive exponential], got "foo"
//
// Several are joined with errors.Join; use errors.As to get the first.
// Under fx these errors stop start-up.
package fxconfig
