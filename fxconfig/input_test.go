package fxconfig_test

import (
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/microcosm-go/pubsub/fxconfig"
)

func TestInputOptions(t *testing.T) {
	file := writeFile(t, "app.yaml", "sec:\n  key: file\n")
	tests := []struct {
		name string
		give fx.Option
		want fxconfig.Input
	}{
		{
			name: "WithInput",
			give: fxconfig.WithInput(fxconfig.Input{Name: "a", Files: []string{file}}),
			want: fxconfig.Input{Name: "a", Files: []string{file}},
		},
		{
			name: "FromArgs",
			give: fxconfig.FromArgs("a", []string{"--config", file}),
			want: fxconfig.Input{Name: "a", Args: []string{"--config", file}},
		},
		{
			name: "ForTesting",
			give: fxconfig.ForTesting("a", map[string]any{"k": 1}),
			want: fxconfig.Input{Name: "a", Environ: []string{}, Values: map[string]any{"k": 1}, Flags: map[string]any{"testing": true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got fxconfig.Input
			fxtest.New(t, tt.give, fx.Populate(&got)).RequireStart().RequireStop()
			if got.Name != tt.want.Name || len(got.Args) != len(tt.want.Args) || len(got.Files) != len(tt.want.Files) ||
				(got.Environ == nil) != (tt.want.Environ == nil) || len(got.Values) != len(tt.want.Values) ||
				got.Flags["testing"] != tt.want.Flags["testing"] {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
