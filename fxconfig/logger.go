package fxconfig

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the application logger: JSON with zap's production
// encoder normally, zap's development console encoder when
// [Metadata].Debug. The level comes from logging.level. It writes to stderr.
func NewLogger(s *Settings) (*zap.Logger, error) {
	return NewLoggerTo(s, zapcore.Lock(os.Stderr))
}

// NewLoggerTo is [NewLogger] writing to out instead of stderr (a file, a buffer in tests; out
// must be safe for concurrent writes, as zapcore.Lock makes it).
func NewLoggerTo(s *Settings, out zapcore.WriteSyncer) (*zap.Logger, error) {
	cfg := DefaultConfig()
	if err := s.Unmarshal("logging", &cfg); err != nil {
		return nil, fmt.Errorf("logging config: %w", err)
	}
	level, err := parseLevel(cfg.Level)
	if err != nil {
		return nil, &FieldError{Key: "logging.level", Value: cfg.Level, Reason: err.Error()}
	}
	opts := []zap.Option{zap.AddCaller(), zap.ErrorOutput(zapcore.Lock(os.Stderr))}
	var enc zapcore.Encoder
	if s.Metadata().Debug {
		enc = zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
		opts = append(opts, zap.Development(), zap.AddStacktrace(zapcore.WarnLevel))
	} else {
		enc = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
		opts = append(opts, zap.AddStacktrace(zapcore.ErrorLevel))
	}
	return zap.New(zapcore.NewCore(enc, out, level), opts...), nil
}

func parseLevel(s string) (zapcore.Level, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "":
		return zapcore.InfoLevel, nil
	case "warning":
		return zapcore.WarnLevel, nil
	}
	return zapcore.ParseLevel(s)
}

// syncLogger flushes l, ignoring the errors stderr and terminals give for
// fsync ("sync /dev/stderr: invalid argument").
func syncLogger(l *zap.Logger) error {
	err := l.Sync()
	if err == nil || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EBADF) {
		return nil
	}
	return fmt.Errorf("sync logger: %w", err)
}

// EventLogger adapts l for fx's own events. Apps opt in with
// fx.WithLogger(fxconfig.EventLogger); [Module] never installs it.
func EventLogger(l *zap.Logger) fxevent.Logger {
	return &fxevent.ZapLogger{Logger: l}
}
