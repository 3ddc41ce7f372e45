package fxconfig

import (
	"context"
	"os"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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

func provideLogger(lc fx.Lifecycle, in Input, s *Settings) (*zap.Logger, error) {
	out := in.LogOutput
	if out == nil {
		out = zapcore.Lock(os.Stderr)
	}
	l, err := newLogger(s, out)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(func(context.Context) error { return syncLogger(l) }))
	return l, nil
}
