package fxconfig_test

import (
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/microcosm-go/pubsub/fxconfig"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestModule(t *testing.T) {
	var (
		s    *fxconfig.Settings
		meta fxconfig.Metadata
		log  *zap.Logger
	)
	fxtest.New(t,
		fxconfig.ForTesting("example", map[string]any{"logging.level": "debug", "sec.key": "v"}),
		fxconfig.Module,
		fx.Populate(&s, &meta, &log),
	).RequireStart().RequireStop()

	if want := (fxconfig.Metadata{Name: "example", Testing: true}); meta != want {
		t.Errorf("metadata = %+v, want %+v", meta, want)
	}
	if s.Get("sec.key") != "v" {
		t.Errorf("settings = %v", s.Get(""))
	}
	if !log.Core().Enabled(zap.DebugLevel) {
		t.Error("logger ignores logging.level")
	}
}

// The module's logger writes to Input.LogOutput when it is set, and syncs it on stop.
func TestModuleLogOutput(t *testing.T) {
	out := &syncBuffer{}
	var log *zap.Logger
	app := fxtest.New(t,
		fxconfig.WithInput(fxconfig.Input{Name: "example", Environ: []string{}, LogOutput: out}),
		fxconfig.Module,
		fx.Populate(&log),
	).RequireStart()
	log.Info("hello", zap.String("k", "v"))
	app.RequireStop()
	if got := out.String(); !strings.Contains(got, `"msg":"hello"`) || !strings.Contains(got, `"k":"v"`) {
		t.Errorf("LogOutput got %q, want the JSON line", got)
	}
	if out.syncs == 0 {
		t.Error("LogOutput was not synced on stop")
	}
}

type syncBuffer struct {
	strings.Builder
	syncs int
}

func (b *syncBuffer) Sync() error { b.syncs++; return nil }

func TestForTestingIgnoresProcessEnv(t *testing.T) {
	t.Setenv("FXCONFIGTEST__SEC__KEY", "from-process")
	var s *fxconfig.Settings
	fxtest.New(t, fxconfig.ForTesting("fxconfigtest", nil), fxconfig.Module, fx.Populate(&s)).
		RequireStart().RequireStop()
	if s.Exists("sec.key") {
		t.Errorf("process env leaked into ForTesting: %v", s.Get("sec.key"))
	}
}

func TestModuleErrorsStopStartup(t *testing.T) {
	tests := []struct {
		name string
		give fx.Option
		want string
	}{
		{name: "unknown flag", give: fxconfig.FromArgs("example", []string{"--nope"}), want: "parse flags: flag provided but not defined: -nope"},
		{name: "missing name", give: fxconfig.WithInput(fxconfig.Input{}), want: "load config: name is required"},
		{name: "bad level", give: fxconfig.ForTesting("example", map[string]any{"logging.level": "loud"}), want: `logging.level: must be one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fx.New(tt.give, fxconfig.Module, fx.Invoke(func(*zap.Logger) {}), fx.NopLogger)
			if err := app.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestModuleWithEventLogger(t *testing.T) {
	fxtest.New(t,
		fxconfig.ForTesting("example", nil),
		fxconfig.Module,
		fx.WithLogger(fxconfig.EventLogger),
	).RequireStart().RequireStop()
}
