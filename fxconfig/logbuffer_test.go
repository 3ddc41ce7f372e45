package fxconfig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
)

// recordingOutput is a log output that keeps what is written, counts writes and syncs, and
// signals every write on a channel.
type recordingOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
	syncs   int
	written chan struct{}
	fail    error // returned by Write when set
}

func newRecordingOutput() *recordingOutput {
	return &recordingOutput{written: make(chan struct{}, 1000)}
}

func (o *recordingOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return 0, o.fail
	}
	o.writes++
	o.buf.Write(p)
	select {
	case o.written <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *recordingOutput) Sync() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.syncs++
	return nil
}

func (o *recordingOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *recordingOutput) counts() (writes, syncs int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.writes, o.syncs
}

// bufferedLogger is the JSON logger with logging.flush_interval set to interval, writing to a new
// recordingOutput.
func bufferedLogger(t *testing.T, interval string) (*zap.Logger, *recordingOutput) {
	t.Helper()
	out := newRecordingOutput()
	l, err := NewLoggerTo(loadForLogger(t, []string{"EXAMPLE__LOGGING__FLUSH_INTERVAL=" + interval}), out)
	if err != nil {
		t.Fatal(err)
	}
	return l, out
}

// A line waits in the buffer: nothing is written before the interval (a minute here) or Sync.
func TestLoggerBuffersLines(t *testing.T) {
	l, out := bufferedLogger(t, "1m")
	l.Info("first")
	l.Info("second")
	if got := out.String(); got != "" {
		t.Fatalf("written before the interval: %q", got)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "\n") != 2 || strings.Index(got, `"first"`) > strings.Index(got, `"second"`) {
		t.Errorf("after Sync got %q, want both lines in order", got)
	}
	if writes, syncs := out.counts(); writes != 1 || syncs != 1 {
		t.Errorf("writes %d, syncs %d; want one write of both lines and one sync", writes, syncs)
	}
}

// Without Sync, a line reaches the output once the flush interval has passed.
func TestLoggerWritesWithinInterval(t *testing.T) {
	l, out := bufferedLogger(t, "10ms")
	l.Info("hello")
	select {
	case <-out.written:
	case <-time.After(10 * time.Second):
		t.Fatal("the line was not written after the flush interval")
	}
	if got := out.String(); !strings.Contains(got, `"msg":"hello"`) {
		t.Errorf("got %q", got)
	}
	l.Info("again") // the timer is armed again by the next line
	select {
	case <-out.written:
	case <-time.After(10 * time.Second):
		t.Fatal("the second line was not written after the flush interval")
	}
	if got := out.String(); !strings.Contains(got, `"msg":"again"`) {
		t.Errorf("got %q", got)
	}
}

// A warn or error line is written at once, with the lines held before it.
func TestLoggerWarnWritesAtOnce(t *testing.T) {
	for _, level := range []string{"warn", "error"} {
		t.Run(level, func(t *testing.T) {
			l, out := bufferedLogger(t, "1m")
			l.Info("before")
			if level == "warn" {
				l.Warn("trouble")
			} else {
				l.Error("trouble")
			}
			got := out.String()
			if !strings.Contains(got, `"msg":"before"`) || !strings.Contains(got, `"msg":"trouble"`) ||
				strings.Index(got, `"before"`) > strings.Index(got, `"trouble"`) {
				t.Errorf("got %q, want both lines in order at once", got)
			}
			l.With(zap.String("k", "v")).Warn("child") // a child logger flushes too
			if got := out.String(); !strings.Contains(got, `"msg":"child","k":"v"`) {
				t.Errorf("child logger's warning held back: %q", got)
			}
		})
	}
}

// A full buffer is written without waiting; a line larger than the buffer goes straight through,
// after what was held.
func TestLoggerFullBuffer(t *testing.T) {
	l, out := bufferedLogger(t, "1m")
	line := strings.Repeat("x", 1000)
	n := 0
	for ; n < 2*logBufferSize/1000; n++ {
		l.Info(line)
	}
	if writes, _ := out.counts(); writes == 0 {
		t.Fatalf("%d lines of 1 KB held with a %d-byte buffer", n, logBufferSize)
	}
	big := strings.Repeat("y", 2*logBufferSize)
	l.Info(big)
	if got := out.String(); !strings.HasSuffix(got, `"msg":"`+big+`"}`+"\n") || strings.Count(got, "\n") != n+1 {
		t.Errorf("got %d lines (want %d), ending with the big one: %v", strings.Count(got, "\n"), n+1, strings.HasSuffix(got, big+`"}`+"\n"))
	}
}

// flush_interval 0 writes every line at once.
func TestLoggerUnbuffered(t *testing.T) {
	l, out := bufferedLogger(t, "0")
	l.Info("hello")
	if got := out.String(); !strings.Contains(got, `"msg":"hello"`) {
		t.Errorf("got %q, want the line at once", got)
	}
}

func TestLoggerBadFlushInterval(t *testing.T) {
	for _, give := range []string{"-1s", "2m", "soon"} {
		_, err := NewLogger(loadForLogger(t, []string{"EXAMPLE__LOGGING__FLUSH_INTERVAL=" + give}))
		if err == nil || !strings.Contains(err.Error(), "logging.flush_interval") {
			t.Errorf("%s: got %v, want an error naming logging.flush_interval", give, err)
		}
	}
}

// A write that fails on the timer is reported by the next Sync.
func TestLoggerTimedWriteError(t *testing.T) {
	out := newRecordingOutput()
	b := newBufferedOutput(out, time.Millisecond)
	out.fail = errors.New("disk full")
	if _, err := b.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	b.tick() // what the timer runs
	if err := b.Sync(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Sync got %v, want the timed write's error", err)
	}
	if err := b.Sync(); err != nil {
		t.Errorf("the error is reported once; got %v", err)
	}
}

// Every line logged reaches the file by the time the app has stopped.
func TestModuleLoggerNothingLostAtStop(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var log *zap.Logger
	app := fxtest.New(t,
		WithInput(Input{Name: "example", Environ: []string{"EXAMPLE__LOGGING__FLUSH_INTERVAL=1m"}, LogOutput: f}),
		Module,
		fx.Populate(&log),
	).RequireStart()
	const n = 1000
	for i := range n {
		log.Info("line", zap.Int("i", i))
	}
	app.RequireStop()
	raw, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(raw), `"msg":"line"`); got != n {
		t.Errorf("%d of %d lines in the file after stop", got, n)
	}
}

// Buffering adds no allocation per line: the same line costs what it costs unbuffered.
func TestLoggerBufferAllocs(t *testing.T) {
	allocs := func(interval string) float64 {
		l, _ := bufferedLogger(t, interval)
		return testing.AllocsPerRun(1000, func() { l.Info("hello", zap.String("k", "v")) })
	}
	if buffered, unbuffered := allocs("1m"), allocs("0"); buffered > unbuffered {
		t.Errorf("%.1f allocations per line buffered, %.1f unbuffered", buffered, unbuffered)
	}
}
