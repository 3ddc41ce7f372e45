package fxpubsub

import "time"

// Every default is written here once: [DefaultConfig] (what LoadConfig starts from) and the zero
// values of the engine's options ([DaemonOptions], [ConsumerOptions], [ProducerOptions],
// [DispatcherOptions], [DecoderOptions], [AWSOptions]) read the same constants. The exported
// defaults ([DefaultInitialTTL], [DefaultDeferredBatchSize], the large-payload and health ones)
// stay beside what they configure.
const (
	defaultMaxAttempts    = 5 // SDK attempts per call, and attempts per batch entry
	defaultConnectTimeout = 10 * time.Second
	defaultReadTimeout    = 30 * time.Second // a whole publish request

	defaultBackoffPolicy                 = "naive"
	defaultRetryVisibilityTimeoutSeconds = 5  // the naive backoff
	defaultLimit                         = 10 // messages per receive, SQS's maximum
	defaultWaitSeconds                   = 20 // the long-poll wait, SQS's maximum

	defaultPollers            = 1
	defaultReceivers          = 4
	defaultConcurrency        = 64 // room for every receiver to ask for a full batch of 10
	defaultFlushInterval      = 50 * time.Millisecond
	defaultMaxBatchCalls      = 8
	defaultHeartbeatThreshold = 0.5
	defaultDrainTimeout       = 10 * time.Second // below fx's 15 s stop timeout
)

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Producer: ProducerConfig{ConnectTimeout: defaultConnectTimeout, ReadTimeout: defaultReadTimeout, DeferredBatchSize: DefaultDeferredBatchSize, MaxAttempts: defaultMaxAttempts},
		Consumer: ConsumerConfig{BackoffPolicy: defaultBackoffPolicy, Limit: defaultLimit, WaitSeconds: defaultWaitSeconds,
			MessageRetryVisibilityTimeoutSeconds: defaultRetryVisibilityTimeoutSeconds, ConnectTimeout: defaultConnectTimeout,
			MaxAttempts: defaultMaxAttempts, Pollers: defaultPollers, Receivers: defaultReceivers, Concurrency: defaultConcurrency,
			FlushInterval: defaultFlushInterval, Heartbeat: true, HeartbeatThreshold: defaultHeartbeatThreshold, DrainTimeout: defaultDrainTimeout},
		Envelope:       EnvelopeConfig{StrategyName: string(EnvelopeCodec)},
		MessageContext: MessageContextConfig{EnableTTL: true, InitialTTL: DefaultInitialTTL},
		Registry:       DefaultRegistryConfig(),
		LargePayload:   LargePayloadConfig{Threshold: DefaultPayloadThreshold, MaxFetchSize: DefaultMaxFetchSize, FetchTimeout: DefaultFetchTimeout},
		Health:         DefaultHealthConfig(),
		Telemetry:      TelemetryConfig{Metrics: true},
		Topics:         map[string]any{},
		Opaque:         map[string]string{},
	}
}
