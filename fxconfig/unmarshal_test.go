package fxconfig_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
)

// settings loads from env pairs and programmatic values only.
func settings(t *testing.T, environ []string, values map[string]any) *fxconfig.Settings {
	t.Helper()
	if environ == nil {
		environ = []string{}
	}
	s, err := fxconfig.Load(fxconfig.Input{Name: "example", Environ: environ, Values: values})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type inner struct {
	Host string `koanf:"host"`
	Port int    `koanf:"port"`
}

type Embedded struct {
	Shared string `koanf:"shared"`
}

type kinds struct {
	Embedded
	Str      string            `koanf:"str"`
	Bool     bool              `koanf:"bool"`
	Int      int               `koanf:"int"`
	Int8     int8              `koanf:"int8"`
	Uint     uint              `koanf:"uint"`
	Float    float64           `koanf:"float"`
	Dur      time.Duration     `koanf:"dur"`
	List     []string          `koanf:"list"`
	Ints     []int             `koanf:"ints"`
	StrMap   map[string]string `koanf:"str_map"`
	AnyMap   map[string]any    `koanf:"any_map"`
	Any      any               `koanf:"any"`
	PtrInt   *int              `koanf:"ptr_int"`
	PtrStr   *string           `koanf:"ptr_str"`
	Inner    inner             `koanf:"inner"`
	PtrInner *inner            `koanf:"ptr_inner"`
	Addr     netip.Addr        `koanf:"addr"`
	SQSQueue string            // snake_case fallback: sqs_queue
	Skipped  string            `koanf:"-"`
}

func defaults() kinds {
	return kinds{
		Str:    "default",
		Int:    7,
		Dur:    time.Second,
		List:   []string{"a"},
		StrMap: map[string]string{"keep": "k", "over": "o"},
		Inner:  inner{Host: "localhost", Port: 80},
	}
}

func intPtr(i int) *int       { return &i }
func strPtr(s string) *string { return &s }

func TestUnmarshalConversions(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		values  map[string]any
		want    func(*kinds)
	}{
		{name: "absent keeps defaults", want: func(*kinds) {}},
		{name: "string", environ: []string{"EXAMPLE__SEC__STR=x"}, want: func(k *kinds) { k.Str = "x" }},
		{name: "number into string", values: map[string]any{"sec.str": 1.5}, want: func(k *kinds) { k.Str = "1.5" }},
		{name: "bool true", environ: []string{"EXAMPLE__SEC__BOOL=true"}, want: func(k *kinds) { k.Bool = true }},
		{name: "bool YES", environ: []string{"EXAMPLE__SEC__BOOL=YES"}, want: func(k *kinds) { k.Bool = true }},
		{name: "bool on", environ: []string{"EXAMPLE__SEC__BOOL=on"}, want: func(k *kinds) { k.Bool = true }},
		{name: "bool 1", environ: []string{"EXAMPLE__SEC__BOOL=1"}, want: func(k *kinds) { k.Bool = true }},
		{name: "bool false", values: map[string]any{"sec.bool": true}, environ: []string{"EXAMPLE__SEC__BOOL=false"}, want: func(*kinds) {}},
		{name: "bool Off", values: map[string]any{"sec.bool": true}, environ: []string{"EXAMPLE__SEC__BOOL=Off"}, want: func(*kinds) {}},
		{name: "bool no", values: map[string]any{"sec.bool": true}, environ: []string{"EXAMPLE__SEC__BOOL=no"}, want: func(*kinds) {}},
		{name: "bool 0", values: map[string]any{"sec.bool": true}, environ: []string{"EXAMPLE__SEC__BOOL=0"}, want: func(*kinds) {}},
		{name: "bool empty", values: map[string]any{"sec.bool": true}, environ: []string{"EXAMPLE__SEC__BOOL="}, want: func(*kinds) {}},
		{name: "int", environ: []string{"EXAMPLE__SEC__INT=10"}, want: func(k *kinds) { k.Int = 10 }},
		{name: "int from json float", values: map[string]any{"sec.int": float64(12)}, want: func(k *kinds) { k.Int = 12 }},
		{name: "int8", environ: []string{"EXAMPLE__SEC__INT8=-8"}, want: func(k *kinds) { k.Int8 = -8 }},
		{name: "uint", environ: []string{"EXAMPLE__SEC__UINT= 3 "}, want: func(k *kinds) { k.Uint = 3 }},
		{name: "float", environ: []string{"EXAMPLE__SEC__FLOAT=0.5"}, want: func(k *kinds) { k.Float = 0.5 }},
		{name: "duration string", environ: []string{"EXAMPLE__SEC__DUR=30s"}, want: func(k *kinds) { k.Dur = 30 * time.Second }},
		{name: "duration compound", environ: []string{"EXAMPLE__SEC__DUR=1m30s"}, want: func(k *kinds) { k.Dur = 90 * time.Second }},
		{name: "duration bare seconds", environ: []string{"EXAMPLE__SEC__DUR=10"}, want: func(k *kinds) { k.Dur = 10 * time.Second }},
		{name: "duration fractional seconds", environ: []string{"EXAMPLE__SEC__DUR=0.5"}, want: func(k *kinds) { k.Dur = 500 * time.Millisecond }},
		{name: "duration number", values: map[string]any{"sec.dur": 3}, want: func(k *kinds) { k.Dur = 3 * time.Second }},
		{name: "duration typed", values: map[string]any{"sec.dur": time.Minute}, want: func(k *kinds) { k.Dur = time.Minute }},
		{name: "list comma string", environ: []string{"EXAMPLE__SEC__LIST=x, y,,z"}, want: func(k *kinds) { k.List = []string{"x", "y", "z"} }},
		{name: "list empty string", environ: []string{"EXAMPLE__SEC__LIST="}, want: func(k *kinds) { k.List = []string{} }},
		{name: "list", values: map[string]any{"sec.list": []any{"p", 2}}, want: func(k *kinds) { k.List = []string{"p", "2"} }},
		{name: "typed list", values: map[string]any{"sec.list": []string{"q"}}, want: func(k *kinds) { k.List = []string{"q"} }},
		{name: "int list from string", environ: []string{"EXAMPLE__SEC__INTS=1,2"}, want: func(k *kinds) { k.Ints = []int{1, 2} }},
		{name: "string map merges over default", environ: []string{"EXAMPLE__SEC__STR_MAP__OVER=new", "EXAMPLE__SEC__STR_MAP__ADD=a"}, want: func(k *kinds) {
			k.StrMap = map[string]string{"keep": "k", "over": "new", "add": "a"}
		}},
		{name: "any map", environ: []string{"EXAMPLE__SEC__ANY_MAP__X__Y=z"}, want: func(k *kinds) {
			k.AnyMap = map[string]any{"x": map[string]any{"y": "z"}}
		}},
		{name: "any", values: map[string]any{"sec.any": []any{1}}, want: func(k *kinds) { k.Any = []any{1} }},
		{name: "pointer set", environ: []string{"EXAMPLE__SEC__PTR_INT=0", "EXAMPLE__SEC__PTR_STR="}, want: func(k *kinds) {
			k.PtrInt, k.PtrStr = intPtr(0), strPtr("")
		}},
		{name: "nested struct", environ: []string{"EXAMPLE__SEC__INNER__PORT=8080"}, want: func(k *kinds) { k.Inner.Port = 8080 }},
		{name: "pointer struct", environ: []string{"EXAMPLE__SEC__PTR_INNER__HOST=h"}, want: func(k *kinds) { k.PtrInner = &inner{Host: "h"} }},
		{name: "embedded squashed", environ: []string{"EXAMPLE__SEC__SHARED=s"}, want: func(k *kinds) { k.Shared = "s" }},
		{name: "text unmarshaler", environ: []string{"EXAMPLE__SEC__ADDR=10.0.0.1"}, want: func(k *kinds) { k.Addr = netip.MustParseAddr("10.0.0.1") }},
		{name: "snake case fallback", environ: []string{"EXAMPLE__SEC__SQS_QUEUE=q"}, want: func(k *kinds) { k.SQSQueue = "q" }},
		{name: "skipped field", environ: []string{"EXAMPLE__SEC__SKIPPED=x"}, want: func(*kinds) {}},
		{name: "unknown keys ignored", environ: []string{"EXAMPLE__SEC__NOPE=x"}, want: func(*kinds) {}},
		{name: "null keeps default", values: map[string]any{"sec.str": nil}, want: func(*kinds) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaults()
			if err := settings(t, tt.environ, tt.values).Unmarshal("sec", &got); err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestUnmarshalNullClearsPointer(t *testing.T) {
	got := kinds{PtrInt: intPtr(3)}
	if err := settings(t, nil, map[string]any{"sec.ptr_int": nil}).Unmarshal("sec", &got); err != nil {
		t.Fatal(err)
	}
	if got.PtrInt != nil {
		t.Errorf("got %v, want nil", *got.PtrInt)
	}
}

func TestUnmarshalRootAndNestedSection(t *testing.T) {
	s := settings(t, []string{"EXAMPLE__A__B__HOST=h", "EXAMPLE__TOP=t"}, nil)
	var sub inner
	if err := s.Unmarshal("a.b", &sub); err != nil {
		t.Fatal(err)
	}
	if sub.Host != "h" {
		t.Errorf("got %+v", sub)
	}
	var root struct {
		Top  string `koanf:"top"`
		Name string `koanf:"name"`
	}
	if err := s.Unmarshal("", &root); err != nil {
		t.Fatal(err)
	}
	if root.Top != "t" || root.Name != "example" {
		t.Errorf("got %+v", root)
	}
}

func TestUnmarshalDoesNotShareState(t *testing.T) {
	s := settings(t, nil, map[string]any{"sec.any_map": map[string]any{"x": "1"}})
	var a kinds
	if err := s.Unmarshal("sec", &a); err != nil {
		t.Fatal(err)
	}
	a.AnyMap["x"] = "changed"
	var b kinds
	if err := s.Unmarshal("sec", &b); err != nil {
		t.Fatal(err)
	}
	if b.AnyMap["x"] != "1" {
		t.Errorf("settings mutated through unmarshalled map: %v", b.AnyMap)
	}
}

func TestUnmarshalBadDestination(t *testing.T) {
	s := settings(t, nil, nil)
	var notStruct int
	for _, dst := range []any{nil, kinds{}, &notStruct, (*kinds)(nil)} {
		err := s.Unmarshal("sec", dst)
		if err == nil || !strings.HasPrefix(err.Error(), `unmarshal "sec": dst must be a non-nil pointer to a struct`) {
			t.Errorf("Unmarshal(%T) error = %v", dst, err)
		}
	}
}

type validated struct {
	Limit int           `koanf:"limit" validate:"min=1,max=10"`
	Wait  time.Duration `koanf:"wait_time" validate:"gte=0"`
	Inner struct {
		Tags []string `koanf:"tags" validate:"max=2,dive,required"`
	} `koanf:"inner"`
}

// Validate names the full key of every failing field of a struct built in code, and leaves the
// struct as it was.
func TestValidate(t *testing.T) {
	v := validated{Limit: 11, Wait: -time.Second}
	v.Inner.Tags = []string{"a", ""}
	err := fxconfig.Validate("sqs_consumer", &v)
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fe, ok := e.(*fxconfig.FieldError)
		if !ok {
			t.Fatalf("%T %v, want *FieldError", e, e)
		}
		got = append(got, fe.Key)
	}
	if want := "sqs_consumer.limit sqs_consumer.wait_time sqs_consumer.inner.tags.1"; strings.Join(got, " ") != want {
		t.Errorf("keys %q, want %q (error: %v)", strings.Join(got, " "), want, err)
	}
	if !strings.Contains(err.Error(), `sqs_consumer.limit: must be between 1 and 10, got "11"`) {
		t.Errorf("error = %v", err)
	}
	if v.Limit != 11 || v.Inner.Tags[1] != "" {
		t.Errorf("Validate changed its argument: %+v", v)
	}
	if err := fxconfig.Validate("sqs_consumer", validated{Limit: 3}); err != nil {
		t.Errorf("valid struct: %v", err)
	}
	if err := fxconfig.Validate("x", 3); err == nil || !strings.Contains(err.Error(), "want a struct") {
		t.Errorf("non-struct: %v", err)
	}
}
