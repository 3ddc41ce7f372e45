package fxpubsub

import (
	"context"

	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// DispatcherParams are the dispatcher's dependencies.
type DispatcherParams struct {
	fx.In
	Config        Config
	Registrations []Registration `group:"pubsub.handlers"`
	Hooks         []ResultHook   `group:"pubsub.result_hooks"`
	Logger        *zap.Logger    `optional:"true"`
	Telemetry     *Telemetry     `optional:"true"`
}

// DispatcherResult provides the dispatcher (also as sqs_message_dispatcher) and the handler
// registry (also as sqs_message_handler_registry).
type DispatcherResult struct {
	fx.Out
	Dispatcher      *Dispatcher
	NamedDispatcher *Dispatcher `name:"sqs_message_dispatcher"`
	Handlers        *HandlerRegistry
	NamedHandlers   *HandlerRegistry `name:"sqs_message_handler_registry"`
}

// NewDispatcherFx builds the handler registry and dispatcher; duplicate handlers fail start-up.
func NewDispatcherFx(p DispatcherParams) (DispatcherResult, error) {
	handlers, err := NewHandlerRegistry(p.Registrations...)
	if err != nil {
		return DispatcherResult{}, err
	}
	opts := p.Config.dispatcherOptions()
	opts.Logger = p.Logger
	opts.Telemetry = p.Telemetry
	for _, h := range p.Hooks {
		if h != nil {
			opts.Hooks = append(opts.Hooks, h)
		}
	}
	d := NewDispatcher(handlers, opts)
	return DispatcherResult{Dispatcher: d, NamedDispatcher: d, Handlers: handlers, NamedHandlers: handlers}, nil
}

// DaemonParams are the daemon's dependencies.
type DaemonParams struct {
	fx.In
	Lifecycle  fx.Lifecycle
	Shutdowner fx.Shutdowner
	Config     Config
	Backend    *Backend
	Registry   *SchemaRegistry
	Dispatcher *Dispatcher
	// Source, when the graph has one, is what the daemon consumes instead of the configured
	// queue (Main provides a replay's this way).
	Source    MessageSource `optional:"true"`
	Payloads  *PayloadStore `optional:"true"` // large_payload: resolves S3 pointers
	Logger    *zap.Logger   `optional:"true"`
	Telemetry *Telemetry    `optional:"true"`
}

// NewDaemonFx builds the daemon and ties it to the app's lifecycle: OnStart starts it (returning
// at once), OnStop drains it; if it stops by itself the app is shut down. It consumes the
// configured queue, or the graph's [MessageSource] when there is one.
func NewDaemonFx(p DaemonParams) (*Daemon, error) {
	opts := p.Config.daemonOptions()
	opts.Logger = p.Logger
	opts.Telemetry = p.Telemetry
	opts.OnStopped = func(err error) {
		code := 0
		if err != nil {
			code = 1
		}
		_ = p.Shutdowner.Shutdown(fx.ExitCode(code))
	}
	var d *Daemon
	if p.Source != nil {
		d = NewSourceDaemon(p.Source, p.Dispatcher, opts)
	} else {
		c, err := newConfiguredConsumer(p.Config, p.Backend, p.Registry, p.Payloads)
		if err != nil {
			return nil, err
		}
		d = NewDaemon(c, p.Dispatcher, opts)
	}
	p.Lifecycle.Append(fx.StartStopHook(d.Start, d.Stop))
	return d, nil
}

// DecoderParams are what [NewDecoderFx] takes from the graph.
type DecoderParams struct {
	fx.In
	Config   Config
	Registry *SchemaRegistry
	Payloads *PayloadStore `optional:"true"` // large_payload: resolves S3 pointers
}

// NewDecoderFx builds the [Decoder] of the configured envelope, envelope checks and backoff
// policy: what a replay or an AWS Lambda function decodes with (the consumer builds the same).
func NewDecoderFx(p DecoderParams) (*Decoder, error) {
	opts, err := p.Config.consumerOptions()
	if err != nil {
		return nil, err
	}
	return NewDecoder(p.Registry, DecoderOptions{Envelope: opts.Envelope, EnvelopeChecks: opts.EnvelopeChecks, Backoff: opts.Backoff, LargePayloads: p.Payloads})
}

// HealthParams are the health endpoint's dependencies.
type HealthParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    Config
	Daemon    *Daemon
	Logger    *zap.Logger `optional:"true"`
}

// NewHealthServerFx returns a server of the daemon's health endpoint on the address of section
// health ([HealthConfig.Address]) tied to the lifecycle; with no address it returns a server that
// never listens. The server stops only after the daemon has drained, so probes see 503 (500 on
// /api/health) during the drain rather than a refused connection.
func NewHealthServerFx(p HealthParams) (*HealthServer, error) {
	addr := p.Config.Health.Address()
	s := NewHealthServer(addr, NewHealthHandler(p.Daemon))
	if addr == "" {
		return s, nil
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := s.Start(ctx); err != nil {
				return err
			}
			if p.Logger != nil {
				p.Logger.Info("health endpoint listening", zap.String("addr", s.Addr()), zap.Strings("paths", []string{HealthPath, APIHealthPath, APIHeartbeatPath}))
			}
			return nil
		},
		OnStop: func(ctx context.Context) error {
			// This hook runs before the daemon's own (it was appended after it): drain first, while
			// the endpoint still answers. Daemon.Stop is idempotent; the daemon's hook reports its
			// error.
			_ = p.Daemon.Stop(ctx)
			return s.Stop(ctx)
		},
	})
	return s, nil
}

// SentryHookParams take the reporter optionally, so [Core] works with or without fxsentry.Module.
type SentryHookParams struct {
	fx.In
	Reporter *fxsentry.Reporter `optional:"true"`
}

// NewSentryHookFx returns the Sentry result hook (nil when Sentry is off or absent).
func NewSentryHookFx(p SentryHookParams) ResultHook { return NewSentryHook(p.Reporter) }
