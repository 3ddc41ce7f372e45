package fxconfig_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type layers struct {
	A string `koanf:"a"`
	B string `koanf:"b"`
	C string `koanf:"c"`
	D string `koanf:"d"`
	E string `koanf:"e"`
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "app.yaml", "sec:\n  b: file\n  c: file\n  d: file\n  e: file\n")
	s, err := fxconfig.Load(fxconfig.Input{
		Name:    "example",
		Args:    []string{"--config", file},
		Environ: []string{"EXAMPLE__SEC__D=env", "EXAMPLE__SEC__E=env"},
		Values:  map[string]any{"sec": map[string]any{"c": "values", "d": "values", "e": "values"}},
		Flags:   map[string]any{"sec.e": "flags"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := layers{A: "default", B: "default", C: "default", D: "default", E: "default"}
	if err := s.Unmarshal("sec", &got); err != nil {
		t.Fatal(err)
	}
	want := layers{A: "default", B: "file", C: "values", D: "env", E: "flags"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLoadSources(t *testing.T) {
	jsonFile := writeFile(t, "app.json", `{"sec": {"a": "json", "m": {"x": "1", "y": "1"}}, "list": [1, 2]}`)
	yamlFile := writeFile(t, "app.yml", "sec:\n  b: yaml\n  m:\n    y: '2'\nlist: [3]\n")
	mediaFile := writeFile(t, "media.yaml", "sns_topic_arns:\n  mappings:\n    application/vnd.globality.pubsub._.created.foo: arn\n")

	tests := []struct {
		name string
		give fxconfig.Input
		key  string
		want any
	}{
		{
			name: "json via --config",
			give: fxconfig.Input{Name: "example", Args: []string{"--config", jsonFile}, Environ: []string{}},
			key:  "sec.a", want: "json",
		},
		{
			name: "yaml via -config=",
			give: fxconfig.Input{Name: "example", Args: []string{"-config=" + yamlFile}, Environ: []string{}},
			key:  "sec.b", want: "yaml",
		},
		{
			name: "json via NAME__SETTINGS",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__SETTINGS=" + jsonFile}},
			key:  "sec.a", want: "json",
		},
		{
			name: "yaml via NAME__SETTINGS with dashed name",
			give: fxconfig.Input{Name: "my-app", Environ: []string{"MY_APP__SETTINGS=" + yamlFile}},
			key:  "sec.b", want: "yaml",
		},
		{
			name: "SETTINGS is not a setting",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__SETTINGS=" + jsonFile}},
			key:  "settings", want: nil,
		},
		{
			name: "--config beats NAME__SETTINGS",
			give: fxconfig.Input{Name: "example", Args: []string{"--config", yamlFile}, Environ: []string{"EXAMPLE__SETTINGS=" + jsonFile}},
			key:  "sec.a", want: nil,
		},
		{
			name: "files merge maps key by key in order",
			give: fxconfig.Input{Name: "example", Args: []string{"--config", jsonFile, "--config", yamlFile}, Environ: []string{}},
			key:  "sec", want: map[string]any{"a": "json", "b": "yaml", "m": map[string]any{"x": "1", "y": "2"}},
		},
		{
			name: "lists replace",
			give: fxconfig.Input{Name: "example", Args: []string{"--config", jsonFile, "--config", yamlFile}, Environ: []string{}},
			key:  "list", want: []any{3},
		},
		{
			name: "dots inside file keys stay one key",
			give: fxconfig.Input{Name: "example", Files: []string{mediaFile}, Environ: []string{}},
			key:  "sns_topic_arns.mappings", want: map[string]any{"application/vnd.globality.pubsub._.created.foo": "arn"},
		},
		{
			name: "env nested",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__SNS_TOPIC_ARNS__CREATED__FOO__BAR=arn"}},
			key:  "sns_topic_arns", want: map[string]any{"created": map[string]any{"foo": map[string]any{"bar": "arn"}}},
		},
		{
			name: "env brief example",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__SNS_TOPIC_ARNS__CREATED__FOO__BAR_BAZ=arn"}},
			key:  "sns_topic_arns.created.foo.bar_baz", want: "arn",
		},
		{
			name: "env dashed name",
			give: fxconfig.Input{Name: "my-app", Environ: []string{"MY_APP__SQS_CONSUMER__LIMIT=5"}},
			key:  "sqs_consumer.limit", want: "5",
		},
		{
			name: "env other prefix ignored",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE2__A__B=x", "EXAMPLE_A__B=x", "OTHER__A__B=x"}},
			key:  "a", want: nil,
		},
		{
			name: "env empty part ignored",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__A____B=x"}},
			key:  "a", want: nil,
		},
		{
			name: "env value with equals sign",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__A__B=x=y"}},
			key:  "a.b", want: "x=y",
		},
		{
			name: "values dotted keys",
			give: fxconfig.Input{Name: "example", Environ: []string{}, Values: map[string]any{"a.b.c": 1, "a": map[string]any{"d": 2}}},
			key:  "a", want: map[string]any{"b": map[string]any{"c": 1}, "d": 2},
		},
		{
			name: "values typed maps normalised",
			give: fxconfig.Input{Name: "example", Environ: []string{}, Values: map[string]any{"a": map[string]string{"x": "1"}}},
			key:  "a.x", want: "1",
		},
		{
			name: "--set",
			give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__A__B=env"}, Args: []string{"--set", "a.b=flag", "--set=a.c=x=y"}},
			key:  "a", want: map[string]any{"b": "flag", "c": "x=y"},
		},
		{
			name: "name defaults to input",
			give: fxconfig.Input{Name: "example", Environ: []string{}},
			key:  "name", want: "example",
		},
		{
			name: "absent",
			give: fxconfig.Input{Name: "example", Environ: []string{}},
			key:  "nope.nope", want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fxconfig.Load(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Get(tt.key)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Get(%q) = %#v, want %#v", tt.key, got, tt.want)
			}
			if exists := s.Exists(tt.key); exists != (tt.want != nil) {
				t.Errorf("Exists(%q) = %v", tt.key, exists)
			}
		})
	}
}

func TestLoadUsesProcessEnvironWhenNil(t *testing.T) {
	t.Setenv("FXCONFIGTEST__SEC__KEY", "from-process")
	s, err := fxconfig.Load(fxconfig.Input{Name: "fxconfigtest"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Get("sec.key"); got != "from-process" {
		t.Errorf("got %v", got)
	}
}

func TestLoadDoesNotMutateInput(t *testing.T) {
	in := fxconfig.Input{Name: "example", Environ: []string{}, Args: []string{"--debug", "--set", "a=b"}, Flags: map[string]any{"x": "y"}}
	if _, err := fxconfig.Load(in); err != nil {
		t.Fatal(err)
	}
	if len(in.Flags) != 1 {
		t.Errorf("flags mutated: %v", in.Flags)
	}
}

func TestLoadErrors(t *testing.T) {
	bad := writeFile(t, "bad.json", `{"a": `)
	txt := writeFile(t, "app.txt", `a: b`)
	tests := []struct {
		name string
		give fxconfig.Input
		want string
	}{
		{name: "missing name", give: fxconfig.Input{}, want: "load config: name is required"},
		{name: "unknown flag", give: fxconfig.Input{Name: "example", Args: []string{"--nope"}}, want: "parse flags: flag provided but not defined: -nope"},
		{name: "positional argument", give: fxconfig.Input{Name: "example", Args: []string{"extra"}}, want: `parse flags: unexpected argument "extra"`},
		{name: "bad --set", give: fxconfig.Input{Name: "example", Args: []string{"--set", "novalue"}}, want: `parse flags: invalid value "novalue" for flag -set: want key=value, got "novalue"`},
		{name: "bad --debug", give: fxconfig.Input{Name: "example", Args: []string{"--debug=maybe"}}, want: `parse flags: invalid boolean value "maybe" for -debug: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{name: "missing file", give: fxconfig.Input{Name: "example", Environ: []string{}, Files: []string{"/nonexistent/app.json"}}, want: `load config file "/nonexistent/app.json": open /nonexistent/app.json: no such file or directory`},
		{name: "unsupported extension", give: fxconfig.Input{Name: "example", Environ: []string{}, Files: []string{txt}}, want: `load config file "` + txt + `": unsupported extension (want .json, .yaml or .yml)`},
		{name: "bad debug value", give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__DEBUG=maybe"}}, want: `load config: debug: cannot convert "maybe" to bool`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fxconfig.Load(tt.give)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got error %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("malformed json", func(t *testing.T) {
		_, err := fxconfig.Load(fxconfig.Input{Name: "example", Environ: []string{}, Files: []string{bad}})
		if err == nil {
			t.Fatal("want error")
		}
	})
}

func TestMetadata(t *testing.T) {
	testingFile := writeFile(t, "t.yaml", "testing: true\n")
	tests := []struct {
		name string
		give fxconfig.Input
		want fxconfig.Metadata
	}{
		{name: "plain", give: fxconfig.Input{Name: "example", Environ: []string{}}, want: fxconfig.Metadata{Name: "example"}},
		{name: "flags", give: fxconfig.Input{Name: "example", Environ: []string{}, Args: []string{"--debug", "--testing"}}, want: fxconfig.Metadata{Name: "example", Debug: true, Testing: true}},
		{name: "file", give: fxconfig.Input{Name: "example", Environ: []string{}, Files: []string{testingFile}}, want: fxconfig.Metadata{Name: "example", Testing: true}},
		{name: "env string", give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__DEBUG=yes"}}, want: fxconfig.Metadata{Name: "example", Debug: true}},
		{name: "flag beats env", give: fxconfig.Input{Name: "example", Environ: []string{"EXAMPLE__DEBUG=true"}, Args: []string{"--debug=false"}}, want: fxconfig.Metadata{Name: "example"}},
		{name: "values", give: fxconfig.Input{Name: "example", Environ: []string{}, Values: map[string]any{"debug": "on"}}, want: fxconfig.Metadata{Name: "example", Debug: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fxconfig.Load(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Metadata(); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
