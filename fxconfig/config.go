package fxconfig

// Config is fxconfig's own section, "logging".
type Config struct {
	// Level is the minimum log level: debug, info, warn (or warning) or
	// error, case-insensitive. Default "info".
	Level string `koanf:"level" validate:"omitempty,oneof=debug info warn warning error DEBUG INFO WARN WARNING ERROR"`
}

// DefaultConfig returns the defaults of the logging section.
func DefaultConfig() Config { return Config{Level: "info"} }
