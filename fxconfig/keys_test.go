package fxconfig_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

type consumerSection struct {
	SQSQueueURL string            `koanf:"sqs_queue_url"`
	Limit       int               `koanf:"limit"`
	Tags        map[string]string `koanf:"tags"`
}

// readAll reads what an app with section sqs_consumer and free-form section opaque reads.
func readAll(t *testing.T, s *fxconfig.Settings) {
	t.Helper()
	var c consumerSection
	if err := s.Unmarshal("sqs_consumer", &c); err != nil {
		t.Fatal(err)
	}
	_ = s.Get("opaque")
}

// TestKeyWarnings: every key a file, the environment, values or flags set that nothing reads gets
// one warning naming where it came from and the nearest known key; keys read (a struct's fields,
// set or not, anything under a map field or a key read with Get) get none; a retired key gets its
// replacement instead.
func TestKeyWarnings(t *testing.T) {
	file := writeFile(t, "app.yaml", "sqs_consumer:\n  limit: 5\n  limt: 6\n  tags: {team: a}\nopaque:\n  anything: goes\nsqs_envelope:\n  validate_md5: true\n")
	s, err := fxconfig.Load(fxconfig.Input{
		Name:    "example",
		Files:   []string{file},
		Environ: []string{"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_UR=https://q", "EXAMPLE__DEBUG=true", "OTHER__X=1"},
		Values:  map[string]any{"sqs_consumer.sqs_queue_url": "https://q"},
		Flags:   map[string]any{"sqs_consumr.limit": "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Retire("sqs_envelope.validate_md5", "the SDK checks MD5s")
	readAll(t, s)
	got := s.KeyWarnings()
	want := []fxconfig.KeyWarning{
		{Key: "sqs_consumer.limt", Source: "file " + file, Nearest: "sqs_consumer.limit"},
		{Key: "sqs_envelope.validate_md5", Source: "file " + file, Replacement: "the SDK checks MD5s"},
		{Key: "sqs_consumer.sqs_queue_ur", Source: "environment variable EXAMPLE__SQS_CONSUMER__SQS_QUEUE_UR",
			Nearest: "sqs_consumer.sqs_queue_url", NearestSource: "EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL"},
		{Key: "sqs_consumr.limit", Source: "flags", Nearest: "sqs_consumer.limit"},
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%v\nwant:\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("warning %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if msg := got[2].String(); msg != "unknown config key sqs_consumer.sqs_queue_ur (environment variable EXAMPLE__SQS_CONSUMER__SQS_QUEUE_UR) is ignored; nearest known key: sqs_consumer.sqs_queue_url (EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL)" {
		t.Errorf("message %q", msg)
	}
	if err := s.CheckKeys(); err != nil {
		t.Errorf("CheckKeys without strict_config: %v", err)
	}
}

// TestStrictConfig: strict_config (--strict-config) makes CheckKeys an error listing every
// warning, and the module fails start-up with it; without it, the module logs each warning once.
func TestStrictConfig(t *testing.T) {
	env := []string{"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_UR=https://q"}
	s, err := fxconfig.Load(fxconfig.Input{Name: "example", Environ: env, Args: []string{"--strict-config"}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, s)
	var ke *fxconfig.KeysError
	if err := s.CheckKeys(); !errors.As(err, &ke) || len(ke.Warnings) != 1 || !strings.Contains(err.Error(), "EXAMPLE__SQS_CONSUMER__SQS_QUEUE_UR") {
		t.Fatalf("CheckKeys = %v, want a KeysError naming the variable", err)
	}

	for _, strict := range []bool{false, true} {
		core, logs := observer.New(zap.WarnLevel)
		app := fxtest.New(t,
			fxconfig.WithInput(fxconfig.Input{Name: "example", Environ: env, Flags: map[string]any{"strict_config": strict}}),
			fxconfig.Module,
			fx.Decorate(func(*zap.Logger) *zap.Logger { return zap.New(core) }),
			fx.Invoke(func(s *fxconfig.Settings) { readAll(t, s) }),
			fx.NopLogger,
		)
		err := app.Start(context.Background())
		if strict {
			if !errors.As(err, &ke) {
				t.Errorf("strict start: %v, want a KeysError", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		app.RequireStop()
		if n := logs.FilterMessageSnippet("unknown config key sqs_consumer.sqs_queue_ur").Len(); n != 1 {
			t.Errorf("%d warnings logged, want 1: %v", n, logs.All())
		}
	}
}
