package fxconfig

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// logBufferSize is how many bytes of log lines the buffered output holds before it writes them
// (zap's JSON lines are a few hundred bytes: a write per 100 or more lines under load).
const logBufferSize = 64 << 10

// bufferedOutput holds log lines in memory and writes them to out in one write when the buffer
// is full, when the flush interval has passed since the oldest line it holds, when a line of
// level warn or above is logged (see flushCore), and on Sync. It has no goroutine of its own: the
// first line after a write arms a timer (time.AfterFunc), whose function writes what is held.
type bufferedOutput struct {
	out      zapcore.WriteSyncer
	interval time.Duration

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer
	armed bool  // the timer will fire
	err   error // a failed timed write, reported by the next Write or Sync
}

func newBufferedOutput(out zapcore.WriteSyncer, interval time.Duration) *bufferedOutput {
	return &bufferedOutput{out: out, interval: interval, buf: make([]byte, 0, logBufferSize)}
}

// Write holds p (one encoded entry), writing what was held first when p does not fit.
func (b *bufferedOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.takeErr()
	if len(b.buf)+len(p) > cap(b.buf) {
		err = errors.Join(err, b.flushLocked())
		if len(p) > cap(b.buf) {
			return writeAll(b.out, p, err)
		}
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		b.armed = true
		if b.timer == nil {
			b.timer = time.AfterFunc(b.interval, b.tick)
		} else {
			b.timer.Reset(b.interval)
		}
	}
	return len(p), err
}

// tick is the timer's function: it writes what is held.
func (b *bufferedOutput) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.armed = false
	if err := b.flushLocked(); err != nil && b.err == nil {
		b.err = err
	}
}

// flush writes what is held, without syncing out.
func (b *bufferedOutput) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return errors.Join(b.takeErr(), b.flushLocked())
}

// Sync writes what is held and syncs out.
func (b *bufferedOutput) Sync() error {
	b.mu.Lock()
	err := errors.Join(b.takeErr(), b.flushLocked())
	if b.timer != nil && b.timer.Stop() {
		b.armed = false
	}
	b.mu.Unlock()
	return errors.Join(err, b.out.Sync())
}

func (b *bufferedOutput) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := writeAll(b.out, b.buf, nil)
	b.buf = b.buf[:0]
	return err
}

func (b *bufferedOutput) takeErr() error {
	err := b.err
	b.err = nil
	return err
}

// writeAll writes p to w, joining a failure (a short write is one) to err.
func writeAll(w io.Writer, p []byte, err error) (int, error) {
	n, werr := w.Write(p)
	if werr == nil && n < len(p) {
		werr = io.ErrShortWrite
	}
	if werr != nil {
		err = errors.Join(err, fmt.Errorf("write log: %w", werr))
	}
	return n, err
}

// flushCore writes through to its output at once for entries of level warn and above, so that
// warnings and errors are never held back by the buffer. Its methods take a pointer: Check hands
// the core to every entry, and a value would be copied into an interface (an allocation) each time.
type flushCore struct {
	zapcore.Core
	out *bufferedOutput
}

func (c *flushCore) Level() zapcore.Level { return zapcore.LevelOf(c.Core) }

func (c *flushCore) With(fields []zapcore.Field) zapcore.Core {
	return &flushCore{Core: c.Core.With(fields), out: c.out}
}

func (c *flushCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *flushCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	err := c.Core.Write(e, fields)
	if e.Level >= zapcore.WarnLevel {
		err = errors.Join(err, c.out.flush())
	}
	return err
}
