package fxpubsub

import (
	"context"
	"slices"
	"sync"
	"time"
)

// maxInFlightBatches bounds the PublishBatch requests in flight per standard topic. A new request
// starts when none is in flight, or when a full batch (10 entries or 256 KiB) is waiting and fewer
// than this many are in flight: light concurrency gets one request at a time with every caller
// that arrived meanwhile in the next one; heavy concurrency gets full batches, pipelined. FIFO
// topics get one request at a time, so a message group's order is the order of the calls.
const maxInFlightBatches = 8

// publishBatcher is natural batching for [Producer.Produce]: concurrent calls to one topic share
// PublishBatch requests. It has no goroutine of its own: a caller that finds no request in flight
// sends at once (alone, with Publish); callers that arrive meanwhile wait in the topic's queue, and
// when a request completes, the first caller of the next batch is woken to send it.
type publishBatcher struct {
	p      *Producer
	linger time.Duration
	hold   time.Duration // returnHold (tests set a longer one)
	mu     sync.Mutex
	topics map[string]*topicQueue
}

// topicQueue is one topic's waiting callers and requests in flight, guarded by publishBatcher.mu.
type topicQueue struct {
	fifo       bool
	inflight   int
	waiting    []*publishWaiter
	bytes      int           // sizes of the waiting messages
	lingering  chan struct{} // set while a sender lingers or holds; closed when it may send
	lingerSize int           // the lingering sender's message size
	holding    bool          // the sender holds for returning callers (not the configured linger)
	// returning counts the callers that the last requests released and that have not called
	// again: a sender holds (up to returnHold) for them before it sends a batch that is not full.
	returning int
	released  time.Time // when the last request completed
}

// returnHold bounds how long the sender of a batch that is not full holds for the callers that the
// request just completed released, so that callers publishing in a loop share one request rather
// than alternating between two half-full ones (k and 8-k of 8). It is counted from the
// completion: only a call within returnHold of it, while released callers have not called again,
// holds, and only until they have; a lone call to an idle topic is sent at once. It is small next
// to an SNS round trip.
const returnHold = 300 * time.Microsecond

// publishWaiter is one Produce call waiting for its publish. done gets one signal: either leads is
// set (this caller sends the next request, itself included) or the result is.
type publishWaiter struct {
	o     *outgoing
	last  bool // this is the entry's last attempt
	done  chan struct{}
	leads bool
	batch []*publishWaiter // the request's callers, when leads (nil while it has to linger)
	wait  time.Duration    // how long the sender lingers or holds, when batch is nil
	id    string
	err   error
	retry bool // a retryable failure: back off and submit again
}

func newPublishBatcher(p *Producer, linger time.Duration) *publishBatcher {
	return &publishBatcher{p: p, linger: max(linger, 0), hold: returnHold, topics: map[string]*topicQueue{}}
}

// publish publishes o, sharing a PublishBatch with concurrent calls to its topic, and retries a
// retryable per-entry failure with jittered backoff up to MaxAttempts, as [Producer.ProduceBatch]
// does.
func (b *publishBatcher) publish(ctx context.Context, o *outgoing) (string, error) {
	for attempt := 1; ; attempt++ {
		w := &publishWaiter{o: o, last: attempt >= b.p.opts.MaxAttempts, done: make(chan struct{}, 1)}
		b.submit(ctx, w)
		if !w.retry {
			return w.id, w.err
		}
		if err := sleepCtx(ctx, retryDelay(attempt)); err != nil {
			return "", &PublishError{MediaType: o.mediaType, TopicARN: o.topicARN, Err: err}
		}
	}
}

// submit queues w and returns when its result is set.
func (b *publishBatcher) submit(ctx context.Context, w *publishWaiter) {
	topic := w.o.topicARN
	b.mu.Lock()
	q := b.topics[topic]
	if q == nil {
		q = &topicQueue{fifo: isFIFO(topic)}
		b.topics[topic] = q
	}
	q.waiting = append(q.waiting, w)
	q.bytes += w.o.size()
	if q.returning > 0 {
		q.returning--
	}
	if q.lingering != nil && (q.fullBatchWaits() || q.holding && q.returning == 0) {
		close(q.lingering)
		q.lingering = nil
	}
	leader := b.startLocked(q)
	b.mu.Unlock()
	if leader == w {
		b.lead(ctx, q, w)
		return
	}
	if leader != nil {
		leader.done <- struct{}{}
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		b.mu.Lock()
		if i := slices.Index(q.waiting, w); i >= 0 {
			q.waiting = slices.Delete(q.waiting, i, i+1)
			q.bytes -= w.o.size()
			b.mu.Unlock()
			w.err = &PublishError{MediaType: w.o.mediaType, TopicARN: topic, Err: ctx.Err()}
			return
		}
		b.mu.Unlock()
		<-w.done // already in a request: its outcome is this call's
	}
	if w.leads {
		b.lead(ctx, q, w)
	}
}

// fullBatchWaits reports whether the waiting callers (and a lingering sender) fill a PublishBatch.
func (q *topicQueue) fullBatchWaits() bool {
	n, size := len(q.waiting), q.bytes
	if q.lingering != nil {
		n, size = n+1, size+q.lingerSize
	}
	return n >= maxBatchEntries || size >= MaxMessageSize
}

// startLocked starts a request if one may start now: it removes the first waiting caller from the
// queue, marks it as the request's sender, gives it its batch (unless it is to linger first) and
// returns it (nil if no request starts). The caller of startLocked wakes it unless it is itself.
func (b *publishBatcher) startLocked(q *topicQueue) *publishWaiter {
	if len(q.waiting) == 0 || q.lingering != nil {
		return nil
	}
	if q.inflight > 0 && (q.fifo || q.inflight >= maxInFlightBatches || !q.fullBatchWaits()) {
		return nil
	}
	q.inflight++
	w := q.waiting[0]
	q.waiting = slices.Delete(q.waiting, 0, 1)
	q.bytes -= w.o.size()
	w.leads = true
	switch {
	case q.fullBatchWaitsWith(w):
	case b.linger > 0:
		w.wait = b.linger
	case q.returning > 0:
		if d := b.hold - time.Since(q.released); d > 0 {
			w.wait, q.holding = d, true
		} else {
			q.returning = 0 // they had their chance
		}
	}
	if w.wait == 0 {
		w.batch = q.takeLocked(w)
		return w
	}
	q.lingering, q.lingerSize = make(chan struct{}), w.o.size()
	return w
}

// takeLocked removes from the head of the queue the callers that join first's request: up to 10
// entries and 256 KiB in all.
func (q *topicQueue) takeLocked(first *publishWaiter) []*publishWaiter {
	batch := []*publishWaiter{first}
	size, n := first.o.size(), 0
	for _, w := range q.waiting {
		s := w.o.size()
		if len(batch) == maxBatchEntries || size+s > MaxMessageSize {
			break
		}
		batch = append(batch, w)
		size += s
		n++
	}
	q.waiting = slices.Delete(q.waiting, 0, n)
	q.bytes -= size - first.o.size()
	return batch
}

// lead is the sender's part: publish the batch (after the linger, if it has to linger), set
// every caller's result and wake them, then start the next request if one may start.
func (b *publishBatcher) lead(ctx context.Context, q *topicQueue, w *publishWaiter) {
	batch := w.batch
	if batch == nil {
		batch = b.lingerAndTake(q, w)
	}
	b.publishBatch(ctx, batch)

	now := time.Now()
	b.mu.Lock()
	q.inflight--
	q.returning += len(batch) // counted before they are woken, so each one's next call counts
	q.released = now
	next := b.startLocked(q)
	b.mu.Unlock()
	for _, o := range batch[1:] {
		o.done <- struct{}{}
	}
	if next != nil {
		next.done <- struct{}{}
	}
}

// lingerAndTake waits up to w.wait for the waiting callers to fill a batch with w (or, when
// holding, for the returning callers to call again), then takes the batch.
func (b *publishBatcher) lingerAndTake(q *topicQueue, w *publishWaiter) []*publishWaiter {
	b.mu.Lock()
	ready := q.lingering
	b.mu.Unlock()
	if ready != nil {
		t := time.NewTimer(w.wait)
		select {
		case <-ready:
		case <-t.C:
		}
		t.Stop()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if q.lingering == ready && ready != nil {
		q.lingering = nil
	}
	if q.holding {
		q.holding, q.returning = false, 0 // those who did not call again in time are not coming
	}
	return q.takeLocked(w)
}

// fullBatchWaitsWith reports whether w and the waiting callers fill a PublishBatch.
func (q *topicQueue) fullBatchWaitsWith(w *publishWaiter) bool {
	return len(q.waiting)+1 >= maxBatchEntries || q.bytes+w.o.size() >= MaxMessageSize
}

// publishBatch sends batch: a lone message with Publish (exactly as without batching), more with
// one PublishBatch whose per-entry outcomes go to their callers.
func (b *publishBatcher) publishBatch(ctx context.Context, batch []*publishWaiter) {
	if len(batch) == 1 {
		w := batch[0]
		w.id, w.err = b.p.send(ctx, w.o)
		return
	}
	// One caller's cancellation must not fail the others' messages: the request runs to its end
	// (the client's timeouts bound it), keeping the sender's context values.
	ctx = context.WithoutCancel(ctx)
	prepared := make([]*outgoing, len(batch))
	chunk := make([]int, len(batch))
	for i, w := range batch {
		prepared[i], chunk[i] = w.o, i
	}
	results := make([]BatchResult, len(batch))
	retry := b.p.sendChunk(ctx, prepared, chunk, results, func(i int) bool { return batch[i].last })
	for i, w := range batch {
		w.id, w.err, w.retry = results[i].MessageID, results[i].Err, slices.Contains(retry, i)
	}
}
