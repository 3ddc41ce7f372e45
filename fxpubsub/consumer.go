package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ErrNoQueue reports a consumer with no queue configured (sqs_consumer.sqs_queue_url).
var ErrNoQueue = errors.New("sqs_consumer.sqs_queue_url: is required (a queue URL or name)")

// ConsumerOptions are the consumer's settings; the zero value of each field means its default.
type ConsumerOptions struct {
	// Limit is MaxNumberOfMessages per receive, 1–10 (default 10).
	Limit int
	// Wait is the long-poll wait per receive, 0–20 s (default 20 s).
	Wait time.Duration
	// WaitSet makes a zero Wait mean short polling instead of the default.
	WaitSet bool
	// VisibilityTimeout overrides the queue's visibility timeout on receive (0: the queue's).
	VisibilityTimeout time.Duration
	// Envelope says how bodies are read (default [EnvelopeCodec]).
	Envelope Envelope
	// Backoff decides nack timeouts for failures (default NaiveBackoff{5 s}).
	Backoff BackoffPolicy
	// EnvelopeChecks guard against forged SNS envelopes (codec envelope only; default: none). A
	// body they refuse is returned with Err set, never decoded.
	EnvelopeChecks EnvelopeChecks
	// LargePayloads resolves large-message pointers (section large_payload; default nil: a pointer
	// is FAILED with a *PayloadError).
	LargePayloads *PayloadStore
	// SentTimestamp asks SQS for each message's SentTimestamp, so that [Message.SentAt] is set
	// (default off: like the original, a receive asks only for what the library reads, which is
	// ApproximateReceiveCount, and MessageGroupId on FIFO queues).
	SentTimestamp bool
}

// Consumer receives messages from one SQS queue (the original's sqs_consumer).
type Consumer struct {
	client  SQSClient
	decoder *Decoder
	opts    ConsumerOptions
	queue   string // URL or name as configured

	mu  sync.Mutex
	url string // resolved URL
}

// NewConsumer returns a consumer for queue, which is a queue URL or a queue name (resolved with
// GetQueueUrl on first use).
func NewConsumer(client SQSClient, registry *SchemaRegistry, queue string, opts ConsumerOptions) (*Consumer, error) {
	if strings.TrimSpace(queue) == "" {
		return nil, ErrNoQueue
	}
	if opts.Limit == 0 {
		opts.Limit = defaultLimit
	}
	if opts.Limit < 1 || opts.Limit > 10 {
		return nil, fmt.Errorf("sqs_consumer.limit: must be between 1 and 10, got %d", opts.Limit)
	}
	if opts.Wait == 0 && !opts.WaitSet {
		opts.Wait = defaultWaitSeconds * time.Second
	}
	if opts.Wait < 0 || opts.Wait > 20*time.Second {
		return nil, fmt.Errorf("sqs_consumer.wait_seconds: must be between 0 and 20, got %v", opts.Wait.Seconds())
	}
	dec, err := NewDecoder(registry, DecoderOptions{Envelope: opts.Envelope, EnvelopeChecks: opts.EnvelopeChecks, Backoff: opts.Backoff, LargePayloads: opts.LargePayloads})
	if err != nil {
		return nil, err
	}
	do := dec.Options()
	opts.Envelope, opts.Backoff = do.Envelope, do.Backoff
	c := &Consumer{client: client, decoder: dec, opts: opts, queue: queue}
	if strings.Contains(queue, "://") {
		c.url = queue
	}
	return c, nil
}

// QueueURL returns the queue's URL, resolving a configured queue name on first use.
func (c *Consumer) QueueURL(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.url != "" {
		return c.url, nil
	}
	out, err := c.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(c.queue)})
	if err != nil {
		return "", fmt.Errorf("resolve queue %q: %w", c.queue, err)
	}
	c.url = aws.ToString(out.QueueUrl)
	return c.url, nil
}

// Options returns the consumer's effective options.
func (c *Consumer) Options() ConsumerOptions { return c.opts }

// Decoder returns the decoder the consumer builds its messages with.
func (c *Consumer) Decoder() *Decoder { return c.decoder }

// Client returns the consumer's SQS client.
func (c *Consumer) Client() SQSClient { return c.client }

// Consume makes one ReceiveMessage call (long polling up to the configured wait) and returns every
// message received, possibly none. A message that cannot be decoded is returned too, with Err set:
// one bad message never hides the others.
func (c *Consumer) Consume(ctx context.Context) ([]*Message, error) {
	return c.receive(ctx, c.opts.Limit, callSettler{c}, c.opts.Wait, false)
}

// receiveAttributes are the system attributes a receive from url asks for: ApproximateReceiveCount
// (the backoff and the attempt limit read it), MessageGroupId on a FIFO queue (the daemon keeps
// a group's order with it) and SentTimestamp when asked for. Each one asked for costs the client
// its deserialisation on every message.
func (c *Consumer) receiveAttributes(url string) []sqstypes.MessageSystemAttributeName {
	attrs := make([]sqstypes.MessageSystemAttributeName, 1, 3)
	attrs[0] = sqstypes.MessageSystemAttributeNameApproximateReceiveCount
	if isFIFO(url) {
		attrs = append(attrs, sqstypes.MessageSystemAttributeNameMessageGroupId)
	}
	if c.opts.SentTimestamp {
		attrs = append(attrs, sqstypes.MessageSystemAttributeNameSentTimestamp)
	}
	return attrs
}

// receive makes one ReceiveMessage call and decodes what it returns; with lazy, large-message
// payloads are fetched when each message is handled (the daemon's source), not here.
func (c *Consumer) receive(ctx context.Context, limit int, s Settler, wait time.Duration, lazy bool) ([]*Message, error) {
	url, err := c.QueueURL(ctx)
	if err != nil {
		return nil, err
	}
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         int32(min(max(limit, 1), 10)),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: c.receiveAttributes(url),
	}
	if c.opts.LargePayloads != nil {
		// The large-payload size attributes (without a store, a pointer body is still recognised
		// and FAILED with a *PayloadError).
		in.MessageAttributeNames = sizeAttributeNames
	}
	if c.opts.VisibilityTimeout > 0 {
		in.VisibilityTimeout = visibilitySeconds(c.opts.VisibilityTimeout)
	}
	out, err := c.client.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", url, err)
	}
	msgs := make([]*Message, len(out.Messages))
	for i := range out.Messages {
		raw := &out.Messages[i]
		msgs[i] = c.decoder.decode(ctx, Record{
			MessageID: aws.ToString(raw.MessageId), ReceiptHandle: aws.ToString(raw.ReceiptHandle),
			Body: []byte(aws.ToString(raw.Body)), Attributes: raw.Attributes,
			MessageAttributes: sizeAttributes(raw.MessageAttributes),
		}, s, lazy)
	}
	return msgs, nil
}

// sizeAttributes returns the large-payload size attributes among attrs, the only message
// attributes a Record's reader looks at, or nil when there are none: a server that sends
// attributes nobody asked for (fauxqs sends them all) costs no map per message.
func sizeAttributes(attrs map[string]sqstypes.MessageAttributeValue) map[string]string {
	var out map[string]string
	for _, name := range sizeAttributeNames {
		if v, ok := attrs[name]; ok && v.StringValue != nil {
			if out == nil {
				out = make(map[string]string, 1)
			}
			out[name] = *v.StringValue
		}
	}
	return out
}

// callSettler settles the messages of [Consumer.Consume] with one SQS call each.
type callSettler struct{ c *Consumer }

// Ack deletes one message.
func (s callSettler) Ack(ctx context.Context, m *Message) error {
	url, err := s.c.QueueURL(ctx)
	if err != nil {
		return err
	}
	_, err = s.c.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(m.ReceiptHandle)})
	if err != nil {
		return fmt.Errorf("ack message %s: %w", m.MessageID, err)
	}
	s.c.opts.LargePayloads.payloadAcked(ctx, m.payload, nil)
	return nil
}

// Nack changes one message's visibility.
func (s callSettler) Nack(ctx context.Context, m *Message, timeout time.Duration) error {
	url, err := s.c.QueueURL(ctx)
	if err != nil {
		return err
	}
	if err := changeVisibility(ctx, s.c.client, url, m, timeout); err != nil {
		return fmt.Errorf("nack message %s: %w", m.MessageID, err)
	}
	return nil
}

// Extend changes one message's visibility.
func (s callSettler) Extend(ctx context.Context, m *Message, timeout time.Duration) error {
	url, err := s.c.QueueURL(ctx)
	if err != nil {
		return err
	}
	if err := changeVisibility(ctx, s.c.client, url, m, timeout); err != nil {
		return fmt.Errorf("extend message %s: %w", m.MessageID, err)
	}
	return nil
}

// changeVisibility makes one ChangeMessageVisibility call for m.
func changeVisibility(ctx context.Context, client SQSClient, queueURL string, m *Message, timeout time.Duration) error {
	_, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: visibilitySeconds(timeout),
	})
	return err
}
