package fxconfig

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// BindFlags registers the standard flags on fs, writing into in:
//
//	--config PATH     config file, repeatable; appends to in.Files
//	--debug           sets debug (human-readable logs)
//	--testing         sets testing (in-memory backends)
//	--set key=value   sets a dotted config key, repeatable
//	--strict-config   sets strict_config (keys nothing reads fail start-up)
//
// --debug, --testing, --set and --strict-config write into in.Flags, so they beat every other
// source. Entry points with their own flags call BindFlags on their FlagSet
// and hand in to [WithInput].
func BindFlags(fs *flag.FlagSet, in *Input) {
	fs.Var(&filesFlag{in: in}, "config", "config file `path` (JSON or YAML); repeatable")
	fs.Var(&boolFlag{in: in, key: "debug"}, "debug", "human-readable logs")
	fs.Var(&boolFlag{in: in, key: "testing"}, "testing", "use in-memory backends")
	fs.Var(&setFlag{in: in}, "set", "set a config `key=value` (dotted key); repeatable")
	fs.Var(&boolFlag{in: in, key: "strict_config"}, "strict-config", "unknown or retired config keys fail start-up")
}

// parseArgs parses in.Args for the standard flags, writing into in.
func parseArgs(in *Input) error {
	if len(in.Args) == 0 {
		return nil
	}
	fs := flag.NewFlagSet(in.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	BindFlags(fs, in)
	if err := fs.Parse(in.Args); err != nil {
		return fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("parse flags: unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func setFlagValue(in *Input, key string, v any) {
	if in.Flags == nil {
		in.Flags = make(map[string]any)
	}
	in.Flags[key] = v
}

type filesFlag struct{ in *Input }

func (f *filesFlag) String() string {
	if f == nil || f.in == nil {
		return ""
	}
	return strings.Join(f.in.Files, ",")
}

func (f *filesFlag) Set(s string) error {
	f.in.Files = append(f.in.Files, s)
	return nil
}

type boolFlag struct {
	in  *Input
	key string
}

func (f *boolFlag) IsBoolFlag() bool { return true }

func (f *boolFlag) String() string {
	if f == nil || f.in == nil {
		return "false"
	}
	if b, ok := f.in.Flags[f.key].(bool); ok {
		return strconv.FormatBool(b)
	}
	return "false"
}

func (f *boolFlag) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	setFlagValue(f.in, f.key, b)
	return nil
}

type setFlag struct{ in *Input }

func (f *setFlag) String() string { return "" }

func (f *setFlag) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	setFlagValue(f.in, key, value)
	return nil
}
