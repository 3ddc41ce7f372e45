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
//
// The JSON logger buffers its output (see [Config].FlushInterval): a line
// is written within logging.flush_interval (100 ms), a warn or error line at
// once with everything before it. Call Sync on the logger before the
// process exits ([Module] does when the app stops); lines of the last
// interval are lost if the process is killed outright.
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
	if s.Metadata().Debug {
		enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
		opts = append(opts, zap.Development(), zap.AddStacktrace(zapcore.WarnLevel))
		return zap.New(zapcore.NewCore(enc, out, level), opts...), nil
	}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	opts = append(opts, zap.AddStacktrace(zapcore.ErrorLevel))
	if cfg.FlushInterval == 0 {
		return zap.New(zapcore.NewCore(enc, out, level), opts...), nil
	}
	buf := newBufferedOutput(out, cfg.FlushInterval)
	return zap.New(&flushCore{Core: zapcore.NewCore(enc, buf, level), out: buf}, opts...), nil
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
