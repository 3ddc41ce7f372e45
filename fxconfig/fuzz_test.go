package fxconfig_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
)

// describe renders t for comparison: %#v (so NaN equals NaN) with the pointer fields shown by
// their values, not their addresses.
func (t fuzzTarget) describe() string {
	p, pin := "nil", "nil"
	if t.P != nil {
		p = fmt.Sprint(*t.P)
	}
	if t.PIn != nil {
		pin = fmt.Sprintf("%#v", *t.PIn)
	}
	t.P, t.PIn = nil, nil
	return fmt.Sprintf("%#v P=%s PIn=%s", t, p, pin)
}

// fuzzTarget has a field of every kind Unmarshal converts to.
type fuzzTarget struct {
	S            string            `koanf:"s"`
	B            bool              `koanf:"b"`
	I            int               `koanf:"i" validate:"min=0,max=100"`
	I8           int8              `koanf:"i8"`
	U            uint16            `koanf:"u"`
	F            float64           `koanf:"f" validate:"gte=0,lte=1"`
	F32          float32           `koanf:"f32"`
	D            time.Duration     `koanf:"d" validate:"gte=0"`
	P            *int              `koanf:"p" validate:"omitempty,min=1"`
	L            []string          `koanf:"l" validate:"max=5,dive,required"`
	LI           []int             `koanf:"li"`
	M            map[string]string `koanf:"m"`
	MD           map[string]time.Duration
	A            any         `koanf:"a"`
	IP           net.IP      `koanf:"ip"`
	T            textValue   `koanf:"t"`
	URL          string      `koanf:"url" validate:"omitempty,url"`
	One          string      `koanf:"one" validate:"omitempty,oneof=x y"`
	Inner        fuzzInner   `koanf:"inner"`
	PIn          *fuzzInner  `koanf:"pin"`
	Skip         string      `koanf:"-"`
	fuzzEmbedded             // squashed
	Bad          chan int    `koanf:"bad"`
	Deep         []fuzzInner `koanf:"deep" validate:"dive"`
}

type fuzzInner struct {
	N    int               `koanf:"n" validate:"gte=0"`
	Tags map[string]string `koanf:"tags"`
}

type fuzzEmbedded struct {
	E string `koanf:"e"`
}

type textValue struct{ v string }

var _ encoding.TextUnmarshaler = (*textValue)(nil)

func (t *textValue) UnmarshalText(b []byte) error {
	if strings.Contains(string(b), "!") {
		return errors.New("no bangs")
	}
	t.v = string(b)
	return nil
}

// FuzzLoad fuzzes Load and Unmarshal with environment variables, programmatic values and flags:
// no panics; every error a *FieldError naming a key (or a load error); the result independent of
// the order of the environment; and Unmarshal deterministic.
func FuzzLoad(f *testing.F) {
	for _, s := range [][3]string{
		{"SEC__S=x\nSEC__I=7\nSEC__L=a,b,,c\nSEC__D=1s", `{}`, ""},
		{"SEC__I=1e3\nSEC__I8=300\nSEC__U=-1\nSEC__F=NaN\nSEC__F32=1e300", `{"sec":{"b":"maybe"}}`, "--debug"},
		{"SEC__P=null\nSEC__INNER__N=-1\nSEC__INNER=5", `{"sec.inner.tags":{"A":1}}`, "--set\x00sec.m.k=v"},
		{"SEC__A__B__C=1\nSEC__a=2\nSEC__A=3", `{"sec":{"l":[1,{"x":1}],"li":"1,2,x"}}`, "--testing"},
		{"SEC__IP=300.1.1.1\nSEC__T=a!\nSEC__BAD=1\nSEC__D=-5m", `{"sec":{"md":{"x":"1h","y":[1]}}}`, ""},
		{"SEC__DEEP=1\nSEC____X=1\nSETTINGS=/nonexistent", `{"sec":{"deep":[{"n":-1},{"tags":[1]}],"pin":{"n":"x"}}}`, "--set\x00=\x00--set\x00a"},
		{"", `{"sec":{"one":"z","url":"not a url","e":["x"],"skip":"s"}}`, "stray"},
		{"SEC__I=99999999999999999999999\nSEC__F=1e309", `{"name":5,"debug":"x"}`, ""},
	} {
		f.Add(s[0], []byte(s[1]), s[2])
	}
	f.Fuzz(func(t *testing.T, env string, values []byte, args string) {
		var vals map[string]any
		if json.Unmarshal(values, &vals) != nil {
			vals = nil
		}
		var argv []string
		if args != "" {
			for _, a := range strings.Split(args, "\x00") {
				if strings.Contains(a, "config") {
					return // --config reads files; not fuzzed here
				}
				argv = append(argv, a)
			}
		}
		// Environment variable names are unique (the last of duplicates wins, as in a shell).
		seen := map[string]int{}
		var environ []string
		for line := range strings.SplitSeq(env, "\n") {
			kv := "FZ__" + line
			name, _, _ := strings.Cut(kv, "=")
			if i, dup := seen[name]; dup {
				environ[i] = kv
				continue
			}
			seen[name] = len(environ)
			environ = append(environ, kv)
		}
		in := fxconfig.Input{Name: "fz", Environ: environ, Values: vals, Args: argv}
		s, err := fxconfig.Load(in)
		if err != nil {
			return
		}
		rev := slices.Clone(environ)
		slices.Reverse(rev)
		in.Environ = rev
		s2, err := fxconfig.Load(in)
		if err != nil {
			t.Fatalf("Load fails with the environment reversed: %v", err)
		}
		if !reflect.DeepEqual(s.Get(""), s2.Get("")) {
			t.Fatalf("Load depends on the order of the environment %q:\n%v\n%v", environ, s.Get(""), s2.Get(""))
		}
		var a, b fuzzTarget
		errA := s.Unmarshal("sec", &a)
		errB := s2.Unmarshal("sec", &b)
		if fmt.Sprint(errA) != fmt.Sprint(errB) || a.describe() != b.describe() {
			t.Fatalf("Unmarshal is not deterministic:\n%v\n%v", errA, errB)
		}
		if errA == nil {
			return
		}
		var leaves []error
		var walk func(error)
		walk = func(e error) {
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, x := range j.Unwrap() {
					walk(x)
				}
				return
			}
			leaves = append(leaves, e)
		}
		walk(errA)
		for _, e := range leaves {
			var fe *fxconfig.FieldError
			if !errors.As(e, &fe) || fe.Key == "" || !strings.HasPrefix(fe.Key, "sec") {
				t.Fatalf("error %q (%T) does not name a key of the section", e, e)
			}
		}
	})
}
