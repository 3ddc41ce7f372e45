package fxpubsub

import (
	"errors"
	"fmt"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
)

// Config holds every section fxpubsub reads. Each field documents its section and defaults; see
// [DefaultConfig].
type Config struct {
	Producer       ProducerConfig       // section sns_producer
	Consumer       ConsumerConfig       // section sqs_consumer
	Envelope       EnvelopeConfig       // section sqs_envelope
	MessageContext MessageContextConfig // section sqs_message_context
	Dispatcher     DispatcherConfig     // section sqs_message_dispatcher
	Registry       RegistryConfig       // section pubsub_message_schema_registry
	LargePayload   LargePayloadConfig   // section large_payload
	Health         HealthConfig         // section health
	Telemetry      TelemetryConfig      // section telemetry
	// Topics is section sns_topic_arns as loaded: default, mappings and per-lifecycle nested keys
	// (see [NewTopicMap]).
	Topics map[string]any
	// Opaque is section opaque: static entries added to every message's opaque data.
	Opaque map[string]string
}

// ProducerConfig is section sns_producer.
type ProducerConfig struct {
	// Skip publishes nothing (Produce validates and returns ""). Unset means on in debug mode.
	Skip *bool `koanf:"skip"`
	// EndpointURL points the SNS client elsewhere (LocalStack, an emulator). Default: AWS.
	EndpointURL string `koanf:"endpoint_url" validate:"omitempty,url"`
	// RegionName overrides the SDK's region resolution.
	RegionName string `koanf:"region_name"`
	// ProfileName selects a shared-config profile.
	ProfileName string `koanf:"profile_name"`
	// ConnectTimeout bounds TCP connects (default 10 s; the original's 60 s let publishes hang).
	ConnectTimeout time.Duration `koanf:"connect_timeout" validate:"gte=0"`
	// ReadTimeout bounds a whole publish request (default 30 s).
	ReadTimeout time.Duration `koanf:"read_timeout" validate:"gte=0"`
	// DeferredBatchSize is the chunk size of deferred batch messages (default 100).
	DeferredBatchSize int `koanf:"deferred_batch_size" validate:"min=1"`
	// MaxAttempts bounds SDK attempts per call and attempts per batch entry (default 5).
	MaxAttempts int `koanf:"max_attempts" validate:"min=1,max=20"`
	// BatchLinger is how long a Produce call waits for concurrent calls to fill a PublishBatch
	// before sending (default 0: at once; see ProducerOptions.BatchLinger). Not in the original.
	BatchLinger time.Duration `koanf:"batch_linger" validate:"gte=0,lte=1000000000"`
}

// ConsumerConfig is section sqs_consumer.
type ConsumerConfig struct {
	// SQSQueueURL is the queue to consume: a URL, or a name resolved with GetQueueUrl. Required to
	// consume (outside --testing).
	SQSQueueURL string `koanf:"sqs_queue_url"`
	// EndpointURL points the SQS client elsewhere. Default: AWS.
	EndpointURL string `koanf:"endpoint_url" validate:"omitempty,url"`
	// RegionName overrides the SDK's region resolution.
	RegionName string `koanf:"region_name"`
	// ProfileName selects a shared-config profile.
	ProfileName string `koanf:"profile_name"`
	// BackoffPolicy is naive (default) or exponential.
	BackoffPolicy string `koanf:"backoff_policy" validate:"oneof=naive exponential NaiveBackoffPolicy ExponentialBackoffPolicy"`
	// Limit is MaxNumberOfMessages per receive (default 10).
	Limit int `koanf:"limit" validate:"min=1,max=10"`
	// WaitSeconds is the long-poll wait (default 20; the original's 1 s cost money).
	WaitSeconds int `koanf:"wait_seconds" validate:"min=0,max=20"`
	// MessageRetryVisibilityTimeoutSeconds is the naive backoff (default 5).
	MessageRetryVisibilityTimeoutSeconds int `koanf:"message_retry_visibility_timeout_seconds" validate:"min=0,max=43200"`
	// VisibilityTimeoutSeconds overrides the queue's visibility timeout on receive (default 0: the
	// queue's own).
	VisibilityTimeoutSeconds int `koanf:"visibility_timeout_seconds" validate:"min=0,max=43200"`
	// ConnectTimeout bounds TCP connects (default 10 s).
	ConnectTimeout time.Duration `koanf:"connect_timeout" validate:"gte=0"`
	// MaxAttempts bounds SDK attempts per call and attempts per batched delete or visibility change
	// (default 5).
	MaxAttempts int `koanf:"max_attempts" validate:"min=1,max=20"`
	// Pollers is the number of independent pollers of the daemon, the original's --processes
	// (default 1; Main's --processes sets it): each has its own receivers and worker pool, so the
	// daemon polls with Pollers × Receivers receivers and up to Pollers × Concurrency workers.
	Pollers int `koanf:"pollers" validate:"min=1,max=64"`
	// Receivers is the number of concurrent long-polling receivers of each poller (default 4).
	Receivers int `koanf:"receivers" validate:"min=1,max=100"`
	// Concurrency is each poller's worker-pool size and in-flight bound (default 64: room for every receiver to ask for a full batch of 10).
	Concurrency int `koanf:"concurrency" validate:"min=1,max=10000"`
	// FlushInterval is how long a partial batch of deletes or visibility changes waits (default 50ms).
	FlushInterval time.Duration `koanf:"flush_interval" validate:"gt=0,lte=10000000000"`
	// Heartbeat extends the visibility of messages handled for longer than HeartbeatThreshold of the
	// visibility timeout (default true).
	Heartbeat bool `koanf:"heartbeat"`
	// HeartbeatThreshold is that fraction (default 0.5).
	HeartbeatThreshold float64 `koanf:"heartbeat_threshold" validate:"gt=0,lt=1"`
	// DrainTimeout bounds how long stopping waits for in-flight handlers (default 10s; keep it below
	// fx's stop timeout).
	DrainTimeout time.Duration `koanf:"drain_timeout" validate:"gt=0"`
}

// EnvelopeConfig is section sqs_envelope. The three checks guard the codec envelope against
// forged SNS notifications (see "Securing envelopes" in the package doc); all are off by default,
// as emulators do not sign (fauxqs and the in-memory backend sign "EXAMPLE"). A body a check
// refuses is FAILED, never handled.
type EnvelopeConfig struct {
	// StrategyName is codec (default), raw or naive; the original's class names work too.
	StrategyName string `koanf:"strategy_name"`
	// AllowedTopicARNs accepts SNS notifications only from these topic ARNs (a list, or a
	// comma-separated string from the environment). Default: any topic.
	AllowedTopicARNs []string `koanf:"allowed_topic_arns"`
	// VerifySignatures verifies the SNS signature (SignatureVersion 1 and 2) of every notification,
	// fetching the signing certificate from https://sns.<region>.amazonaws.com. Default false.
	VerifySignatures bool `koanf:"verify_signatures"`
	// RequireEnvelope refuses bodies that are not SNS notifications (raw delivery, or messages sent
	// straight to the queue). Default false.
	RequireEnvelope bool `koanf:"require_envelope"`
}

// envelopeChecks builds the consumer's checks; a verifier only when signatures are verified.
func (c EnvelopeConfig) envelopeChecks() EnvelopeChecks {
	ec := EnvelopeChecks{AllowedTopicARNs: c.AllowedTopicARNs, RequireEnvelope: c.RequireEnvelope}
	if c.VerifySignatures {
		ec.Verifier = NewSNSVerifier(SNSVerifierOptions{})
	}
	return ec
}

// validate checks what the tags cannot: the checks need the codec envelope, and every allowed
// topic must be an SNS topic ARN.
func (c EnvelopeConfig) validate(env Envelope) []error {
	var errs []error
	if env != EnvelopeCodec {
		for _, check := range []struct {
			key string
			on  bool
		}{{CheckAllowedTopicARNs, len(c.AllowedTopicARNs) > 0}, {CheckVerifySignatures, c.VerifySignatures}, {CheckRequireEnvelope, c.RequireEnvelope}} {
			if check.on {
				errs = append(errs, &fxconfig.FieldError{Key: check.key, Value: true,
					Reason: fmt.Sprintf("applies to strategy_name codec only (SNS envelopes), not %s", env)})
			}
		}
	}
	for i, arn := range c.AllowedTopicARNs {
		if !isSNSTopicARN(arn) {
			errs = append(errs, &fxconfig.FieldError{Key: fmt.Sprintf("%s.%d", CheckAllowedTopicARNs, i), Value: clip(arn),
				Reason: fmt.Sprintf("%q is not an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic>)", clip(arn))})
		}
	}
	return errs
}

// MessageContextConfig is section sqs_message_context.
type MessageContextConfig struct {
	// EnableTTL turns hop-TTL loop protection on (default true).
	EnableTTL bool `koanf:"enable_ttl"`
	// InitialTTL is the TTL of a message that carries none (default 32).
	InitialTTL int `koanf:"initial_ttl" validate:"min=1"`
}

// DispatcherConfig is section sqs_message_dispatcher.
type DispatcherConfig struct {
	// MessageMaxProcessingAttempts skips (deletes) a message received more times than this.
	// Unset: no limit (let the queue's redrive policy decide).
	MessageMaxProcessingAttempts *int `koanf:"message_max_processing_attempts" validate:"omitempty,min=1"`
}

// configSection is one section of [Config]: its name and where it loads.
type configSection struct {
	name string
	dst  any
}

// sections lists the struct sections of c, the one list [LoadConfig] and [Config.Validate] read.
func (c *Config) sections() []configSection {
	return []configSection{
		{"sns_producer", &c.Producer},
		{"sqs_consumer", &c.Consumer},
		{"sqs_envelope", &c.Envelope},
		{"sqs_message_context", &c.MessageContext},
		{"sqs_message_dispatcher", &c.Dispatcher},
		{"pubsub_message_schema_registry", &c.Registry},
		{"large_payload", &c.LargePayload},
		{"health", &c.Health},
		{"telemetry", &c.Telemetry},
	}
}

// LoadConfig reads fxpubsub's sections from settings over [DefaultConfig]. Errors name the full key.
//
// It also declares the keys only the original had (see fxconfig.Settings.Retire), so config
// written for the original loads with one warning per such key.
func LoadConfig(s *fxconfig.Settings) (Config, error) {
	retireOriginalKeys(s)
	cfg := DefaultConfig()
	var errs []error
	for _, sec := range cfg.sections() {
		if err := s.Unmarshal(sec.name, sec.dst); err != nil {
			errs = append(errs, err)
		}
	}
	if raw := s.Get("sns_topic_arns"); raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("sns_topic_arns: want a map, got %T", raw))
		} else {
			cfg.Topics = m
		}
	}
	if raw := s.Get("opaque"); raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("opaque: want a map of strings, got %T", raw))
		}
		for k, v := range m {
			sv, ok := v.(string)
			if !ok {
				errs = append(errs, fmt.Errorf("opaque.%s: want a string, got %T", k, v))
				continue
			}
			cfg.Opaque[k] = sv
		}
	}
	errs = append(errs, cfg.validateEnvelope()...)
	return cfg, errors.Join(errs...)
}

// Validate checks c as [LoadConfig] does: every section against its validate tags (errors name
// the full key, as *fxconfig.FieldError), and the envelope strategy with its checks. A Config from
// LoadConfig is valid; one built or changed in code (start from [DefaultConfig]: the zero Config is
// not valid) is checked by [NewBackend], or call Validate yourself.
func (c Config) Validate() error {
	var errs []error
	for _, sec := range c.sections() {
		errs = append(errs, fxconfig.Validate(sec.name, sec.dst))
	}
	errs = append(errs, c.validateEnvelope()...)
	return errors.Join(errs...)
}

// validateEnvelope checks the envelope strategy and the checks that need it.
func (c Config) validateEnvelope() []error {
	env, err := ParseEnvelope(c.Envelope.StrategyName)
	if err != nil {
		return []error{fmt.Errorf("sqs_envelope.strategy_name: %w", err)}
	}
	return c.Envelope.validate(env)
}

// consumerOptions turns the config into [ConsumerOptions].
func (c Config) consumerOptions() (ConsumerOptions, error) {
	env, err := ParseEnvelope(c.Envelope.StrategyName)
	if err != nil {
		return ConsumerOptions{}, err
	}
	backoff, err := NewBackoffPolicy(c.Consumer.BackoffPolicy, time.Duration(c.Consumer.MessageRetryVisibilityTimeoutSeconds)*time.Second)
	if err != nil {
		return ConsumerOptions{}, err
	}
	return ConsumerOptions{
		Limit:             c.Consumer.Limit,
		Wait:              time.Duration(c.Consumer.WaitSeconds) * time.Second,
		WaitSet:           true,
		VisibilityTimeout: time.Duration(c.Consumer.VisibilityTimeoutSeconds) * time.Second,
		Envelope:          env,
		Backoff:           backoff,
		EnvelopeChecks:    c.Envelope.envelopeChecks(),
	}, nil
}

// daemonOptions turns the config into [DaemonOptions].
func (c Config) daemonOptions() DaemonOptions {
	return DaemonOptions{
		Pollers: c.Consumer.Pollers, HealthThreshold: c.Health.threshold(), Receivers: c.Consumer.Receivers, Concurrency: c.Consumer.Concurrency, FlushInterval: c.Consumer.FlushInterval,
		MaxAttempts: c.Consumer.MaxAttempts, VisibilityTimeout: time.Duration(c.Consumer.VisibilityTimeoutSeconds) * time.Second,
		DisableHeartbeat: !c.Consumer.Heartbeat, HeartbeatThreshold: c.Consumer.HeartbeatThreshold, DrainTimeout: c.Consumer.DrainTimeout,
	}
}

// dispatcherOptions turns the config into [DispatcherOptions].
func (c Config) dispatcherOptions() DispatcherOptions {
	o := DispatcherOptions{EnableTTL: c.MessageContext.EnableTTL, InitialTTL: c.MessageContext.InitialTTL}
	if c.Dispatcher.MessageMaxProcessingAttempts != nil {
		o.MaxAttempts = *c.Dispatcher.MessageMaxProcessingAttempts
	}
	return o
}
