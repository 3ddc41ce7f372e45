package fxpubsub

import (
	"reflect"
	"testing"
	"time"
)

// The defaults of the configuration and of the engine's zero options are the same values.
func TestDefaultsAgree(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig is invalid: %v", err)
	}
	fromConfig := cfg.daemonOptions()
	fromConfig.defaults()
	var zero DaemonOptions
	zero.defaults()
	fromConfig.Logger, zero.Logger = nil, nil
	fromConfig.HealthThreshold, zero.HealthThreshold = 0, 0
	if !reflect.DeepEqual(fromConfig, zero) {
		t.Errorf("daemon defaults differ:\nconfig %+v\nzero   %+v", fromConfig, zero)
	}
	if cfg.Consumer.Limit != defaultLimit || cfg.Consumer.WaitSeconds != defaultWaitSeconds {
		t.Errorf("consumer defaults: limit %d, wait %d", cfg.Consumer.Limit, cfg.Consumer.WaitSeconds)
	}
	co, err := cfg.consumerOptions()
	if err != nil {
		t.Fatal(err)
	}
	if got := co.Backoff.Backoff(1); got != defaultRetryVisibilityTimeoutSeconds*time.Second {
		t.Errorf("configured backoff %v", got)
	}
	dec, err := NewDecoder(nil, DecoderOptions{Envelope: EnvelopeRaw})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dec.Options().Backoff.Backoff(1), co.Backoff.Backoff(1); got != want {
		t.Errorf("decoder's default backoff %v, config's %v", got, want)
	}
	if d := NewDispatcher(nil, DispatcherOptions{}); d.opts.InitialTTL != cfg.MessageContext.InitialTTL {
		t.Errorf("dispatcher's default TTL %d, config's %d", d.opts.InitialTTL, cfg.MessageContext.InitialTTL)
	}
	if p := NewProducer(nil, nil, nil, ProducerOptions{}); p.opts.MaxAttempts != cfg.Producer.MaxAttempts || p.opts.DeferredBatchSize != cfg.Producer.DeferredBatchSize {
		t.Errorf("producer defaults %d/%d, config's %d/%d", p.opts.MaxAttempts, p.opts.DeferredBatchSize, cfg.Producer.MaxAttempts, cfg.Producer.DeferredBatchSize)
	}
}
