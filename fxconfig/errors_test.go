package fxconfig_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
)

type consumerConfig struct {
	SQSQueueURL   string        `koanf:"sqs_queue_url" validate:"required"`
	Limit         int           `koanf:"limit" validate:"min=1,max=10"`
	WaitSeconds   int           `koanf:"wait_seconds" validate:"min=0,max=20"`
	Retry         int           `koanf:"retry" validate:"gte=0,lte=5"`
	BackoffPolicy string        `koanf:"backoff_policy" validate:"oneof=naive exponential"`
	Endpoint      string        `koanf:"endpoint_url" validate:"omitempty,url"`
	Health        string        `koanf:"health_url" validate:"omitempty,http_url"`
	Addr          string        `koanf:"addr" validate:"omitempty,hostname_port"`
	Attempts      *int          `koanf:"attempts" validate:"omitempty,gt=0"`
	Ratio         float64       `koanf:"ratio" validate:"lt=1"`
	Floor         int           `koanf:"floor" validate:"min=2"`
	Ceiling       int           `koanf:"ceiling" validate:"max=3"`
	Name          string        `koanf:"name" validate:"omitempty,min=3"`
	Tags          []string      `koanf:"tags" validate:"omitempty,max=2,dive,min=2"`
	Email         string        `koanf:"email" validate:"omitempty,email"`
	Timeout       time.Duration `koanf:"timeout" validate:"min=1s"`
	Enabled       bool          `koanf:"enabled"`
	Inner         struct {
		Port int `koanf:"port" validate:"max=65535"`
	} `koanf:"inner"`
}

func validConsumer() consumerConfig {
	return consumerConfig{SQSQueueURL: "test", Limit: 10, WaitSeconds: 1, BackoffPolicy: "naive", Floor: 2, Timeout: time.Second}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		values map[string]any
		want   []string
	}{
		{name: "valid", want: nil},
		{name: "between", env: []string{"EXAMPLE__SQS_CONSUMER__WAIT_SECONDS=99"}, want: []string{
			`sqs_consumer.wait_seconds: must be between 0 and 20, got "99"`,
		}},
		{name: "between gte lte", env: []string{"EXAMPLE__SQS_CONSUMER__RETRY=-1"}, want: []string{
			`sqs_consumer.retry: must be between 0 and 5, got "-1"`,
		}},
		{name: "between from yaml number", values: map[string]any{"sqs_consumer.limit": 0}, want: []string{
			`sqs_consumer.limit: must be between 1 and 10, got "0"`,
		}},
		{name: "convert", env: []string{"EXAMPLE__SQS_CONSUMER__LIMIT=ten"}, want: []string{
			`sqs_consumer.limit: cannot convert "ten" to int`,
		}},
		{name: "required", env: []string{"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL="}, want: []string{
			`sqs_consumer.sqs_queue_url: is required`,
		}},
		{name: "oneof", env: []string{"EXAMPLE__SQS_CONSUMER__BACKOFF_POLICY=foo"}, want: []string{
			`sqs_consumer.backoff_policy: must be one of [naive exponential], got "foo"`,
		}},
		{name: "url", env: []string{"EXAMPLE__SQS_CONSUMER__ENDPOINT_URL=nope"}, want: []string{
			`sqs_consumer.endpoint_url: must be a URL, got "nope"`,
		}},
		{name: "http_url", env: []string{"EXAMPLE__SQS_CONSUMER__HEALTH_URL=ftp://x"}, want: []string{
			`sqs_consumer.health_url: must be an http or https URL, got "ftp://x"`,
		}},
		{name: "hostname_port", env: []string{"EXAMPLE__SQS_CONSUMER__ADDR=localhost"}, want: []string{
			`sqs_consumer.addr: must be host:port, got "localhost"`,
		}},
		{name: "gt on pointer", env: []string{"EXAMPLE__SQS_CONSUMER__ATTEMPTS=0"}, want: []string{
			`sqs_consumer.attempts: must be greater than 0, got "0"`,
		}},
		{name: "lt", env: []string{"EXAMPLE__SQS_CONSUMER__RATIO=1.5"}, want: []string{
			`sqs_consumer.ratio: must be less than 1, got "1.5"`,
		}},
		{name: "min only", env: []string{"EXAMPLE__SQS_CONSUMER__FLOOR=1"}, want: []string{
			`sqs_consumer.floor: must be at least 2, got "1"`,
		}},
		{name: "max only", env: []string{"EXAMPLE__SQS_CONSUMER__CEILING=4"}, want: []string{
			`sqs_consumer.ceiling: must be at most 3, got "4"`,
		}},
		{name: "string length", env: []string{"EXAMPLE__SQS_CONSUMER__NAME=ab"}, want: []string{
			`sqs_consumer.name: must be at least 3 characters long, got "ab"`,
		}},
		{name: "list length", env: []string{"EXAMPLE__SQS_CONSUMER__TAGS=aa,bb,cc"}, want: []string{
			`sqs_consumer.tags: must be at most 2 items, got "aa,bb,cc"`,
		}},
		{name: "list element", env: []string{"EXAMPLE__SQS_CONSUMER__TAGS=aa,b"}, want: []string{
			`sqs_consumer.tags.1: must be at least 2 characters long, got "b"`,
		}},
		{name: "duration min", env: []string{"EXAMPLE__SQS_CONSUMER__TIMEOUT=0.5"}, want: []string{
			`sqs_consumer.timeout: must be at least 1s, got "0.5"`,
		}},
		{name: "fallback tag", env: []string{"EXAMPLE__SQS_CONSUMER__EMAIL=x"}, want: []string{
			`sqs_consumer.email: fails "email", got "x"`,
		}},
		{name: "nested key", env: []string{"EXAMPLE__SQS_CONSUMER__INNER__PORT=70000"}, want: []string{
			`sqs_consumer.inner.port: must be at most 65535, got "70000"`,
		}},
		{name: "bad bool", env: []string{"EXAMPLE__SQS_CONSUMER__ENABLED=maybe"}, want: []string{
			`sqs_consumer.enabled: cannot convert "maybe" to bool`,
		}},
		{name: "bad duration", env: []string{"EXAMPLE__SQS_CONSUMER__TIMEOUT=soon"}, want: []string{
			`sqs_consumer.timeout: cannot convert "soon" to duration`,
		}},
		{name: "int overflow", env: []string{"EXAMPLE__SQS_CONSUMER__LIMIT=99999999999999999999"}, want: []string{
			`sqs_consumer.limit: cannot convert "99999999999999999999" to int`,
		}},
		{name: "fractional int", values: map[string]any{"sqs_consumer.limit": 1.5}, want: []string{
			`sqs_consumer.limit: cannot convert "1.5" to int`,
		}},
		{name: "map for string", env: []string{"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL__X=y"}, want: []string{
			`sqs_consumer.sqs_queue_url: expected string, got a map`,
		}},
		{name: "list for int", values: map[string]any{"sqs_consumer.limit": []any{1}}, want: []string{
			`sqs_consumer.limit: expected int, got a list`,
		}},
		{name: "scalar for struct", values: map[string]any{"sqs_consumer.inner": "x"}, want: []string{
			`sqs_consumer.inner: expected a map, got "x"`,
		}},
		{name: "map for list", values: map[string]any{"sqs_consumer.tags": map[string]any{"a": "b"}}, want: []string{
			`sqs_consumer.tags: expected a list, got a map`,
		}},
		{name: "several joined in field order", env: []string{
			"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL=",
			"EXAMPLE__SQS_CONSUMER__LIMIT=ten",
			"EXAMPLE__SQS_CONSUMER__WAIT_SECONDS=99",
			"EXAMPLE__SQS_CONSUMER__BACKOFF_POLICY=foo",
		}, want: []string{
			`sqs_consumer.limit: cannot convert "ten" to int`,
			`sqs_consumer.sqs_queue_url: is required`,
			`sqs_consumer.wait_seconds: must be between 0 and 20, got "99"`,
			`sqs_consumer.backoff_policy: must be one of [naive exponential], got "foo"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConsumer()
			err := settings(t, tt.env, tt.values).Unmarshal("sqs_consumer", &cfg)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error %q", tt.want)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("got error\n%s\nwant\n%s", got, want)
			}
			var fe *fxconfig.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError", err)
			}
			if !strings.HasPrefix(tt.want[0], fe.Key+": ") {
				t.Errorf("first FieldError key %q does not match %q", fe.Key, tt.want[0])
			}
		})
	}
}

func TestFieldErrorFields(t *testing.T) {
	cfg := validConsumer()
	err := settings(t, []string{"EXAMPLE__SQS_CONSUMER__LIMIT=ten"}, nil).Unmarshal("sqs_consumer", &cfg)
	var fe *fxconfig.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v", err)
	}
	want := fxconfig.FieldError{Key: "sqs_consumer.limit", Value: "ten", Reason: `cannot convert "ten" to int`}
	if *fe != want {
		t.Errorf("got %+v, want %+v", *fe, want)
	}
	if cfg.Limit != 10 {
		t.Errorf("failed conversion changed the default: %d", cfg.Limit)
	}
}

func TestSectionNotAMap(t *testing.T) {
	cfg := validConsumer()
	err := settings(t, []string{"EXAMPLE__SQS_CONSUMER=x"}, nil).Unmarshal("sqs_consumer", &cfg)
	if err == nil || err.Error() != `sqs_consumer: expected a map, got "x"` {
		t.Errorf("got %v", err)
	}
}

func TestRequiredWhenSectionAbsent(t *testing.T) {
	var cfg consumerConfig
	cfg.Limit, cfg.BackoffPolicy, cfg.Floor, cfg.Timeout = 1, "naive", 2, time.Second
	err := settings(t, nil, nil).Unmarshal("sqs_consumer", &cfg)
	if err == nil || err.Error() != "sqs_consumer.sqs_queue_url: is required" {
		t.Errorf("got %v", err)
	}
}

func TestErrorKeysForDefaultsNotFromConfig(t *testing.T) {
	type withDefaults struct {
		Tags  []string          `koanf:"tags" validate:"dive,min=2"`
		Hosts map[string]string `validate:"dive,hostname_port"`
	}
	cfg := withDefaults{Tags: []string{"ok", "x"}, Hosts: map[string]string{"Primary": "nope"}}
	err := settings(t, nil, nil).Unmarshal("sec", &cfg)
	want := `sec.tags.1: must be at least 2 characters long, got "x"` + "\n" +
		`sec.hosts.Primary: must be host:port, got "nope"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want\n%s", err, want)
	}
}
