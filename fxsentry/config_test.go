package fxsentry_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxsentry"
)

// load loads fxsentry's config from in, with no process environment unless in sets one.
func load(t *testing.T, in fxconfig.Input) (fxsentry.Config, error) {
	t.Helper()
	if in.Name == "" {
		in.Name = "orders"
	}
	if in.Environ == nil {
		in.Environ = []string{}
	}
	s, err := fxconfig.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	return fxsentry.LoadConfig(s, in.Environ)
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := load(t, fxconfig.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Enabled || cfg.DSN != "" || cfg.Environment != "undefined" || cfg.ServerName != "orders_daemon" ||
		cfg.SampleRate != 1 || cfg.FlushTimeout != 2*time.Second || cfg.UserIDKey() != "x-request-user" {
		t.Fatalf("defaults = %+v", cfg)
	}
}

func TestLoadConfigEnvironmentAndRelease(t *testing.T) {
	tests := []struct {
		name        string
		in          fxconfig.Input
		env, relase string
	}{
		{"environment variables", fxconfig.Input{Environ: []string{"MICROCOSM_ENVIRONMENT=prod", "BUILD_SHA=abc123"}}, "prod", "abc123"},
		{"build_info_convention.sha1 beats BUILD_SHA", fxconfig.Input{
			Environ: []string{"BUILD_SHA=abc123"},
			Values:  map[string]any{"build_info_convention": map[string]any{"sha1": "def456"}},
		}, "undefined", "def456"},
		{"explicit keys win", fxconfig.Input{
			Environ: []string{"MICROCOSM_ENVIRONMENT=prod", "BUILD_SHA=abc123", "ORDERS__BUILD_INFO_CONVENTION__SHA1=def456"},
			Values:  map[string]any{"sentry_logging_pubsub": map[string]any{"environment": "staging", "release": "v1.2.3"}},
		}, "staging", "v1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Environment != tt.env || cfg.Release != tt.relase {
				t.Fatalf("environment %q release %q, want %q %q", cfg.Environment, cfg.Release, tt.env, tt.relase)
			}
		})
	}
}

// The original README's example, as written, in a config file.
func TestLoadConfigReadmeExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	readme := `{
  "sentry_logging": {
    "enabled": true,
    "dsn": "https://some-value@numbers.ingest.sentry.io/project-id",
    "custom_tags_mapping": {
      "opaque-key": "sentry-tag-name"
    },
    "custom_user_id": "my-opaque-user-id"
  }
}`
	if err := os.WriteFile(path, []byte(readme), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, fxconfig.Input{Files: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled || cfg.DSN != "https://some-value@numbers.ingest.sentry.io/project-id" ||
		cfg.TagMapping()["opaque-key"] != "sentry-tag-name" || cfg.UserIDKey() != "my-opaque-user-id" {
		t.Fatalf("config = %+v", cfg)
	}
}

func TestLoadConfigPubsubSectionWins(t *testing.T) {
	cfg, err := load(t, fxconfig.Input{
		Values: map[string]any{
			"sentry_logging":        map[string]any{"enabled": true, "dsn": "http://old@127.0.0.1/1", "custom_user_id": "x-user", "custom_tags_mapping": map[string]any{"a": "tag-a"}},
			"sentry_logging_pubsub": map[string]any{"dsn": "http://new@127.0.0.1/2", "custom_tags_mapping": map[string]any{"b": "tag-b"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.TagMapping()
	if !cfg.Enabled || cfg.DSN != "http://new@127.0.0.1/2" || cfg.UserIDKey() != "x-user" || m["a"] != "tag-a" || m["b"] != "tag-b" {
		t.Fatalf("config = %+v", cfg)
	}
}

func TestLoadConfigEnabledFromEnvironment(t *testing.T) {
	for give, want := range map[string]bool{"false": false, "False": false, "0": false, "no": false, "true": true, "1": true} {
		cfg, err := load(t, fxconfig.Input{Environ: []string{
			"ORDERS__SENTRY_LOGGING_PUBSUB__ENABLED=" + give,
			"ORDERS__SENTRY_LOGGING_PUBSUB__DSN=http://public@127.0.0.1:9/1",
		}})
		if err != nil {
			t.Fatalf("%q: %v", give, err)
		}
		if cfg.Enabled != want {
			t.Errorf("enabled=%q gave %v", give, cfg.Enabled)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		give map[string]any
		key  string
		want string
	}{
		{map[string]any{"sentry_logging_pubsub": map[string]any{"enabled": true}},
			"sentry_logging_pubsub.dsn", "sentry_logging_pubsub.dsn: is required when sentry_logging_pubsub.enabled is true"},
		{map[string]any{"sentry_logging": map[string]any{"enabled": "yes"}},
			"sentry_logging.dsn", "sentry_logging.dsn: is required when sentry_logging.enabled is true"},
		{map[string]any{"sentry_logging_pubsub": map[string]any{"enabled": true, "dsn": "sentry.example.com"}},
			"sentry_logging_pubsub.dsn", "sentry_logging_pubsub.dsn: invalid DSN: invalid scheme"},
		{map[string]any{"sentry_logging_pubsub": map[string]any{"enabled": true, "dsn": "http://127.0.0.1:9/1"}},
			"sentry_logging_pubsub.dsn", "invalid DSN: empty username"},
		{map[string]any{"sentry_logging": map[string]any{"enabled": true, "dsn": "http://public@127.0.0.1:9/"}},
			"sentry_logging.dsn", "sentry_logging.dsn: invalid DSN: empty project id"},
		{map[string]any{"sentry_logging_pubsub": map[string]any{"enabled": "maybe"}},
			"sentry_logging_pubsub.enabled", `sentry_logging_pubsub.enabled: cannot convert "maybe" to bool`},
		{map[string]any{"sentry_logging_pubsub": map[string]any{"custom_tags_mapping": map[string]any{"x-tenant": "a tag with spaces"}}},
			"sentry_logging_pubsub.custom_tags_mapping.x-tenant", "is not a valid Sentry tag name"},
		{map[string]any{"sentry_logging_pubsub": map[string]any{"sample_rate": 2}},
			"sentry_logging_pubsub.sample_rate", "sentry_logging_pubsub.sample_rate"},
	}
	for _, tt := range tests {
		_, err := load(t, fxconfig.Input{Values: tt.give})
		var fe *fxconfig.FieldError
		if !errors.As(err, &fe) || fe.Key != tt.key || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want a FieldError for %s containing %q", tt.give, err, tt.key, tt.want)
		}
	}
}

func TestLoadConfigDisabledIgnoresDSN(t *testing.T) {
	if _, err := load(t, fxconfig.Input{Values: map[string]any{"sentry_logging_pubsub": map[string]any{"dsn": "changeme"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestDSNErrorsHideSecrets(t *testing.T) {
	cfg := fxsentry.Config{Enabled: true, DSN: "https://public:s3cret@o1.ingest.sentry.io/"}
	err := cfg.Validate()
	var fe *fxconfig.FieldError
	if !errors.As(err, &fe) || strings.Contains(err.Error(), "s3cret") || strings.Contains(fe.Value.(string), "s3cret") {
		t.Fatalf("got %v (value %v)", err, fe.Value)
	}
	cfg.DSN = "https://public:s3cret@o1.ingest sentry.io/%zz"
	if err := cfg.Validate(); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "not a URL") {
		t.Fatalf("got %v", err)
	}
}

func TestTagMappingIsFresh(t *testing.T) {
	cfg := fxsentry.Config{CustomTagsMapping: map[string]string{"X-Tenant": "tenant", "uri": ""}}
	m := cfg.TagMapping()
	if m["x-tenant"] != "tenant" || m["uri"] != "" || m["message_id"] != "message-id" {
		t.Fatalf("mapping = %v", m)
	}
	m["handler"] = "changed"
	if d := fxsentry.DefaultTagMapping(); d["uri"] != "uri" || d["handler"] != "handler" || len(d) != 6 {
		t.Fatalf("defaults changed: %v", d)
	}
}
