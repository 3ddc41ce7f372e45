package fxsentry

import (
	"github.com/microcosm-go/pubsub/fxconfig"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// BeforeSendName is the name of the sentry_before_send component.
const BeforeSendName = "sentry_before_send"

// beforeSendTag is the component's name tag. Struct tags must be literals, so BeforeSendResult and
// ReporterParams spell it out too; a test keeps them equal.
const beforeSendTag = `name:"` + BeforeSendName + `"`

// Module wires Sentry reporting: [Config] (section sentry_logging_pubsub, or sentry_logging),
// the [BeforeSend] named sentry_before_send (also provided unnamed, following the named one) whose
// default is [StrictBeforeSend], and the *[Reporter], whose client is flushed and closed on stop.
// It needs *fxconfig.Settings (from [fxconfig.Module]) and reads the environment from the
// [fxconfig.Input] in the graph, if any.
//
// Nothing is built until something asks for the *Reporter, and with Sentry disabled the Reporter
// has no client at all. Replace sentry_before_send with [DecorateBeforeSend] at the app root.
var Module = fx.Module("sentry",
	fx.Provide(
		LoadConfigFx,
		NewBeforeSendFx,
		fx.Annotate(func(b BeforeSend) BeforeSend { return b }, fx.ParamTags(beforeSendTag)),
		NewReporterFx,
	),
)

// ConfigParams are the config loader's dependencies.
type ConfigParams struct {
	fx.In
	Settings *fxconfig.Settings
	// Input supplies the environment (Input.Environ; nil means the process environment).
	Input fxconfig.Input `optional:"true"`
}

// LoadConfigFx loads [Config] with [LoadConfig], reading the environment from p.Input.
func LoadConfigFx(p ConfigParams) (Config, error) {
	return LoadConfig(p.Settings, p.Input.Environ)
}

// BeforeSendResult provides the default before_send as sentry_before_send.
type BeforeSendResult struct {
	fx.Out
	BeforeSend BeforeSend `name:"sentry_before_send"`
}

// NewBeforeSendFx returns [StrictBeforeSend] keeping the opaque keys and tag names of cfg's tag
// mapping and its user-id key.
func NewBeforeSendFx(cfg Config) BeforeSendResult {
	return BeforeSendResult{BeforeSend: StrictBeforeSend(keepKeys(cfg)...)}
}

// ReporterParams are the reporter's dependencies.
type ReporterParams struct {
	fx.In
	Lifecycle  fx.Lifecycle
	Config     Config
	BeforeSend BeforeSend  `name:"sentry_before_send"`
	Logger     *zap.Logger `optional:"true"`
}

// NewReporterFx builds the [Reporter] with the sentry_before_send component; an enabled Reporter
// is closed (pending events flushed within the stop deadline) on stop.
func NewReporterFx(p ReporterParams) (*Reporter, error) {
	r, err := NewReporter(p.Config, Options{BeforeSend: p.BeforeSend, Logger: p.Logger})
	if err != nil {
		return nil, err
	}
	if r.Enabled() {
		p.Lifecycle.Append(fx.StopHook(r.Close))
	}
	return r, nil
}
