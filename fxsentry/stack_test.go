package fxsentry

import (
	"runtime/debug"
	"strings"
	"testing"
)

type thing struct{}

//go:noinline
func (*thing) fail() { panic("boom") }

//go:noinline
func callFail() { new(thing).fail() }

func recovered() (stack []byte) {
	defer func() {
		if recover() != nil {
			stack = debug.Stack()
		}
	}()
	callFail()
	return nil
}

func TestParseStack(t *testing.T) {
	st := parseStack(recovered())
	if st == nil {
		t.Fatal("no frames")
	}
	n := len(st.Frames)
	top, below := st.Frames[n-1], st.Frames[n-2]
	if top.Module != "github.com/microcosm-go/pubsub/fxsentry" || top.Function != "(*thing).fail" || top.Lineno == 0 ||
		!strings.HasSuffix(top.AbsPath, "/fxsentry/stack_test.go") || !top.InApp {
		t.Errorf("newest frame = %+v", top)
	}
	if below.Function != "callFail" {
		t.Errorf("caller frame = %+v", below)
	}
	for _, f := range st.Frames {
		if f.Module == "runtime" || f.Module == "runtime/debug" || f.Module == "testing" || f.Function == "recovered.func1" {
			t.Errorf("machinery frame kept: %+v", f)
		}
	}
}

func TestParseStackGoroutineCreation(t *testing.T) {
	stack := "goroutine 9 [running]:\nexample.com/app.work(0x1)\n\t/src/app/work.go:12 +0x1d\ncreated by example.com/app.start in goroutine 1\n\t/src/app/start.go:5 +0x4b\n"
	st := parseStack([]byte(stack))
	if st == nil || len(st.Frames) != 2 || st.Frames[0].Function != "start" || st.Frames[0].Lineno != 5 ||
		st.Frames[1].Module != "example.com/app" || st.Frames[1].Function != "work" || st.Frames[1].AbsPath != "/src/app/work.go" {
		t.Fatalf("frames = %+v", st)
	}
}

func TestParseStackGarbage(t *testing.T) {
	for _, give := range []string{"", "goroutine 1 [running]:\n", "panic(0x1)\n\t/x.go:1\n", "\t\t\n(((", "main.f(\n", "main.f()\n\tnowhere\n"} {
		if st := parseStack([]byte(give)); st != nil {
			t.Errorf("%q: got %+v", give, st)
		}
	}
}
