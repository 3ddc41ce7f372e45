package pubsubmem

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// A receipt handle is "<backend tag>.<queue id>.<message key>.<receive nonce>" (hex numbers): it names
// the message and the receive that issued it, so only the latest receive's handle acts on a message.

func (q *queue) makeHandle(key, nonce uint64) string {
	var buf [64]byte
	b := append(buf[:0], q.b.tag...)
	b = append(b, '.')
	b = strconv.AppendUint(b, q.id, 16)
	b = append(b, '.')
	b = strconv.AppendUint(b, key, 16)
	b = append(b, '.')
	b = strconv.AppendUint(b, nonce, 16)
	return string(b)
}

type handleStatus uint8

const (
	handleInvalid handleStatus = iota // not a handle this queue issued
	handleGone                        // its message was deleted, purged or dead-lettered
	handleStale                       // its message was received again since
	handleLatest                      // the latest handle of a live message
)

// resolve looks a receipt handle up; q.mu must be held.
func (q *queue) resolve(h *string) (*message, handleStatus) {
	if h == nil {
		return nil, handleInvalid
	}
	rest, ok := strings.CutPrefix(*h, q.b.tag+".")
	if !ok {
		return nil, handleInvalid
	}
	var parts [3]uint64
	for i := range parts {
		field, tail, _ := strings.Cut(rest, ".")
		n, err := strconv.ParseUint(field, 16, 64)
		if err != nil {
			return nil, handleInvalid
		}
		parts[i], rest = n, tail
	}
	if rest != "" || parts[0] != q.id || parts[1] == 0 || parts[1] > q.nextKey || parts[2] == 0 || parts[2] > q.nextNonce {
		return nil, handleInvalid
	}
	m := q.msgs.get(parts[1])
	switch {
	case m == nil:
		return nil, handleGone
	case m.nonce != parts[2]:
		return m, handleStale
	}
	return m, handleLatest
}

func errBadHandle(h *string) error {
	return &sqstypes.ReceiptHandleIsInvalid{Message: aws.String("The input receipt handle \"" + aws.ToString(h) + "\" is not a valid receipt handle.")}
}

// deleteLocked deletes by receipt handle. As on AWS, a handle of an already deleted message succeeds,
// and so does an older handle of a message received again since — without deleting it (only the
// latest receive's handle deletes).
func (q *queue) deleteLocked(h *string) error {
	m, st := q.resolve(h)
	switch st {
	case handleInvalid:
		return errBadHandle(h)
	case handleLatest:
		q.remove(m)
	}
	return nil
}

// DeleteMessage deletes a received message by its receipt handle.
func (c *SQS) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	const op = "DeleteMessage"
	if in == nil {
		in = &sqs.DeleteMessageInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	if in.ReceiptHandle == nil {
		return nil, sqsErr(op, missingParam("ReceiptHandle"))
	}
	if err := q.live(c.b.nowNano(), func(int64) error { return q.deleteLocked(in.ReceiptHandle) }); err != nil {
		return nil, sqsErr(op, err)
	}
	return &sqs.DeleteMessageOutput{}, nil
}

// DeleteMessageBatch deletes up to 10 messages; each entry succeeds or fails on its own.
func (c *SQS) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	const op = "DeleteMessageBatch"
	if in == nil {
		in = &sqs.DeleteMessageBatchInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	if err := checkBatch(len(in.Entries), func(i int) *string { return in.Entries[i].Id }); err != nil {
		return nil, sqsErr(op, err)
	}
	var errs [maxBatchEntries]error
	if err := q.live(c.b.nowNano(), func(int64) error {
		for i := range in.Entries {
			errs[i] = q.deleteLocked(in.Entries[i].ReceiptHandle)
		}
		return nil
	}); err != nil {
		return nil, sqsErr(op, err)
	}
	out := &sqs.DeleteMessageBatchOutput{Successful: make([]sqstypes.DeleteMessageBatchResultEntry, 0, len(in.Entries)), Failed: []sqstypes.BatchResultErrorEntry{}}
	for i, e := range in.Entries {
		if errs[i] != nil {
			out.Failed = append(out.Failed, failure(e.Id, errs[i]))
		} else {
			out.Successful = append(out.Successful, sqstypes.DeleteMessageBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

// changeVisibilityLocked implements ChangeMessageVisibility for one handle.
func (q *queue) changeVisibilityLocked(h *string, vis int32, now int64) error {
	if vis < 0 || vis > maxVisibility {
		return invalidValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", vis)
	}
	m, st := q.resolve(h)
	switch st {
	case handleInvalid:
		return errBadHandle(h)
	case handleGone, handleStale:
		return invalidValue("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", aws.ToString(h))
	}
	if m.state != stInflight {
		return &sqstypes.MessageNotInflight{Message: aws.String("The message referred to isn't in flight.")}
	}
	if now+int64(vis)*1e9 > m.lastRecv+int64(maxVisibility)*1e9 {
		return invalidValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].", vis)
	}
	if vis == 0 {
		q.inflight.remove(m.hidx)
		if m.group != nil {
			m.group.inflight--
		}
		q.makeReady(m)
		q.signal()
		return nil
	}
	m.visibleAt = now + int64(vis)*1e9
	q.inflight.fix(m.hidx)
	return nil
}

// ChangeMessageVisibility sets how long from now an in-flight message stays invisible (0: visible now).
func (c *SQS) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	const op = "ChangeMessageVisibility"
	if in == nil {
		in = &sqs.ChangeMessageVisibilityInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	if in.ReceiptHandle == nil {
		return nil, sqsErr(op, missingParam("ReceiptHandle"))
	}
	if err := q.live(c.b.nowNano(), func(now int64) error {
		return q.changeVisibilityLocked(in.ReceiptHandle, in.VisibilityTimeout, now)
	}); err != nil {
		return nil, sqsErr(op, err)
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// ChangeMessageVisibilityBatch changes the visibility of up to 10 messages; each entry succeeds or
// fails on its own.
func (c *SQS) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	const op = "ChangeMessageVisibilityBatch"
	if in == nil {
		in = &sqs.ChangeMessageVisibilityBatchInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	if err := checkBatch(len(in.Entries), func(i int) *string { return in.Entries[i].Id }); err != nil {
		return nil, sqsErr(op, err)
	}
	var errs [maxBatchEntries]error
	if err := q.live(c.b.nowNano(), func(now int64) error {
		for i, e := range in.Entries {
			errs[i] = q.changeVisibilityLocked(e.ReceiptHandle, e.VisibilityTimeout, now)
		}
		return nil
	}); err != nil {
		return nil, sqsErr(op, err)
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{Successful: make([]sqstypes.ChangeMessageVisibilityBatchResultEntry, 0, len(in.Entries)), Failed: []sqstypes.BatchResultErrorEntry{}}
	for i, e := range in.Entries {
		if errs[i] != nil {
			out.Failed = append(out.Failed, failure(e.Id, errs[i]))
		} else {
			out.Successful = append(out.Successful, sqstypes.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
		}
	}
	return out, nil
}

// live runs fn under the queue's lock with its clock advanced to now, or fails with
// QueueDoesNotExist when the queue was deleted.
func (q *queue) live(now int64, fn func(now int64) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return errNoQueue()
	}
	q.advance(now)
	return fn(now)
}
