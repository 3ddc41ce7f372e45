package fxpubsub_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// Config.Validate checks a Config built in code as LoadConfig checks loaded ones, naming full keys;
// NewBackend refuses an invalid one.
func TestConfigValidate(t *testing.T) {
	if err := fxpubsub.DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig is invalid: %v", err)
	}
	s, err := fxconfig.Load(fxconfig.Input{Name: "v", Environ: []string{}, Values: map[string]any{"sqs_consumer.wait_seconds": 5}})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := fxpubsub.LoadConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(); err != nil {
		t.Fatalf("a loaded Config is invalid: %v", err)
	}

	cfg := fxpubsub.DefaultConfig()
	cfg.Consumer.WaitSeconds = 99
	cfg.Envelope.StrategyName = "raw"
	cfg.Envelope.RequireEnvelope = true
	err = cfg.Validate()
	var fe *fxconfig.FieldError
	if !errors.As(err, &fe) || fe.Key != "sqs_consumer.wait_seconds" {
		t.Fatalf("Validate = %v, want a *fxconfig.FieldError for sqs_consumer.wait_seconds", err)
	}
	for _, want := range []string{`sqs_consumer.wait_seconds: must be between 0 and 20, got "99"`, "sqs_envelope.require_envelope"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %s", err, want)
		}
	}
	if _, err := fxpubsub.NewBackend(context.Background(), cfg, fxconfig.Metadata{Name: "v", Testing: true}); err == nil || !strings.Contains(err.Error(), "sqs_consumer.wait_seconds") {
		t.Errorf("NewBackend with an invalid Config: %v", err)
	}
	if err := (fxpubsub.Config{}).Validate(); err == nil {
		t.Error("the zero Config validates")
	} else {
		t.Logf("zero Config: %v", err)
	}
}
