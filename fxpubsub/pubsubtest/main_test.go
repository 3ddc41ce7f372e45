package pubsubtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/microcosm-go/pubsub/internal/awstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }

// fakeTB records what an assertion reports instead of failing the real test. Fatalf records and
// returns (it does not stop the goroutine), so helpers must return after calling it.
type fakeTB struct {
	testing.TB // nil: calling anything not overridden panics, so an unexpected call is noticed

	log *testing.T // where Logf goes, if set

	mu       sync.Mutex
	errors   []string
	fatals   []string
	logged   []string
	cleanups []func()
}

// newFakeTB returns a fake that also serves fxtest (Logf, Cleanup); run fake.cleanup() yourself.
func newFakeTB(t *testing.T) *fakeTB { return &fakeTB{log: t} }

func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	f.logged = append(f.logged, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	if f.log != nil {
		f.log.Logf(format, args...)
	}
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// cleanup runs the registered cleanups, last first.
func (f *fakeTB) cleanup() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func (f *fakeTB) FailNow() { f.Fatalf("FailNow") }

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func (f *fakeTB) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors)+len(f.fatals) > 0
}

// report returns everything reported, one entry per line.
func (f *fakeTB) report() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(append(append([]string{}, f.errors...), f.fatals...), "\n")
}

// requireFailure checks that fake failed with a report containing every want.
func requireFailure(t *testing.T, fake *fakeTB, want ...string) {
	t.Helper()
	if !fake.failed() {
		t.Fatal("assertion passed, want it to fail")
	}
	got := fake.report()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("failure report lacks %q:\n%s", w, got)
		}
	}
}

func requireNoFailure(t *testing.T, fake *fakeTB) {
	t.Helper()
	if fake.failed() {
		t.Fatalf("assertion failed, want it to pass:\n%s", fake.report())
	}
}
