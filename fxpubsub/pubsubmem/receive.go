package pubsubmem

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// taken is a message as one receive saw it (copied under the queue's lock).
type taken struct {
	m           *message
	nonce       uint64
	count       int32
	first, sent int64
}

// lease makes a visible message in flight for vis seconds and records the receive.
func (q *queue) lease(m *message, now int64, vis int32) taken {
	q.nReady--
	m.recvCount++
	if m.firstRecv == 0 {
		m.firstRecv = now
	}
	m.lastRecv = now
	q.nextNonce++
	m.nonce = q.nextNonce
	m.state = stInflight
	m.visibleAt = now + int64(vis)*1e9
	q.inflight.push(m)
	if m.group != nil {
		m.group.inflight++
	}
	return taken{m: m, nonce: m.nonce, count: m.recvCount, first: m.firstRecv, sent: m.sent}
}

// take receives up to limit visible messages. Messages that have reached the redrive policy's
// maxReceiveCount are removed and appended to moved instead (for the caller to put into the DLQ).
func (q *queue) take(dst []taken, limit int, now int64, vis int32, maxRecv int32, moved *[]*message) []taken {
	if !q.fifo {
		for len(dst) < limit {
			m := q.ready.pop()
			if m == nil {
				break
			}
			if m.state != stReady {
				continue // stale entry of a deleted message
			}
			if maxRecv > 0 && m.recvCount >= maxRecv {
				q.remove(m)
				*moved = append(*moved, m)
				continue
			}
			dst = append(dst, q.lease(m, now, vis))
		}
		return dst
	}
	w := 0
	for _, g := range q.groupList {
		if len(g.msgs) == 0 {
			delete(q.groups, g.id)
			continue
		}
		q.groupList[w] = g
		w++
		if g.inflight > 0 {
			continue // group locked
		}
		for i := 0; i < len(g.msgs) && len(dst) < limit; {
			m := g.msgs[i]
			if m.state != stReady {
				break
			}
			if maxRecv > 0 && m.recvCount >= maxRecv {
				q.remove(m) // shifts g.msgs
				*moved = append(*moved, m)
				continue
			}
			dst = append(dst, q.lease(m, now, vis))
			i++
		}
	}
	clear(q.groupList[w:])
	q.groupList = q.groupList[:w]
	return dst
}

// deadLetter puts messages removed from src into the dead-letter queue, keeping their id, body,
// attributes, sent time and group; their receive count starts again at 0.
func (dlq *queue) deadLetter(src *queue, moved []*message, now int64) {
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	if dlq.deleted {
		return
	}
	for _, m := range moved {
		nm := &message{id: m.id, body: m.body, md5Body: m.md5Body, md5Attrs: m.md5Attrs, attrs: m.attrs,
			sent: m.sent, groupID: m.groupID, dedupID: m.dedupID, dlqSource: src.arn}
		if dlq.fifo {
			if nm.groupID == "" {
				nm.groupID = "dead-letter"
			}
			nm.seqNum = dlq.nextSequenceNumber()
		}
		dlq.enqueue(nm, 0, now)
	}
}

// System attribute selection bits.
const (
	sysSenderID = 1 << iota
	sysSentTimestamp
	sysReceiveCount
	sysFirstReceive
	sysSequenceNumber
	sysDedupID
	sysGroupID
	sysDLQSource
	sysAll = 1<<iota - 1
)

func systemSelection(names []sqstypes.MessageSystemAttributeName, legacy []sqstypes.QueueAttributeName) int {
	sel := 0
	add := func(n string) {
		switch n {
		case "All":
			sel |= sysAll
		case "SenderId":
			sel |= sysSenderID
		case "SentTimestamp":
			sel |= sysSentTimestamp
		case "ApproximateReceiveCount":
			sel |= sysReceiveCount
		case "ApproximateFirstReceiveTimestamp":
			sel |= sysFirstReceive
		case "SequenceNumber":
			sel |= sysSequenceNumber
		case "MessageDeduplicationId":
			sel |= sysDedupID
		case "MessageGroupId":
			sel |= sysGroupID
		case "DeadLetterQueueSourceArn":
			sel |= sysDLQSource
		}
	}
	for _, n := range names {
		add(string(n))
	}
	for _, n := range legacy {
		add(string(n))
	}
	return sel
}

// attrFilter selects message attributes by MessageAttributeNames: "All", ".*", "prefix.*" or names.
type attrFilter struct {
	all   bool
	names []string
}

func (f *attrFilter) keep(name string) bool {
	if f.all {
		return true
	}
	for _, n := range f.names {
		if n == name || (strings.HasSuffix(n, ".*") && strings.HasPrefix(name, n[:len(n)-1])) {
			return true
		}
	}
	return false
}

func millis(nanos int64) string { return strconv.FormatInt(nanos/1e6, 10) }

// ReceiveMessage receives up to MaxNumberOfMessages (1–10) messages, long polling for up to
// WaitTimeSeconds (or the queue's ReceiveMessageWaitTimeSeconds) until at least one is visible. A poll
// that ends because ctx is done or the backend closed returns an error and has taken nothing. Each
// receive issues a new receipt handle and increments ApproximateReceiveCount; a message that has
// already been received maxReceiveCount times (redrive policy) is moved to the dead-letter queue instead.
func (c *SQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	const op = "ReceiveMessage"
	if in == nil {
		in = &sqs.ReceiveMessageInput{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	b := c.b
	q, err := b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	limit := int(in.MaxNumberOfMessages)
	if limit == 0 {
		limit = 1
	}
	if limit < 1 || limit > maxBatchEntries {
		return nil, sqsErr(op, invalidValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", limit))
	}
	if in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > maxWait {
		return nil, sqsErr(op, invalidValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", in.WaitTimeSeconds))
	}
	if in.VisibilityTimeout < 0 || in.VisibilityTimeout > maxVisibility {
		return nil, sqsErr(op, invalidValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", in.VisibilityTimeout))
	}

	// Resolve the dead-letter queue before taking q's lock (lock order: Backend.mu, then a queue).
	var dlq *queue
	var maxRecv int32
	if rp := q.redrive.Load(); rp != nil {
		if dlq = b.queueByARN(rp.deadLetterARN); dlq != nil && dlq != q {
			maxRecv = rp.maxReceiveCount
		}
	}

	var buf [maxBatchEntries]taken
	var moved []*message
	var deadline, expiry *time.Timer
	defer func() {
		if deadline != nil {
			deadline.Stop()
		}
		if expiry != nil {
			expiry.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if q.deleted {
			q.mu.Unlock()
			return nil, sqsErr(op, errNoQueue())
		}
		if err := ctx.Err(); err != nil {
			q.mu.Unlock()
			return nil, sqsErr(op, err)
		}
		now := b.nowNano()
		q.advance(now)
		vis := in.VisibilityTimeout
		if vis == 0 {
			vis = q.cfg.visibility
		}
		got := q.take(buf[:0], limit, now, vis, maxRecv, &moved)
		if len(got) == 0 && deadline == nil {
			wait := in.WaitTimeSeconds
			if wait == 0 {
				wait = q.cfg.wait
			}
			if wait > 0 {
				deadline = time.NewTimer(time.Duration(wait) * time.Second)
			}
		}
		if len(got) > 0 || deadline == nil {
			q.mu.Unlock()
			if len(moved) > 0 {
				dlq.deadLetter(q, moved, now)
			}
			return &sqs.ReceiveMessageOutput{Messages: c.build(q, got, in)}, nil
		}
		next := q.nextEvent()
		ch := q.waitChan()
		q.mu.Unlock()
		if len(moved) > 0 {
			dlq.deadLetter(q, moved, now)
			moved = moved[:0]
		}

		var expiryC <-chan time.Time
		if next > 0 {
			d := max(time.Duration(next-b.nowNano()), time.Millisecond)
			if expiry == nil {
				expiry = time.NewTimer(d)
			} else {
				expiry.Reset(d)
			}
			expiryC = expiry.C
		}
		select {
		case <-ch:
		case <-expiryC:
		case <-deadline.C:
			return &sqs.ReceiveMessageOutput{Messages: []sqstypes.Message{}}, nil
		case <-ctx.Done():
			return nil, sqsErr(op, ctx.Err())
		case <-b.done:
			return nil, sqsErr(op, ErrClosed)
		}
	}
}

// build turns received messages into the SDK's shape (outside the queue's lock).
func (c *SQS) build(q *queue, got []taken, in *sqs.ReceiveMessageInput) []sqstypes.Message {
	out := make([]sqstypes.Message, len(got))
	if len(got) == 0 {
		return out
	}
	//lint:ignore SA1019 SQS still honours the deprecated AttributeNames, so the emulation does too.
	sel := systemSelection(in.MessageSystemAttributeNames, in.AttributeNames)
	var filter attrFilter
	for _, n := range in.MessageAttributeNames {
		if n == "All" || n == ".*" {
			filter.all = true
		}
	}
	if !filter.all {
		filter.names = in.MessageAttributeNames
	}
	type strs struct{ id, body, md5Body, md5Attrs, handle string }
	ss := make([]strs, len(got))
	for i, t := range got {
		m := t.m
		s := &ss[i]
		s.id, s.body, s.md5Body = m.id, m.body, m.md5Body
		s.handle = q.makeHandle(m.key, t.nonce)
		msg := &out[i]
		msg.MessageId, msg.Body, msg.MD5OfBody, msg.ReceiptHandle = &s.id, &s.body, &s.md5Body, &s.handle
		if len(m.attrs) > 0 && (filter.all || len(filter.names) > 0) {
			keep := filter.keep
			if filter.all {
				keep = nil
			}
			if attrs, n := m.attrs.toSDK(keep); n > 0 {
				msg.MessageAttributes = attrs
				if n == len(m.attrs) {
					s.md5Attrs = m.md5Attrs
				} else {
					s.md5Attrs = attributesMD5(m.attrs, keep)
				}
				msg.MD5OfMessageAttributes = &s.md5Attrs
			}
		}
		if sel != 0 {
			a := make(map[string]string, 4)
			if sel&sysSenderID != 0 {
				a["SenderId"] = c.b.account
			}
			if sel&sysSentTimestamp != 0 {
				a["SentTimestamp"] = millis(t.sent)
			}
			if sel&sysReceiveCount != 0 {
				a["ApproximateReceiveCount"] = strconv.Itoa(int(t.count))
			}
			if sel&sysFirstReceive != 0 {
				a["ApproximateFirstReceiveTimestamp"] = millis(t.first)
			}
			if sel&sysSequenceNumber != 0 && m.seqNum != "" {
				a["SequenceNumber"] = m.seqNum
			}
			if sel&sysDedupID != 0 && m.dedupID != "" {
				a["MessageDeduplicationId"] = m.dedupID
			}
			if sel&sysGroupID != 0 && m.groupID != "" {
				a["MessageGroupId"] = m.groupID
			}
			if sel&sysDLQSource != 0 && m.dlqSource != "" {
				a["DeadLetterQueueSourceArn"] = m.dlqSource
			}
			msg.Attributes = a
		}
	}
	return out
}
