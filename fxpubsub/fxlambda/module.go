package fxlambda

import (
	"context"
	"errors"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// HandlerParams are the handler's dependencies.
type HandlerParams struct {
	fx.In
	Decoder        *fxpubsub.Decoder
	Dispatcher     *fxpubsub.Dispatcher
	Backend        *fxpubsub.Backend
	Options        Options              `optional:"true"`
	Reporter       *fxsentry.Reporter   `optional:"true"`
	MeterProvider  metric.MeterProvider `optional:"true"`
	TracerProvider trace.TracerProvider `optional:"true"`
	Logger         *zap.Logger          `optional:"true"`
}

// forceFlusher is what OpenTelemetry SDK providers implement.
type forceFlusher interface {
	ForceFlush(ctx context.Context) error
}

// NewHandlerFx builds the handler: it settles through the backend's SQS client (none in testing
// mode, whose in-memory queues are not the function's event source), and flushes Sentry and the
// OpenTelemetry providers (the graph's, else the global ones) before each invocation returns.
func NewHandlerFx(p HandlerParams) *Handler {
	opts := p.Options
	if opts.SQS == nil && p.Backend.Memory == nil {
		opts.SQS = p.Backend.SQS
	}
	if opts.Logger == nil {
		opts.Logger = p.Logger
	}
	if p.Reporter.Enabled() {
		r := p.Reporter
		opts.Flush = append(opts.Flush, func(ctx context.Context) error {
			if !r.Flush(ctx) {
				return errors.New("sentry: pending events not sent")
			}
			return nil
		})
	}
	var mp any = p.MeterProvider
	if p.MeterProvider == nil {
		mp = otel.GetMeterProvider()
	}
	var tp any = p.TracerProvider
	if p.TracerProvider == nil {
		tp = otel.GetTracerProvider()
	}
	for _, prov := range []any{mp, tp} {
		if f, ok := prov.(forceFlusher); ok {
			opts.Flush = append(opts.Flush, f.ForceFlush)
		}
	}
	return NewHandler(p.Decoder, p.Dispatcher, opts)
}
