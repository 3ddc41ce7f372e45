package fxsentry

import (
	"bytes"
	"go/build"
	"slices"
	"strconv"
	"strings"

	"github.com/getsentry/sentry-go"
)

var goRoot = strings.ReplaceAll(build.Default.GOROOT, "\\", "/")

// parseStack turns a goroutine stack in the text format of runtime/debug.Stack (as a recovered
// panic carries it) into a Sentry stack trace, oldest frame first. Frames up to and including
// the panic itself (the recovering function, runtime/debug.Stack, panic) are dropped, as are
// runtime and testing frames, as sentry-go does. It returns nil if nothing usable is found.
func parseStack(stack []byte) *sentry.Stacktrace {
	var frames []sentry.Frame // newest first, as printed
	lines := bytes.Split(stack, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(string(lines[i]))
		if line == "" || strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, "...") {
			continue
		}
		fn := line
		if rest, ok := strings.CutPrefix(line, "created by "); ok {
			fn, _, _ = strings.Cut(rest, " in goroutine ")
		} else if j := strings.LastIndexByte(line, '('); j > 0 && strings.HasSuffix(line, ")") {
			fn = line[:j]
		}
		// A function line is followed by its location: "\t/path/file.go:12 +0x1d".
		if i+1 >= len(lines) || !bytes.HasPrefix(lines[i+1], []byte("\t")) {
			continue
		}
		i++
		loc := strings.TrimSpace(string(lines[i]))
		if sp := strings.LastIndex(loc, " +0x"); sp >= 0 {
			loc = loc[:sp]
		}
		c := strings.LastIndexByte(loc, ':')
		if c <= 0 {
			continue
		}
		file := loc[:c]
		lineno, err := strconv.Atoi(loc[c+1:])
		if err != nil {
			continue
		}
		if fn == "panic" {
			frames = frames[:0] // everything above the panic is the recovery machinery
			continue
		}
		pkg, name := splitFunction(fn)
		if pkg == "runtime" || pkg == "runtime/debug" || pkg == "testing" {
			continue
		}
		frames = append(frames, newFrame(pkg, name, file, lineno))
	}
	if len(frames) == 0 {
		return nil
	}
	slices.Reverse(frames)
	return &sentry.Stacktrace{Frames: frames}
}

// splitFunction splits "example.com/a/b.(*T).M" into "example.com/a/b" and "(*T).M", the way
// sentry-go splits runtime function names.
func splitFunction(fn string) (pkg, name string) {
	slash := max(strings.LastIndexByte(fn, '/'), 0)
	if dot := strings.IndexByte(fn[slash:], '.'); dot >= 0 {
		return fn[:slash+dot], fn[slash+dot+1:]
	}
	return "", fn
}

func newFrame(pkg, fn, file string, line int) sentry.Frame {
	f := sentry.Frame{Module: pkg, Function: fn, Lineno: line}
	switch {
	case file == "":
		f.Filename = "unknown"
	case strings.HasPrefix(file, "/") || len(file) > 2 && file[1] == ':':
		f.AbsPath = file
	default:
		f.Filename = file
	}
	// As sentry-go decides: frames in GOROOT or vendored code are not the app's.
	f.InApp = !(goRoot != "" && strings.HasPrefix(f.AbsPath, goRoot)) &&
		!strings.Contains(pkg, "vendor") && !strings.Contains(pkg, "third_party")
	return f
}
