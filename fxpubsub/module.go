package fxpubsub

import (
	"context"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module wires the pub/sub engine: configuration ([Config]), the schema registry (named
// pubsub_message_schema_registry), the [Backend] (AWS clients, or the in-memory backend in testing
// mode), the producer (named sns_producer) and the consumer (named sqs_consumer), each also
// available unnamed by type.
//
// Module is the one deliberate bundle: it includes [fxconfig.Module] and [fxsentry.Module], so
// fx.New(fxpubsub.Module, fxconfig.WithInput(...)) is a complete app. Apps that compose their own
// graph use [Core] with fxconfig.Module (and fxsentry.Module if they want Sentry): adding either
// next to Module fails with "already provided".
var Module = fx.Module("pubsub", fxconfig.Module, fxsentry.Module, Core)

// sentryHook joins the result hooks with the Sentry reporter.
var sentryHook = AsResultHook(NewSentryHookFx)

// Core is [Module] without the bundled configuration and Sentry modules, as its own fx module
// ("pubsub-core"), so its providers keep a name in fx's logs and errors.
var Core = fx.Module("pubsub-core",
	sentryHook,
	fx.Provide(
		LoadConfig,
		NewRegistryFx,
		NewBackendFx,
		NewPayloadStoreFx,
		NewProducerFx,
		NewConsumerFx,
		NewDecoderFx,
		NewDispatcherFx,
		NewDaemonFx,
		NewTelemetryFx,
	),
)

// RegistryParams are the schema registry's dependencies.
type RegistryParams struct {
	fx.In
	Config  Config
	Schemas []Schema `group:"pubsub.schemas"`
}

// RegistryResult provides the registry unnamed and as pubsub_message_schema_registry.
type RegistryResult struct {
	fx.Out
	Registry *SchemaRegistry
	Named    *SchemaRegistry `name:"pubsub_message_schema_registry"`
}

// NewRegistryFx builds the schema registry from the registered schemas.
func NewRegistryFx(p RegistryParams) (RegistryResult, error) {
	r, err := NewSchemaRegistry(p.Config.Registry, p.Schemas...)
	if err != nil {
		return RegistryResult{}, err
	}
	return RegistryResult{Registry: r, Named: r}, nil
}

// BackendParams are the backend's dependencies.
type BackendParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    Config
	Metadata  fxconfig.Metadata
	Logger    *zap.Logger `optional:"true"` // the SDK's own log lines
}

// NewBackendFx builds the [Backend]; an in-memory backend is closed on stop.
func NewBackendFx(p BackendParams) (*Backend, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := NewBackendWithLogger(ctx, p.Config, p.Metadata, p.Logger)
	if err != nil {
		return nil, err
	}
	if b.Memory != nil {
		p.Lifecycle.Append(fx.StopHook(b.Memory.Close))
	}
	return b, nil
}

// ProducerParams are the producer's dependencies.
type ProducerParams struct {
	fx.In
	Config    Config
	Metadata  fxconfig.Metadata
	Backend   *Backend
	Registry  *SchemaRegistry
	Logger    *zap.Logger   `optional:"true"`
	Telemetry *Telemetry    `optional:"true"`
	Payloads  *PayloadStore `optional:"true"`
}

// ProducerResult provides the producer unnamed and as sns_producer.
type ProducerResult struct {
	fx.Out
	Producer *Producer
	Named    *Producer `name:"sns_producer"`
}

// NewProducerFx builds the producer. sns_producer.skip defaults to on in debug mode (outside
// testing mode, where publishing goes to the in-memory backend).
func NewProducerFx(p ProducerParams) ProducerResult {
	skip := p.Metadata.Debug && !p.Metadata.Testing
	if p.Config.Producer.Skip != nil {
		skip = *p.Config.Producer.Skip
	}
	prod := NewProducer(p.Backend.SNS, p.Registry, p.Backend.Topics, ProducerOptions{
		Skip: skip, Opaque: NewOpaque(p.Config.Opaque), Logger: p.Logger, MaxAttempts: p.Config.Producer.MaxAttempts,
		DeferredBatchSize: p.Config.Producer.DeferredBatchSize, BatchLinger: p.Config.Producer.BatchLinger,
		Telemetry:     p.Telemetry,
		LargePayloads: p.Payloads,
	})
	return ProducerResult{Producer: prod, Named: prod}
}

// ConsumerParams are the consumer's dependencies.
type ConsumerParams struct {
	fx.In
	Config   Config
	Backend  *Backend
	Registry *SchemaRegistry
	Payloads *PayloadStore `optional:"true"`
}

// ConsumerResult provides the consumer unnamed and as sqs_consumer.
type ConsumerResult struct {
	fx.Out
	Consumer *Consumer
	Named    *Consumer `name:"sqs_consumer"`
}

// NewConsumerFx builds the consumer; it fails with [ErrNoQueue] when no queue is configured.
func NewConsumerFx(p ConsumerParams) (ConsumerResult, error) {
	c, err := newConfiguredConsumer(p.Config, p.Backend, p.Registry, p.Payloads)
	if err != nil {
		return ConsumerResult{}, err
	}
	return ConsumerResult{Consumer: c, Named: c}, nil
}

// newConfiguredConsumer builds the consumer of cfg's queue on the backend.
func newConfiguredConsumer(cfg Config, b *Backend, registry *SchemaRegistry, payloads *PayloadStore) (*Consumer, error) {
	opts, err := cfg.consumerOptions()
	if err != nil {
		return nil, err
	}
	opts.LargePayloads = payloads
	return NewConsumer(b.SQS, registry, b.Queue, opts)
}

// NewPayloadStoreFx builds the [PayloadStore] of section large_payload, or nil when the section is
// off; it is closed on stop.
func NewPayloadStoreFx(p PayloadStoreParams) (*PayloadStore, error) {
	if !p.Config.LargePayload.Enabled() {
		return nil, nil
	}
	opts := p.Config.LargePayload.storeOptions()
	opts.Telemetry = p.Telemetry
	s, err := NewPayloadStore(p.Backend.S3, opts)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StopHook(s.Close))
	return s, nil
}

// PayloadStoreParams are the payload store's dependencies.
type PayloadStoreParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    Config
	Backend   *Backend
	Telemetry *Telemetry `optional:"true"`
}

// TelemetryParams are what [NewTelemetryFx] takes from the graph: section telemetry, the app's
// metadata and environment, and the optional OpenTelemetry providers.
type TelemetryParams struct {
	fx.In
	Config         Config
	Metadata       fxconfig.Metadata
	Input          fxconfig.Input                `optional:"true"` // Environ; nil means the process environment
	MeterProvider  metric.MeterProvider          `optional:"true"`
	TracerProvider trace.TracerProvider          `optional:"true"`
	Propagator     propagation.TextMapPropagator `optional:"true"`
}

// NewTelemetryFx builds the [Telemetry] the producer, dispatcher and daemon share, from the
// providers in the graph or else the global ones, with section telemetry's switch and constant
// attributes. Provide the providers as interfaces, for example
// fx.Provide(fx.Annotate(newMeterProvider, fx.As(new(metric.MeterProvider)))).
func NewTelemetryFx(p TelemetryParams) (*Telemetry, error) {
	return NewTelemetry(TelemetryOptions{
		MeterProvider: p.MeterProvider, TracerProvider: p.TracerProvider, Propagator: p.Propagator,
		DisableMetrics: !p.Config.Telemetry.Metrics,
		Attributes:     p.Config.Telemetry.attributes(p.Metadata.Name, p.Input.Getenv),
	})
}
