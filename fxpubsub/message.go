package fxpubsub

import (
	"context"
	"errors"
	"runtime/debug"
	"time"
)

// Message is one message received from SQS.
type Message struct {
	// MediaType is the message's media type ("" when the body could not be read at all).
	MediaType string
	// Content is the decoded content, a pointer to the schema's type (see [ContentAs]); nil when
	// Err is set.
	Content any
	// Opaque is the message's opaqueData as received: keys exactly as on the wire, values with
	// their JSON types (see [Opaque]). A handler's [OpaqueFrom] is its case-folded form plus the
	// library's keys.
	Opaque Opaque
	// URI is the message's "uri" field, if any.
	URI string
	// MessageID is the SQS message id (the id a handler sees; the SNS id never reaches consumers).
	MessageID string
	// ReceiptHandle identifies this receive of the message for ack/nack.
	ReceiptHandle string
	// ReceiveCount is SQS's ApproximateReceiveCount (1 on first delivery).
	ReceiveCount int
	// SentAt is when SQS accepted the message (zero if unknown: a consumer asks SQS for it only
	// with [ConsumerOptions].SentTimestamp; a replay sets it).
	SentAt time.Time
	// MessageGroupID is the FIFO message group (asked for on FIFO queues only; "" on standard
	// queues, fair-queue groups included).
	MessageGroupID string
	// TopicARN is the SNS topic of an envelope-delivered message ("" for raw delivery).
	TopicARN string
	// SNSMessageID is the id SNS gave the message (what Producer.Produce returned), read from the
	// envelope ("" for raw delivery).
	SNSMessageID string
	// Body is the SQS body as received.
	Body []byte
	// Err is why the message could not be decoded (a *DecodeError), or nil. Such a message still
	// has a receipt handle: nack it so the queue's redrive policy can dead-letter it.
	Err error

	settler Settler
	backoff BackoffPolicy   // nil: the default policy
	payload *PayloadPointer // the S3 payload it was read from, if any
	pending *pendingPayload // a pointer not fetched yet (the daemon fetches in its workers)
}

// ContentAs returns the content as *T when it has that type.
func ContentAs[T any](m *Message) (*T, bool) {
	v, ok := m.Content.(*T)
	return v, ok
}

// ErrNoSettler is what Ack, Nack, NackBackoff and Extend return for a message that no source
// delivered (a *Message built by hand, say in a test): there is no queue to settle it with.
var ErrNoSettler = errors.New("message has no settler: it was not received from a queue or source")

// Ack deletes the message from the queue.
func (m *Message) Ack(ctx context.Context) error {
	if m.settler == nil {
		return ErrNoSettler
	}
	return m.settler.Ack(ctx, m)
}

// Nack makes the message visible again after timeout (0: at once), so it is redelivered.
func (m *Message) Nack(ctx context.Context, timeout time.Duration) error {
	if m.settler == nil {
		return ErrNoSettler
	}
	return m.settler.Nack(ctx, m, timeout)
}

// NackBackoff makes the message visible again after the backoff policy's timeout for its receive
// count (see [Message.Backoff]).
func (m *Message) NackBackoff(ctx context.Context) error {
	return m.Nack(ctx, m.Backoff())
}

// Extend keeps the message invisible for timeout more, from now: a handler that knows it will
// take long can ask for time itself (the daemon's heartbeat does it for every handler).
func (m *Message) Extend(ctx context.Context, timeout time.Duration) error {
	if m.settler == nil {
		return ErrNoSettler
	}
	return m.settler.Extend(ctx, m, timeout)
}

// Backoff returns the visibility timeout the backoff policy of the message's decoder gives it
// for its receive count: what a FAILED message gets.
func (m *Message) Backoff() time.Duration {
	b := m.backoff
	if b == nil {
		b = defaultBackoff()
	}
	return b.Backoff(m.ReceiveCount)
}

// Process runs fn for the message and settles it the way the dispatcher would: it acks when fn
// returns nil, *SkipMessage, *IgnoreMessage or *TTLExpired; nacks after the *Nack's timeout for a
// *Nack; and nacks by the backoff policy for any other error or a panic (returned as *PanicError).
// A message that could not be decoded is nacked by the backoff policy without calling fn. It returns
// fn's error (or the decode error) joined with any error from settling. This is the Go form of the
// original's "messages act as context managers".
func (m *Message) Process(ctx context.Context, fn func(ctx context.Context, m *Message) error) (err error) {
	if m.Err != nil {
		return errors.Join(m.Err, m.NackBackoff(ctx))
	}
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
			err = errors.Join(err, m.NackBackoff(ctx))
		}
	}()
	herr := fn(ctx, m)
	var nack *Nack
	switch {
	case herr == nil:
		return m.Ack(ctx)
	case errors.As(herr, &nack):
		return errors.Join(herr, m.Nack(ctx, nack.Timeout))
	case isDeleteOutcome(herr):
		return errors.Join(herr, m.Ack(ctx))
	default:
		return errors.Join(herr, m.NackBackoff(ctx))
	}
}

func isDeleteOutcome(err error) bool {
	var (
		skip   *SkipMessage
		ignore *IgnoreMessage
		ttl    *TTLExpired
	)
	return errors.As(err, &skip) || errors.As(err, &ignore) || errors.As(err, &ttl)
}
