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
// [Metadata] and the application *zap.Logger, which is synced on stop. When the
// app starts it logs a warning for each key that a source sets and nothing
// read ([Settings.KeyWarnings]), or, with strict_config (--strict-config),
// fails the start with a [*KeysError].
var Module = fx.Module("config",
	fx.Provide(
		Load,
		(*Settings).Metadata,
		NewLoggerFx,
	),
	fx.Invoke(checkKeysFx),
)

// LoggerParams are what [NewLoggerFx] takes from the graph.
type LoggerParams struct {
	fx.In

	Lifecycle fx.Lifecycle
	Input     Input
	Settings  *Settings
}

// NewLoggerFx is the module's logger constructor: [NewLogger]'s logger, writing to
// Input.LogOutput when it is set, synced when the app stops.
func NewLoggerFx(p LoggerParams) (*zap.Logger, error) {
	out := p.Input.LogOutput
	if out == nil {
		out = zapcore.Lock(os.Stderr)
	}
	l, err := NewLoggerTo(p.Settings, out)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StopHook(func(context.Context) error { return syncLogger(l) }))
	return l, nil
}
