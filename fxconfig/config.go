package fxconfig

import "time"

// Config is fxconfig's own section, "logging".
type Config struct {
	// Level is the minimum log level: debug, info, warn (or warning) or
	// error, case-insensitive. Default "info".
	Level string `koanf:"level" validate:"omitempty,oneof=debug info warn warning error DEBUG INFO WARN WARNING ERROR"`
	// FlushInterval is the longest a log line waits in the logger's buffer
	// before it is written (a Go duration such as "100ms", or seconds).
	// Lines are written in one write per buffer of 64 KiB, per interval,
	// at once for warn and above, and on Sync (fxconfig.Module syncs when
	// the app stops). 0 writes every line at once. Default 100ms; at most
	// 1m. The console logger (--debug) is never buffered.
	FlushInterval time.Duration `koanf:"flush_interval" validate:"gte=0s,lte=1m"`
}

// DefaultFlushInterval is the default of logging.flush_interval.
const DefaultFlushInterval = 100 * time.Millisecond

// DefaultConfig returns the defaults of the logging section.
func DefaultConfig() Config { return Config{Level: "info", FlushInterval: DefaultFlushInterval} }
