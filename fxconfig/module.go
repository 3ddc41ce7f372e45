package fxconfig

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module loads configuration from the [Input] in the graph (see
// [WithInput], [FromArgs], [ForTesting]) and provides *[Settings],
// [Metadata] and the application *zap.Logger, which is synced on stop.
var Module = fx.Module("config",
	fx.Provide(
		Load,
		(*Settings).Metadata,
		provideLogger,
	),
)

func provideLogger(lc fx.Lifecycle, s *Settings) (*zap.Logger, error) {
	l, err := NewLogger(s)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(func(context.Context) error { return syncLogger(l) }))
	return l, nil
}
