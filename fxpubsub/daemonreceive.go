package fxpubsub

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// receive is one receiver: it asks for as many messages as there are free workers.
func (d *Daemon) receive(id int) {
	defer d.receivers.Done()
	ctx := d.recvCtx
	failures := 0
	for {
		n, err := d.acquire(ctx, d.limit)
		if err != nil {
			d.health.exit(id, nil)
			return
		}
		d.receiveCalls.Add(1)
		metered := d.tel.receiveMetered(ctx)
		var t0 time.Time
		if metered {
			t0 = time.Now()
		}
		msgs, err := d.src.Receive(ctx, n)
		if metered && ctx.Err() == nil {
			d.tel.recordReceive(ctx, time.Since(t0), len(msgs), err)
		}
		if err != nil {
			d.release(n)
			switch {
			case ctx.Err() != nil:
				d.health.exit(id, nil)
				return
			case isFatal(err):
				d.health.exit(id, err)
				d.stopped(err)
				return
			}
			failures++
			d.receiveErrors.Add(1)
			d.health.failing(id)
			d.opts.Logger.Warn("receive failed; backing off", zap.Error(err), zap.Int("consecutive_failures", failures))
			if sleepCtx(ctx, receiveBackoff(failures)) != nil {
				d.health.exit(id, nil)
				return
			}
			continue
		}
		failures = 0
		d.health.ok(id)
		d.lifeSign()
		d.release(n - len(msgs))
		if len(msgs) == 0 {
			if d.src.EndOfInput() {
				d.health.exit(id, nil)
				d.endOfInput()
				return
			}
			d.emptyReceives.Add(1)
			continue
		}
		d.received.Add(int64(len(msgs)))
		now := time.Now()
		d.inflight.addAll(msgs, now)
		var batch *receiveBatch
		if metered || d.opts.Logger.Core().Enabled(zap.DebugLevel) {
			batch = newReceiveBatch(len(msgs), now)
		}
		if d.fifo {
			for _, chain := range fifoChains(msgs) {
				d.work <- workItem{m: chain[0], rest: chain[1:], batch: batch}
			}
			continue
		}
		for _, m := range msgs {
			d.work <- workItem{m: m, batch: batch}
		}
	}
}

// gatherLinger is how long a receiver holding some free worker slots waits for more, so that it
// asks SQS for a full batch (fewer calls per message) without leaving free workers idle for long.
const gatherLinger = 5 * time.Millisecond

// acquire takes at least one and at most want worker slots. One receiver gathers at a time: it
// waits for the first free slot, then up to gatherLinger for the rest of a batch.
func (d *Daemon) acquire(ctx context.Context, want int) (int, error) {
	d.gather.Lock()
	defer d.gather.Unlock()
	select {
	case <-d.slots:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	want = min(want, d.opts.Concurrency)
	n := 1
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	for n < want {
		select {
		case <-d.slots:
			n++
			continue
		default:
		}
		if linger == nil {
			linger = time.NewTimer(gatherLinger)
		}
		select {
		case <-d.slots:
			n++
		case <-linger.C:
			return n, nil
		case <-ctx.Done():
			d.release(n)
			return 0, ctx.Err()
		}
	}
	return n, nil
}

func (d *Daemon) release(n int) {
	for range n {
		d.slots <- struct{}{}
	}
}
