package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
)

// Daemon consumes one queue and dispatches every message to its handler: N receivers long-poll
// and feed a bounded worker pool; deletes and visibility changes go out in batches; a heartbeat
// extends the visibility of long-running messages; Stop drains. It is the original's
// ConsumerDaemon, rebuilt for throughput and safe shutdown. [NewSourceDaemon] runs the same loop
// over any other [MessageSource] (a replay), settled by the source's own settler.
//
// With [DaemonOptions.Pollers] above 1 (the original's --processes) the Daemon is the first of
// that many pollers and owns the others: Start, Stop, Err, Stats and Healthy cover them all.
type Daemon struct {
	consumer   *Consumer     // nil for a daemon over another source
	source     MessageSource // the source given to NewSourceDaemon, else nil
	src        MessageSource // what the receivers receive from, set once the daemon runs
	limit      int           // messages per receive
	dispatcher *Dispatcher
	opts       DaemonOptions

	queueURL   string
	fifo       bool // the queue is FIFO: a message group's messages are handled one at a time, in order
	visibility time.Duration
	slots      chan struct{}
	work       chan workItem
	deletes    *settleBatcher
	changes    *settleBatcher
	inflight   inflightSet

	recvCtx     context.Context
	recvCancel  context.CancelFunc
	handleCtx   context.Context
	handleStop  context.CancelFunc
	gather      sync.Mutex // one receiver gathers worker slots at a time
	started     atomic.Bool
	draining    atomic.Bool
	startOnce   sync.Once
	stopOnce    sync.Once
	receivers   sync.WaitGroup
	workers     sync.WaitGroup
	background  sync.WaitGroup
	stoppedOnce sync.Once
	endOnce     sync.Once
	ready       chan struct{} // closed when the receivers run (or start failed)
	stopErr     error
	fatalErr    atomic.Pointer[error]

	index int          // this poller's number, from 1
	peers []*Daemon    // the other pollers, owned by the first (nil on the others)
	beat  atomic.Int64 // unix nanoseconds of this poller's last sign of life

	received, handled, receiveCalls, emptyReceives, receiveErrors, extensions, released atomic.Int64
	health                                                                              receiverHealth
	tel                                                                                 *daemonTelemetry // nil: no telemetry
}

// workItem is a received message on its way to a worker; batch is set when batch metrics are on.
// On a FIFO queue, rest holds the messages of m's group that came after it in the same receive:
// the worker handles them in order after m (see fifoChains).
type workItem struct {
	m     *Message
	rest  []*Message
	batch *receiveBatch
}

// NewDaemon returns a daemon consuming with consumer and dispatching with dispatcher.
// With opts.Pollers above 1 it is the first of that many pollers (see [DaemonOptions.Pollers]).
func NewDaemon(consumer *Consumer, dispatcher *Dispatcher, opts DaemonOptions) *Daemon {
	opts.defaults()
	if opts.Pollers > 1 && opts.OnStopped != nil {
		// Each poller reports its own stop; the owner of the daemon hears of the first.
		var once sync.Once
		onStopped := opts.OnStopped
		opts.OnStopped = func(err error) { once.Do(func() { onStopped(err) }) }
	}
	name := queueName(consumer.queue)
	d := newPoller(dispatcher, opts, consumer.opts.Limit, name, 1)
	d.consumer = consumer
	for i := 2; i <= opts.Pollers; i++ {
		p := newPoller(dispatcher, opts, consumer.opts.Limit, name, i)
		p.consumer = consumer
		d.peers = append(d.peers, p)
	}
	return d
}

// NewSourceDaemon returns a daemon receiving from src (for example a [ReplayReader]'s source) and
// dispatching with dispatcher. Its messages are settled by the settler src gives them; there is
// no queue to prepare and no heartbeat. When src reports [MessageSource.EndOfInput], the daemon
// finishes the messages it holds and stops by itself (OnStopped(nil)). A source is read by one
// poller whatever opts.Pollers says.
func NewSourceDaemon(src MessageSource, dispatcher *Dispatcher, opts DaemonOptions) *Daemon {
	opts.defaults()
	opts.Pollers = 1
	d := newPoller(dispatcher, opts, maxBatchEntries, queueName(sourceName(src)), 1)
	d.source = src
	return d
}

func newPoller(dispatcher *Dispatcher, opts DaemonOptions, limit int, name string, index int) *Daemon {
	if opts.Pollers > 1 {
		opts.Logger = opts.Logger.With(zap.Int("poller", index))
	}
	d := &Daemon{dispatcher: dispatcher, opts: opts, limit: limit, index: index, ready: make(chan struct{})}
	d.inflight.m = map[*Message]time.Time{}
	d.tel = opts.Telemetry.forDaemon(name)
	return d
}

// pollers returns the daemon's pollers: itself, then the others.
func (d *Daemon) pollers() []*Daemon {
	return append([]*Daemon{d}, d.peers...)
}

// Start starts the daemon in the background and returns at once; the receive loop runs on a
// context the daemon owns, not ctx. Resolving the queue and its visibility timeout happen in the
// background too; a fatal failure there stops the daemon through OnStopped.
func (d *Daemon) Start(context.Context) error {
	for _, p := range d.pollers() {
		p.start()
	}
	return nil
}

// start starts one poller.
func (d *Daemon) start() {
	d.startOnce.Do(func() {
		d.started.Store(true)
		d.lifeSign()
		if d.index == 1 {
			d.logHandlers()
		}
		d.recvCtx, d.recvCancel = context.WithCancel(context.Background())
		d.handleCtx, d.handleStop = context.WithCancel(context.Background())
		if d.tel != nil {
			d.handleCtx = withQueueName(d.handleCtx, d.tel.queue)
			if d.index == 1 { // the first poller observes them all
				if err := d.tel.register(d); err != nil {
					d.opts.Logger.Warn("daemon metrics not registered", zap.Error(err))
				}
			}
		}
		d.slots = make(chan struct{}, d.opts.Concurrency)
		for range d.opts.Concurrency {
			d.slots <- struct{}{}
		}
		d.work = make(chan workItem, d.opts.Concurrency)
		d.background.Add(1)
		go d.run()
	})
}

// logHandlers logs the original's start-up listing, one line per handler:
// "Handling: <media type> with handler: <name>".
func (d *Daemon) logHandlers() {
	for _, mt := range d.dispatcher.handlers.MediaTypes() {
		reg, _ := d.dispatcher.handlers.Find(mt)
		d.opts.Logger.Info("Handling: "+mt+" with handler: "+reg.Name, zap.String("media_type", mt), zap.String("handler", reg.Name))
	}
}

// lifeSign records that the poller is alive (see DaemonOptions.HealthThreshold).
func (d *Daemon) lifeSign() { d.beat.Store(time.Now().UnixNano()) }

// run prepares (queue URL, visibility timeout), then starts workers, receivers and heartbeat.
func (d *Daemon) run() {
	defer d.background.Done()
	defer close(d.ready)
	ctx := d.recvCtx
	if d.consumer == nil {
		d.queueURL, d.src = sourceName(d.source), d.source
	} else {
		var err error
		if d.queueURL, err = d.prepare(ctx); err != nil {
			if ctx.Err() == nil {
				d.stopped(err)
			}
			return
		}
		d.fifo = isFIFO(d.queueURL)
		d.deletes = newSettleBatcher(settleDelete, d.consumer.client, d.queueURL, d.opts.FlushInterval, d.opts.MaxBatchCalls, d.opts.MaxAttempts, d.opts.Logger)
		d.deletes.payloads = d.consumer.opts.LargePayloads
		d.changes = newSettleBatcher(settleVisibility, d.consumer.client, d.queueURL, d.opts.FlushInterval, d.opts.MaxBatchCalls, d.opts.MaxAttempts, d.opts.Logger)
		d.src = d.consumer.Source(batchSettler{d})
	}
	for i := range d.opts.Concurrency {
		d.workers.Add(1)
		go d.worker(i < pinnedWorkers)
	}
	d.health.init(d.opts.Receivers)
	if d.consumer != nil && !d.opts.DisableHeartbeat && d.visibility > 0 {
		d.background.Add(1)
		go d.heartbeat()
	}
	// Logged before the receivers start, so that it comes before any result line (a short replay
	// can be handled and end in the time it takes to write it).
	d.opts.Logger.Info("consumer started", zap.String("queue_url", d.queueURL), zap.Int("receivers", d.opts.Receivers),
		zap.Int("concurrency", d.opts.Concurrency), zap.Duration("visibility_timeout", d.visibility), zap.Strings("media_types", d.dispatcher.handlers.MediaTypes()))
	for i := range d.opts.Receivers {
		d.receivers.Add(1)
		go d.receive(i)
	}
}

func (d *Daemon) prepare(ctx context.Context) (string, error) {
	for attempt := 1; ; attempt++ {
		url, err := d.consumer.QueueURL(ctx)
		if err == nil {
			d.visibility = d.opts.VisibilityTimeout
			if d.visibility == 0 && !d.opts.DisableHeartbeat {
				d.visibility, err = d.queueVisibility(ctx, url)
			}
		}
		if err == nil {
			return url, nil
		}
		if ctx.Err() != nil || isFatal(err) {
			return "", err
		}
		d.opts.Logger.Warn("consumer cannot reach its queue yet; retrying", zap.Error(err), zap.Int("attempt", attempt))
		if sleepCtx(ctx, receiveBackoff(attempt)) != nil {
			return "", ctx.Err()
		}
	}
}

func (d *Daemon) queueVisibility(ctx context.Context, url string) (time.Duration, error) {
	out, err := d.consumer.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		return 0, fmt.Errorf("read visibility timeout of %s: %w", url, err)
	}
	n, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	if err != nil {
		return 30 * time.Second, nil //nolint:nilerr // SQS's default when the attribute is missing
	}
	return time.Duration(n) * time.Second, nil
}

// worker is one of the Concurrency goroutines that handle messages; a pinned one keeps its stack
// (see withStackReserve).
func (d *Daemon) worker(pinned bool) {
	defer d.workers.Done()
	if pinned {
		withStackReserve(d.workLoop)
		return
	}
	d.workLoop()
}

// workLoop handles work items until the work channel is closed.
func (d *Daemon) workLoop() {
	for it := range d.work {
		next := d.handle(it.m, it.batch)
		for _, m := range it.rest {
			if next {
				next = d.handle(m, it.batch)
				continue
			}
			// An earlier message of the group is coming back: this one goes back unstarted, so
			// the group keeps its order (SQS holds it back until the earlier one is done).
			d.releaseMessage(m)
			if it.batch != nil {
				d.batchDone(it.batch, false, 0)
			}
			d.release(1)
		}
	}
}

// handle dispatches m, or returns it to the queue unstarted when the daemon is draining, and frees
// its worker slot. It reports whether m was settled for good (deleted), so that the next message
// of its FIFO group may go ahead.
func (d *Daemon) handle(m *Message, batch *receiveBatch) bool {
	defer d.release(1)
	if d.draining.Load() {
		d.releaseMessage(m)
		if batch != nil {
			d.batchDone(batch, false, 0)
		}
		return false
	}
	r := d.dispatcher.Dispatch(d.handleCtx, m)
	d.inflight.remove(m)
	d.handled.Add(1)
	d.lifeSign()
	if batch != nil {
		d.batchDone(batch, true, r.Type)
	}
	return r.Type.Deletes()
}

// batchDone records the end of one of batch's messages; after the last, when the batch had a
// non-IGNORED message, it records the batch metrics and logs the original's debug line
// "Completed batch: Message count: N, elapsed_time: X" (X in milliseconds).
func (d *Daemon) batchDone(batch *receiveBatch, handled bool, r ResultType) {
	n, elapsed, last := batch.done(handled, r)
	if !last || n == 0 {
		return
	}
	if d.tel != nil {
		d.tel.recordBatch(d.handleCtx, elapsed, n)
	}
	if ce := d.opts.Logger.Check(zap.DebugLevel, ""); ce != nil {
		ms := float64(elapsed.Microseconds()) / 1000
		ce.Message = fmt.Sprintf("Completed batch: Message count: %d, elapsed_time: %g", n, ms)
		ce.Write(zap.Int("message_count", n), zap.Float64("elapsed_time", ms))
	}
}

// releaseMessage returns an unstarted message to the queue (visibility 0).
func (d *Daemon) releaseMessage(m *Message) {
	d.inflight.remove(m)
	d.released.Add(1)
	if err := m.Nack(context.WithoutCancel(d.handleCtx), 0); err != nil {
		d.opts.Logger.Warn("release message", zap.String("message_id", m.MessageID), zap.Error(err))
	}
}

// batchSettler settles the daemon's queue messages through its batchers: settling is queued and
// returns at once.
type batchSettler struct{ d *Daemon }

// Ack queues a delete.
func (s batchSettler) Ack(_ context.Context, m *Message) error {
	s.d.inflight.remove(m)
	if !s.d.deletes.add(settleEntry{messageID: m.MessageID, receiptHandle: m.ReceiptHandle, payload: m.payload}) {
		return errBatcherClosed
	}
	return nil
}

// Nack queues a visibility change.
func (s batchSettler) Nack(_ context.Context, m *Message, timeout time.Duration) error {
	s.d.inflight.remove(m)
	return s.change(m, timeout)
}

// Extend queues a visibility change; the message stays in flight.
func (s batchSettler) Extend(_ context.Context, m *Message, timeout time.Duration) error {
	return s.change(m, timeout)
}

func (s batchSettler) change(m *Message, timeout time.Duration) error {
	if !s.d.changes.add(settleEntry{messageID: m.MessageID, receiptHandle: m.ReceiptHandle, visibility: visibilitySeconds(timeout)}) {
		return errBatcherClosed
	}
	return nil
}

// heartbeat extends the visibility of messages held past the threshold.
func (d *Daemon) heartbeat() {
	defer d.background.Done()
	interval := max(time.Duration(float64(d.visibility)*(1-d.opts.HeartbeatThreshold)/3), 200*time.Millisecond)
	t := time.NewTicker(interval)
	defer t.Stop()
	threshold := time.Duration(float64(d.visibility) * d.opts.HeartbeatThreshold)
	secs := visibilitySeconds(d.visibility)
	for {
		select {
		case <-d.handleCtx.Done():
			return
		case now := <-t.C:
			for _, m := range d.inflight.due(now, threshold) {
				d.extensions.Add(1)
				d.changes.add(settleEntry{messageID: m.MessageID, receiptHandle: m.ReceiptHandle, visibility: secs})
			}
		}
	}
}

// Stop stops receiving, returns unstarted messages to the queue, waits for in-flight handlers up to
// the drain timeout (or ctx), flushes pending deletes and visibility changes, and stops the
// heartbeat. Handlers still running after the drain timeout get a cancelled context, and Stop
// waits up to half the drain timeout more (and at most half of what is left of ctx) for them to
// return, settling their results; a message whose handler ignores the cancellation is not deleted
// and comes back after its visibility timeout. Stop returns an error only for such messages (it
// names how many) or for settlements that failed: handlers that return within the grace period
// are settled, and their stop is a clean one.
//
// The pollers of a daemon with several stop at the same time, each as above.
func (d *Daemon) Stop(ctx context.Context) error {
	if len(d.peers) == 0 {
		return d.stopPoller(ctx)
	}
	ps := d.pollers()
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.stopPoller(ctx); err != nil {
				errs[i] = fmt.Errorf("poller %d: %w", p.index, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *Daemon) stopPoller(ctx context.Context) error {
	if !d.started.Load() {
		return nil
	}
	d.stopOnce.Do(func() { d.stopErr = d.stop(ctx) })
	return d.stopErr
}

func (d *Daemon) stop(ctx context.Context) error {
	d.recvCancel()
	<-d.ready
	d.receivers.Wait()
	if d.src == nil { // never got going
		d.handleStop()
		d.background.Wait()
		d.tel.unregister()
		return nil
	}
	d.draining.Store(true)
	close(d.work)

	drain := d.opts.DrainTimeout
	if dl, ok := ctx.Deadline(); ok {
		drain = min(drain, time.Until(dl)*3/4)
	}
	workersDone := make(chan struct{})
	go func() { d.workers.Wait(); close(workersDone) }()
	var err error
	select {
	case <-workersDone:
	case <-time.After(drain):
		d.handleStop()
		d.opts.Logger.Warn("drain deadline passed; cancelling handlers still running", zap.Int("in_flight", d.inflight.len()))
		// Handlers that honour the cancellation return now: wait for them (and settle what they
		// return) so nothing the daemon started outlives Stop, but not past half the time left.
		// Only a handler still running after that leaves its message unsettled: that is the error.
		grace := d.opts.DrainTimeout / 2
		if dl, ok := ctx.Deadline(); ok {
			grace = min(grace, time.Until(dl)/2)
		}
		select {
		case <-workersDone:
		case <-time.After(grace):
			n := d.inflight.len()
			d.opts.Logger.Warn("handlers ignore their cancelled context; they outlive the daemon and their messages will be redelivered", zap.Int("in_flight", n))
			err = fmt.Errorf("drain: %d message(s) left unsettled, their handlers still running %s after the drain deadline (%s)", n, grace, drain)
		}
	}
	d.handleStop()
	d.background.Wait()
	if d.deletes != nil {
		err = errors.Join(err, d.deletes.close(ctx), d.changes.close(ctx))
	}
	d.tel.unregister()
	d.opts.Logger.Info("consumer stopped", zap.Int64("handled", d.handled.Load()), zap.Int64("released", d.released.Load()))
	return err
}

// stopped reports that the daemon stopped receiving by itself.
func (d *Daemon) stopped(err error) {
	d.stoppedOnce.Do(func() {
		if err != nil {
			err = explainRejected(err)
			d.fatalErr.Store(&err)
			d.opts.Logger.Error("consumer stopping: fatal error", zap.Error(err))
		} else {
			d.opts.Logger.Info("consumer reached the end of its input")
		}
		if d.opts.OnStopped != nil {
			d.opts.OnStopped(err)
		}
	})
}

// endOfInput waits for every receiver to finish and every slot to come back, then reports.
func (d *Daemon) endOfInput() {
	d.endOnce.Do(d.awaitEndOfInput)
}

func (d *Daemon) awaitEndOfInput() {
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		d.receivers.Wait()
		for range d.opts.Concurrency {
			select {
			case <-d.slots:
			case <-d.handleCtx.Done():
				return
			}
		}
		d.release(d.opts.Concurrency)
		d.stopped(nil)
	}()
}

// Err returns the fatal error that stopped the daemon by itself (a missing queue, rejected
// credentials), or nil; with several pollers, the first poller's that has one.
func (d *Daemon) Err() error {
	for _, p := range d.pollers() {
		if e := p.fatalErr.Load(); e != nil {
			return *e
		}
	}
	return nil
}

// Stats returns counters since start, summed over the pollers.
func (d *Daemon) Stats() DaemonStats {
	s := d.pollerStats()
	for _, p := range d.peers {
		s.add(p.pollerStats())
	}
	return s
}

func (d *Daemon) pollerStats() DaemonStats {
	s := DaemonStats{
		Received: d.received.Load(), Handled: d.handled.Load(), ReceiveCalls: d.receiveCalls.Load(), EmptyReceives: d.emptyReceives.Load(),
		ReceiveErrors: d.receiveErrors.Load(), Extensions: d.extensions.Load(), Released: d.released.Load(), InFlight: int64(d.inflight.len()),
	}
	if d.slots != nil {
		s.Busy = int64(d.opts.Concurrency - len(d.slots))
	}
	select {
	case <-d.ready:
	default:
		return s // still preparing: no batchers yet
	}
	if d.deletes != nil {
		s.DeleteBatchCalls, s.DeleteEntries = d.deletes.nCalls.Load(), d.deletes.nEntries.Load()
		s.VisibilityCalls, s.VisibilityEntries = d.changes.nCalls.Load(), d.changes.nEntries.Load()
		s.SettleFailures = d.deletes.nFailed.Load() + d.changes.nFailed.Load()
		s.PendingDeletes, s.PeakPendingDeletes = d.deletes.pending.Load(), d.deletes.peak.Load()
	}
	return s
}

// batchers returns the settle batchers once the daemon runs (nil before).
func (d *Daemon) batchers() (deletes, changes *settleBatcher) {
	select {
	case <-d.ready:
		return d.deletes, d.changes
	default:
		return nil, nil
	}
}

// Healthy returns nil while every poller's receivers are running and none has been failing for
// longer than a minute (or [DaemonOptions.HealthThreshold] when set, which also bounds how long a
// poller may go without a sign of life); the daemon entry point serves it for container probes.
func (d *Daemon) Healthy() error {
	var errs []error
	for _, h := range d.Heartbeats() {
		if h.Err != nil {
			errs = append(errs, h.Err)
		}
	}
	return errors.Join(errs...)
}

// Heartbeat is one poller's health: its number (from 1), the time since its last sign of life (a
// receive call that returned, or a message handled) and, when it is unhealthy, why.
type Heartbeat struct {
	Poller int
	Since  time.Duration
	Err    error
}

// Heartbeats returns the health of each poller, in order; [Daemon.Healthy] is nil when no Err is
// set. The health endpoint's GET /api/health lists them.
func (d *Daemon) Heartbeats() []Heartbeat {
	ps := d.pollers()
	out := make([]Heartbeat, len(ps))
	for i, p := range ps {
		h := Heartbeat{Poller: p.index, Err: p.healthy()}
		if p.started.Load() {
			h.Since = time.Since(time.Unix(0, p.beat.Load()))
		}
		if h.Err != nil && len(ps) > 1 {
			h.Err = fmt.Errorf("poller %d: %w", p.index, h.Err)
		}
		out[i] = h
	}
	return out
}

func (d *Daemon) healthy() error {
	if !d.started.Load() {
		return errors.New("consumer not started")
	}
	window, bound := time.Minute, d.opts.HealthThreshold
	if bound > 0 {
		window = bound
	}
	if err := d.health.check(window); err != nil {
		return err
	}
	if since := time.Since(time.Unix(0, d.beat.Load())); bound > 0 && since > bound {
		return fmt.Errorf("no sign of life for %s (heartbeat threshold %s)", since.Round(time.Millisecond), bound)
	}
	return nil
}
