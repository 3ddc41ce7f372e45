package fxconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func loadForLogger(t *testing.T, environ []string, args ...string) *Settings {
	t.Helper()
	s, err := Load(Input{Name: "example", Environ: environ, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoggerLevel(t *testing.T) {
	tests := []struct {
		give string
		want zapcore.Level
	}{
		{give: "", want: zapcore.InfoLevel},
		{give: "debug", want: zapcore.DebugLevel},
		{give: "DEBUG", want: zapcore.DebugLevel},
		{give: "info", want: zapcore.InfoLevel},
		{give: "warn", want: zapcore.WarnLevel},
		{give: "WARNING", want: zapcore.WarnLevel},
		{give: "warning", want: zapcore.WarnLevel},
		{give: "ERROR", want: zapcore.ErrorLevel},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			var environ []string
			if tt.give != "" {
				environ = []string{"EXAMPLE__LOGGING__LEVEL=" + tt.give}
			}
			l, err := NewLogger(loadForLogger(t, append([]string{}, environ...)))
			if err != nil {
				t.Fatal(err)
			}
			if got := zapcore.LevelOf(l.Core()); got != tt.want {
				t.Errorf("level = %v, want %v", got, tt.want)
			}
			if l.Core().Enabled(tt.want-1) || !l.Core().Enabled(tt.want) {
				t.Errorf("core enables wrong levels")
			}
		})
	}
}

func TestLoggerBadLevel(t *testing.T) {
	_, err := NewLogger(loadForLogger(t, []string{"EXAMPLE__LOGGING__LEVEL=loud"}))
	want := "logging config: logging.level: must be one of [debug info warn warning error DEBUG INFO WARN WARNING ERROR], got \"loud\""
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestLoggerEncoder(t *testing.T) {
	t.Run("json by default", func(t *testing.T) {
		var buf bytes.Buffer
		l, err := NewLoggerTo(loadForLogger(t, []string{}), zapcore.AddSync(&buf))
		if err != nil {
			t.Fatal(err)
		}
		l.Info("hello", zap.String("k", "v"))
		if err := l.Sync(); err != nil { // the JSON logger buffers
			t.Fatal(err)
		}
		var entry map[string]any
		if err := json.Unmarshal(buf.Bytes(), &entry); err != nil {
			t.Fatalf("not JSON: %q: %v", buf.String(), err)
		}
		if entry["msg"] != "hello" || entry["level"] != "info" || entry["k"] != "v" {
			t.Errorf("got %v", entry)
		}
	})
	t.Run("console when debug", func(t *testing.T) {
		var buf bytes.Buffer
		l, err := NewLoggerTo(loadForLogger(t, []string{}, "--debug"), zapcore.AddSync(&buf))
		if err != nil {
			t.Fatal(err)
		}
		l.Info("hello", zap.String("k", "v"))
		out := buf.String()
		if strings.HasPrefix(out, "{") || !strings.Contains(out, "\tINFO\t") || !strings.Contains(out, `{"k": "v"}`) {
			t.Errorf("not console output: %q", out)
		}
	})
}

func TestSyncLoggerIgnoresStderrErrors(t *testing.T) {
	for _, errno := range []error{syscall.EINVAL, syscall.ENOTTY} {
		l := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), failingSync{errno}, zapcore.InfoLevel))
		if err := syncLogger(l); err != nil {
			t.Errorf("%v: got %v", errno, err)
		}
	}
	l := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), failingSync{os.ErrClosed}, zapcore.InfoLevel))
	if err := syncLogger(l); !errors.Is(err, os.ErrClosed) {
		t.Errorf("got %v", err)
	}
}

type failingSync struct{ err error }

func (f failingSync) Write(p []byte) (int, error) { return len(p), nil }
func (f failingSync) Sync() error {
	return &os.PathError{Op: "sync", Path: "/dev/stderr", Err: f.err}
}

func TestEventLogger(t *testing.T) {
	l := zap.NewNop()
	zl, ok := EventLogger(l).(*fxevent.ZapLogger)
	if !ok || zl.Logger != l {
		t.Errorf("got %#v", zl)
	}
}
