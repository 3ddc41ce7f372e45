package fxpubsub

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
)

var defaultPropagator = propagation.TraceContext{}

// daemonTelemetry is one daemon's view of a [Telemetry]: attribute sets naming its queue and the
// registration of its observable instruments (read from [Daemon.Stats], no per-message work).
type daemonTelemetry struct {
	*Telemetry
	queue                          string
	queueObs                       []metric.ObserveOption
	deleteObs, changeObs           []metric.ObserveOption
	recvMsgs, recvEmpty, recvError []metric.RecordOption
	reg                            metric.Registration
}

func (t *Telemetry) forDaemon(queue string) *daemonTelemetry {
	if t == nil {
		return nil
	}
	q := attrQueue.String(queue)
	obs := func(kv ...attribute.KeyValue) []metric.ObserveOption {
		return []metric.ObserveOption{metric.WithAttributeSet(t.attrSet(kv...))}
	}
	rec := func(result string) []metric.RecordOption {
		return []metric.RecordOption{metric.WithAttributeSet(t.attrSet(q, attrResult.String(result)))}
	}
	return &daemonTelemetry{
		Telemetry: t, queue: queue,
		queueObs: obs(q), deleteObs: obs(q, attrAction.String("delete")), changeObs: obs(q, attrAction.String("change_visibility")),
		recvMsgs: rec("messages"), recvEmpty: rec("empty"), recvError: rec("error"),
	}
}

// register starts observing d; unregister (at stop) ends it.
func (dt *daemonTelemetry) register(d *Daemon) error {
	reg, err := dt.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := d.Stats()
		o.ObserveInt64(dt.received, s.Received, dt.queueObs...)
		o.ObserveInt64(dt.handled, s.Handled, dt.queueObs...)
		o.ObserveInt64(dt.released, s.Released, dt.queueObs...)
		o.ObserveInt64(dt.receiveCalls, s.ReceiveCalls, dt.queueObs...)
		o.ObserveInt64(dt.emptyReceives, s.EmptyReceives, dt.queueObs...)
		o.ObserveInt64(dt.receiveErrors, s.ReceiveErrors, dt.queueObs...)
		o.ObserveInt64(dt.extensions, s.Extensions, dt.queueObs...)
		o.ObserveInt64(dt.inFlight, s.InFlight, dt.queueObs...)
		o.ObserveInt64(dt.reserved, s.Busy, dt.queueObs...)
		o.ObserveFloat64(dt.utilization, float64(s.InFlight)/float64(d.opts.Concurrency*d.opts.Pollers), dt.queueObs...)
		var del, chg settleCounts
		running := false
		for _, p := range d.pollers() {
			if pd, pc := p.batchers(); pd != nil {
				running = true
				del.add(pd)
				chg.add(pc)
			}
		}
		if running {
			for _, b := range []struct {
				c   settleCounts
				obs []metric.ObserveOption
			}{{del, dt.deleteObs}, {chg, dt.changeObs}} {
				o.ObserveInt64(dt.settleCalls, b.c.calls, b.obs...)
				o.ObserveInt64(dt.settleEntries, b.c.entries, b.obs...)
				o.ObserveInt64(dt.settleCallErrors, b.c.callErrors, b.obs...)
				o.ObserveInt64(dt.settleFailures, b.c.failed, b.obs...)
				o.ObserveInt64(dt.settlePending, b.c.pending, b.obs...)
			}
		}
		return nil
	}, dt.received, dt.handled, dt.released, dt.receiveCalls, dt.emptyReceives, dt.receiveErrors, dt.extensions,
		dt.inFlight, dt.reserved, dt.utilization, dt.settleCalls, dt.settleEntries, dt.settleCallErrors, dt.settleFailures, dt.settlePending)
	if err != nil {
		return err
	}
	dt.reg = reg
	return nil
}

// settleCounts sums the counters of settle batchers of one action over the pollers.
type settleCounts struct{ calls, entries, callErrors, failed, pending int64 }

func (c *settleCounts) add(b *settleBatcher) {
	c.calls += b.nCalls.Load()
	c.entries += b.nEntries.Load()
	c.callErrors += b.nCallErrors.Load()
	c.failed += b.nFailed.Load()
	c.pending += b.pending.Load()
}

func (dt *daemonTelemetry) unregister() {
	if dt != nil && dt.reg != nil {
		_ = dt.reg.Unregister()
	}
}

// receiveMetered reports whether receive durations and batches are recorded.
func (dt *daemonTelemetry) receiveMetered(ctx context.Context) bool {
	return dt != nil && (dt.receive.Enabled(ctx) || dt.batch.Enabled(ctx) || dt.batchSize.Enabled(ctx))
}

func (dt *daemonTelemetry) recordReceive(ctx context.Context, elapsed time.Duration, n int, err error) {
	opts := dt.recvMsgs
	switch {
	case err != nil:
		opts = dt.recvError
	case n == 0:
		opts = dt.recvEmpty
	}
	dt.receive.Record(ctx, elapsed.Seconds(), opts...)
}

// receiveBatch tracks the messages of one receive until the last is handled: the original's
// message_batch and message_batch_size and its "Completed batch" debug line, now that handling is
// decoupled from receiving.
type receiveBatch struct {
	start     time.Time
	remaining atomic.Int32
	counted   atomic.Int32 // non-IGNORED results
}

func newReceiveBatch(n int, start time.Time) *receiveBatch {
	b := &receiveBatch{start: start}
	b.remaining.Store(int32(n))
	return b
}

// done records one message's end (handled with result r, or released unhandled). After the last
// it returns the batch's count of non-IGNORED messages and its elapsed time, with last set.
func (b *receiveBatch) done(handled bool, r ResultType) (n int, elapsed time.Duration, last bool) {
	if handled && r != Ignored {
		b.counted.Add(1)
	}
	if b.remaining.Add(-1) != 0 {
		return 0, 0, false
	}
	return int(b.counted.Load()), time.Since(b.start), true
}

// recordBatch records the batch metrics of a batch with n non-IGNORED messages.
func (dt *daemonTelemetry) recordBatch(ctx context.Context, elapsed time.Duration, n int) {
	dt.batch.Record(ctx, elapsed.Seconds(), dt.sourceOpt...)
	dt.batchSize.Record(ctx, int64(n), dt.sourceOpt...)
}
