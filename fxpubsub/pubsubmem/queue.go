package pubsubmem

import (
	"sync"
	"sync/atomic"
)

type msgState uint8

const (
	stDelayed  msgState = iota + 1 // waiting out DelaySeconds
	stReady                        // visible
	stInflight                     // received; visibility timeout running
	stGone                         // deleted, purged or moved to the DLQ
)

// message is one SQS message. The first block never changes once the message is enqueued, so it may be
// read without the queue's lock; the rest is guarded by queue.mu.
type message struct {
	id, body, md5Body, md5Attrs string
	attrs                       msgAttrs // never mutated; shared read-only
	sent                        int64    // unix nanos
	groupID, dedupID, seqNum    string
	dlqSource                   string // ARN of the queue it was dead-lettered from
	key                         uint64 // queue-local id, part of receipt handles

	state               msgState
	visibleAt           int64 // unix nanos; when a delayed or in-flight message becomes visible
	firstRecv, lastRecv int64
	recvCount           int32
	nonce               uint64 // of the latest receive; part of the latest receipt handle
	hidx                int    // index in the delayed or in-flight heap
	group               *fifoGroup
}

// queue is one SQS queue. All message state is guarded by mu; nothing holding mu takes Backend.mu.
type queue struct {
	b              *Backend
	id             uint64
	name, url, arn string
	fifo           bool
	created        int64
	redrive        atomic.Pointer[redrivePolicy] // mirror of cfg.redrive, readable without mu

	mu         sync.Mutex
	cfg        queueConfig
	modified   int64
	deleted    bool
	nextKey    uint64
	nextNonce  uint64
	msgs       msgTable // every live message by key
	ready      ring     // standard queues: visible messages in arrival order (may hold stale entries)
	nReady     int
	delayed    msgHeap
	inflight   msgHeap
	fifoState                // FIFO queues only
	notify     chan struct{} // closed (and replaced) when messages may have become receivable
	notifyUsed bool
}

func newQueue(b *Backend, id uint64, name string, fifo bool, cfg queueConfig, now int64) *queue {
	q := &queue{
		b: b, id: id, name: name, fifo: fifo, created: now, modified: now,
		url: b.queueURL(name), arn: b.arn("sqs", name),
		cfg: cfg, notify: make(chan struct{}),
	}
	q.redrive.Store(cfg.redrive)
	if fifo {
		q.groups = map[string]*fifoGroup{}
	}
	return q
}

// waitChan returns a channel that is closed at the next signal.
func (q *queue) waitChan() <-chan struct{} {
	q.notifyUsed = true
	return q.notify
}

// signal wakes every long poll waiting on the queue.
func (q *queue) signal() {
	if q.notifyUsed {
		close(q.notify)
		q.notify = make(chan struct{})
		q.notifyUsed = false
	}
}

// advance makes visible every delayed or in-flight message whose time has come.
func (q *queue) advance(now int64) {
	moved := false
	for len(q.delayed) > 0 && q.delayed[0].visibleAt <= now {
		q.makeReady(q.delayed.popMin())
		moved = true
	}
	for len(q.inflight) > 0 && q.inflight[0].visibleAt <= now {
		m := q.inflight.popMin()
		if m.group != nil {
			m.group.inflight--
		}
		q.makeReady(m)
		moved = true
	}
	if moved {
		q.signal()
	}
}

// nextEvent is when the next delayed or in-flight message becomes visible (0: none).
func (q *queue) nextEvent() int64 {
	var next int64
	if len(q.delayed) > 0 {
		next = q.delayed[0].visibleAt
	}
	if len(q.inflight) > 0 && (next == 0 || q.inflight[0].visibleAt < next) {
		next = q.inflight[0].visibleAt
	}
	return next
}

func (q *queue) makeReady(m *message) {
	m.state = stReady
	q.nReady++
	if !q.fifo {
		q.ready.push(m)
	}
}

// enqueue adds a new message, visible after delay seconds.
func (q *queue) enqueue(m *message, delay int32, now int64) {
	q.nextKey++
	m.key = q.nextKey
	q.msgs.put(m)
	if q.fifo {
		q.addToGroup(m)
	}
	if delay > 0 {
		m.state = stDelayed
		m.visibleAt = now + int64(delay)*1e9
		q.delayed.push(m)
		return
	}
	q.makeReady(m)
	q.signal()
}

// remove takes a message out of the queue for good.
func (q *queue) remove(m *message) {
	switch m.state {
	case stReady:
		q.nReady-- // a standard queue's ring entry goes stale and is skipped
	case stDelayed:
		q.delayed.remove(m.hidx)
	case stInflight:
		q.inflight.remove(m.hidx)
		if m.group != nil {
			m.group.inflight--
		}
	}
	if m.group != nil {
		q.removeFromGroup(m)
	}
	q.msgs.del(m.key)
	m.state = stGone
}

// purge drops every message.
func (q *queue) purge() {
	q.msgs.each(func(m *message) { m.state = stGone })
	q.msgs.reset()
	q.ready.reset()
	q.nReady = 0
	clear(q.delayed)
	q.delayed = q.delayed[:0]
	clear(q.inflight)
	q.inflight = q.inflight[:0]
	if q.fifo {
		q.groups = map[string]*fifoGroup{}
		clear(q.groupList)
		q.groupList = q.groupList[:0]
	}
}

// ring is a FIFO of messages.
type ring struct {
	buf  []*message
	head int
}

func (r *ring) push(m *message) { r.buf = append(r.buf, m) }

func (r *ring) pop() *message {
	if r.head == len(r.buf) {
		return nil
	}
	m := r.buf[r.head]
	r.buf[r.head] = nil
	r.head++
	switch {
	case r.head == len(r.buf):
		r.buf, r.head = r.buf[:0], 0
	case r.head >= 1024 && r.head*2 >= len(r.buf):
		n := copy(r.buf, r.buf[r.head:])
		clear(r.buf[n:])
		r.buf, r.head = r.buf[:n], 0
	}
	return m
}

func (r *ring) reset() {
	clear(r.buf)
	r.buf, r.head = r.buf[:0], 0
}

// msgHeap is a min-heap of messages by visibleAt; each message knows its index.
type msgHeap []*message

func (h *msgHeap) push(m *message) {
	m.hidx = len(*h)
	*h = append(*h, m)
	h.up(m.hidx)
}

func (h *msgHeap) popMin() *message {
	return h.remove(0)
}

func (h *msgHeap) remove(i int) *message {
	s := *h
	m := s[i]
	last := len(s) - 1
	if i != last {
		s[i] = s[last]
		s[i].hidx = i
	}
	s[last] = nil
	*h = s[:last]
	if i != last {
		h.fix(i)
	}
	m.hidx = -1
	return m
}

func (h msgHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h msgHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].visibleAt <= h[i].visibleAt {
			return
		}
		h[p], h[i] = h[i], h[p]
		h[p].hidx, h[i].hidx = p, i
		i = p
	}
}

func (h msgHeap) down(i0 int) bool {
	i := i0
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].visibleAt < h[l].visibleAt {
			j = r
		}
		if h[i].visibleAt <= h[j].visibleAt {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].hidx, h[j].hidx = i, j
		i = j
	}
	return i > i0
}
