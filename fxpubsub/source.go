package fxpubsub

import (
	"context"
	"time"
)

// MessageSource hands the engine batches of decoded messages: an SQS queue ([Consumer.Source]),
// a replay ([ReplayReader.Source]) or the records of an AWS Lambda invocation (package fxlambda).
// The same dispatcher, results, result log line, telemetry, Sentry reporting, hop TTL and FIFO
// group rules apply to the messages of every source; each message carries the [Settler] that
// settles it.
type MessageSource interface {
	// Receive returns at most limit messages (1–10), waiting as the source does (a long poll, a
	// read). It may return none. Messages that cannot be decoded are returned too, with Err set.
	Receive(ctx context.Context, limit int) ([]*Message, error)
	// EndOfInput reports whether the source has handed out its last message (a replay at the end
	// of its input): the [Daemon] then finishes what it holds and stops by itself. A queue never
	// ends.
	EndOfInput() bool
}

// Settler settles messages: it deletes them, makes them visible again after a delay, or extends
// their visibility. The consumer settles call by call, the daemon in batches, a replay counts,
// and on AWS Lambda a failure is reported in the batch response.
type Settler interface {
	// Ack deletes m from its queue.
	Ack(ctx context.Context, m *Message) error
	// Nack makes m visible again after timeout (0: at once), so it is redelivered.
	Nack(ctx context.Context, m *Message, timeout time.Duration) error
	// Extend keeps m invisible for timeout more, from now, while it is being handled.
	Extend(ctx context.Context, m *Message, timeout time.Duration) error
}

// namedSource is a source that names itself in logs and telemetry (the queue name).
type namedSource interface{ Name() string }

// sourceName is src's name, or "" when it gives none.
func sourceName(src MessageSource) string {
	if n, ok := src.(namedSource); ok {
		return n.Name()
	}
	return ""
}

// Source returns the consumer's queue as a message source whose messages s settles: each Receive
// is one ReceiveMessage call with the consumer's wait. The payload of a large message is fetched
// from S3 when the message is handled ([Dispatcher.Handle]), not in Receive. The daemon settles in batches this way;
// [Consumer.Consume] uses a settler that makes one call per message.
func (c *Consumer) Source(s Settler) MessageSource { return &queueSource{c: c, s: s} }

type queueSource struct {
	c *Consumer
	s Settler
}

func (q *queueSource) Receive(ctx context.Context, limit int) ([]*Message, error) {
	return q.c.receive(ctx, limit, q.s, q.c.opts.Wait, true)
}

func (q *queueSource) EndOfInput() bool { return false }

func (q *queueSource) Name() string { return queueName(q.c.queue) }
