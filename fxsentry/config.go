package fxsentry

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/microcosm-go/pubsub/fxconfig"
)

// Configuration section names. [LoadConfig] reads [AliasSection] first and [Section] over it, key
// by key, so a key set in both takes its value from [Section].
const (
	// Section is the section microcosm-pubsub reads.
	Section = "sentry_logging_pubsub"
	// AliasSection is the section name of the original README's example; accepted too.
	AliasSection = "sentry_logging"
)

// Environment variables read for defaults (through [fxconfig.Input.Environ] under fx).
const (
	// EnvEnvironment is the default of environment, as in microcosm.
	EnvEnvironment = "MICROCOSM_ENVIRONMENT"
	// EnvBuildSHA is a default of release (after build_info_convention.sha1).
	EnvBuildSHA = "BUILD_SHA"
)

// DefaultUserIDKey is the opaque key whose value becomes the Sentry user id, unless
// custom_user_id names another.
const DefaultUserIDKey = "x-request-user"

// Config is section sentry_logging_pubsub (or sentry_logging). The zero value, like
// [DefaultConfig], has Sentry disabled.
type Config struct {
	// Enabled turns reporting on (default false). From the environment, "false", "0", "no" and
	// "off" mean false.
	Enabled bool `koanf:"enabled"`
	// DSN is the project's DSN, e.g. https://public@o1.ingest.sentry.io/2. Required when enabled.
	DSN string `koanf:"dsn"`
	// CustomTagsMapping maps more opaque keys (case-insensitive) to Sentry tag names, over
	// [DefaultTagMapping]. An empty tag name removes a default entry.
	CustomTagsMapping map[string]string `koanf:"custom_tags_mapping"`
	// CustomUserID is the opaque key whose value is sent as user.id (default x-request-user).
	CustomUserID string `koanf:"custom_user_id"`
	// Environment is the event environment. Default: $MICROCOSM_ENVIRONMENT, else "undefined".
	Environment string `koanf:"environment"`
	// Release is the event release. Default: the config key build_info_convention.sha1, else
	// $BUILD_SHA, else the VCS revision stamped in the binary (debug.ReadBuildInfo), else
	// sentry-go's own detection (SENTRY_RELEASE and CI variables, then git describe).
	Release string `koanf:"release"`
	// ServerName is the event server_name. Default: "<app name>_daemon", as in microcosm.
	ServerName string `koanf:"server_name"`
	// SampleRate is the fraction of error events sent, between 0 and 1; 0 means 1 (the default).
	// To send nothing, leave Enabled false.
	SampleRate float64 `koanf:"sample_rate" validate:"gte=0,lte=1"`
	// FlushTimeout bounds how long stopping waits for pending events; 0 means 2s (the default).
	// The stop context's deadline bounds it too.
	FlushTimeout time.Duration `koanf:"flush_timeout" validate:"gte=0"`
}

// DefaultConfig returns the documented defaults (Sentry disabled).
func DefaultConfig() Config {
	return Config{SampleRate: 1, FlushTimeout: 2 * time.Second}
}

// DefaultTagMapping returns a new copy of the default opaque key → Sentry tag mapping:
// x-request-id → x-request-id, message_id → message-id, media_type → media-type,
// span_name → span, uri → uri, handler → handler.
func DefaultTagMapping() map[string]string {
	return map[string]string{
		"x-request-id": "x-request-id",
		"message_id":   "message-id",
		"media_type":   "media-type",
		"span_name":    "span",
		"uri":          "uri",
		"handler":      "handler",
	}
}

// TagMapping returns the effective opaque key → tag mapping: [DefaultTagMapping] with
// CustomTagsMapping merged over it (keys lower-cased; empty tag names delete). It is a new map
// every call; the defaults are never modified.
func (c Config) TagMapping() map[string]string {
	m := DefaultTagMapping()
	for k, tag := range c.CustomTagsMapping {
		k = strings.ToLower(k)
		if tag == "" {
			delete(m, k)
			continue
		}
		m[k] = tag
	}
	return m
}

// UserIDKey returns the opaque key of the user id, lower-cased.
func (c Config) UserIDKey() string {
	if c.CustomUserID != "" {
		return strings.ToLower(c.CustomUserID)
	}
	return DefaultUserIDKey
}

// LoadConfig reads [AliasSection] and then [Section] from s over [DefaultConfig], fills the
// defaults of environment, release and server_name, and validates the result. environ holds
// "K=V" pairs (nil means os.Environ()). Every error is a *[fxconfig.FieldError] naming the full
// key, in the section the value came from.
func LoadConfig(s *fxconfig.Settings, environ []string) (Config, error) {
	cfg := DefaultConfig()
	var errs []error
	for _, sec := range []string{AliasSection, Section} {
		if err := s.Unmarshal(sec, &cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if environ == nil {
		environ = os.Environ()
	}
	if cfg.Environment == "" {
		cfg.Environment = lookupEnv(environ, EnvEnvironment)
	}
	if cfg.Environment == "" {
		cfg.Environment = "undefined"
	}
	if cfg.Release == "" {
		if sha, ok := s.Get("build_info_convention.sha1").(string); ok {
			cfg.Release = sha
		}
	}
	if cfg.Release == "" {
		cfg.Release = lookupEnv(environ, EnvBuildSHA)
	}
	if cfg.Release == "" {
		cfg.Release = vcsRevision()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.Metadata().Name + "_daemon"
	}
	keyOf := func(field string) string {
		if !s.Exists(Section+"."+field) && s.Exists(AliasSection+"."+field) {
			return AliasSection + "." + field
		}
		return Section + "." + field
	}
	if err := cfg.validate(keyOf); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks what the validate tags cannot: a DSN is required when enabled and must parse;
// tag names must be valid Sentry tag keys. Errors are *[fxconfig.FieldError]s keyed under
// [Section].
func (c Config) Validate() error {
	return c.validate(func(field string) string { return Section + "." + field })
}

func (c Config) validate(keyOf func(field string) string) error {
	var errs []error
	fail := func(key string, value any, reason string) {
		errs = append(errs, &fxconfig.FieldError{Key: key, Value: value, Reason: reason})
	}
	switch {
	case c.Enabled && c.DSN == "":
		// Name the dsn key of the section that turned Sentry on.
		enabled := keyOf("enabled")
		fail(strings.TrimSuffix(enabled, "enabled")+"dsn", "", "is required when "+enabled+" is true")
	case c.Enabled:
		if _, err := sentry.NewDsn(c.DSN); err != nil {
			fail(keyOf("dsn"), redactDSN(c.DSN), "invalid DSN: "+dsnReason(err))
		}
	}
	if !(c.SampleRate >= 0 && c.SampleRate <= 1) {
		fail(keyOf("sample_rate"), c.SampleRate, "must be between 0 and 1")
	}
	if c.FlushTimeout < 0 {
		fail(keyOf("flush_timeout"), c.FlushTimeout, "must not be negative")
	}
	keys := make([]string, 0, len(c.CustomTagsMapping))
	for k := range c.CustomTagsMapping {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tag := c.CustomTagsMapping[k]
		key := keyOf("custom_tags_mapping") + "." + k
		switch {
		case strings.TrimSpace(k) == "":
			fail(key, tag, "opaque key must not be empty")
		case tag != "" && !validTagKey(tag):
			fail(key, tag, fmt.Sprintf("%q is not a valid Sentry tag name (1-32 of a-z A-Z 0-9 _ . : -)", tag))
		}
	}
	return errors.Join(errs...)
}

// validTagKey reports whether tag is a key Sentry accepts: at most 32 characters of
// [a-zA-Z0-9_.:-].
func validTagKey(tag string) bool {
	if tag == "" || len(tag) > 32 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return true
}

// dsnReason is the parse error without the DSN itself (url.Parse errors quote their input).
func dsnReason(err error) string {
	var pe *sentry.DsnParseError
	if !errors.As(err, &pe) {
		return "cannot parse"
	}
	if strings.HasPrefix(pe.Message, "invalid url") {
		return "not a URL"
	}
	return pe.Message
}

// redactDSN removes the keys of a DSN shown in an error: the public key and a legacy secret key
// (user info) both let anyone send events to the project. Scheme, host and project stay, to say
// which DSN was wrong; text that is not URL-shaped at all is redacted whole.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return Redacted
	}
	if _, host, ok := strings.Cut(rest, "@"); ok {
		return scheme + "://" + Redacted + "@" + host
	}
	return dsn
}

func lookupEnv(environ []string, key string) string {
	var value string
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			value = v
		}
	}
	return value
}

// vcsRevision returns the VCS revision the Go toolchain stamped into the binary, if any.
func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}
