package fxpubsub

import (
	"context"
	"fmt"
	"strconv"
	"time"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// DecoderOptions configure a [Decoder]; zero values mean defaults.
type DecoderOptions struct {
	// Envelope says how bodies are read (default [EnvelopeCodec]).
	Envelope Envelope
	// EnvelopeChecks guard against forged SNS envelopes (codec envelope only; default: none). A
	// body they refuse is decoded into a message with Err set, never into content.
	EnvelopeChecks EnvelopeChecks
	// Backoff decides the visibility timeout of a FAILED message and of [Message.NackBackoff]
	// (default NaiveBackoff{5 s}).
	Backoff BackoffPolicy
	// LargePayloads resolves S3 pointers of large messages (section large_payload; default nil: a
	// pointer message is FAILED with a *PayloadError).
	LargePayloads *PayloadStore
}

// Record is one received message as every source sees it, before decoding: what the SQS API,
// a replay line and an AWS Lambda SQS event record all carry.
type Record struct {
	// MessageID is the SQS message id.
	MessageID string
	// ReceiptHandle identifies this receive of the message for settling.
	ReceiptHandle string
	// Body is the SQS body: an SNS notification, or the message JSON with raw delivery.
	Body []byte
	// Attributes are SQS system attributes by name; ApproximateReceiveCount, SentTimestamp (epoch
	// milliseconds) and MessageGroupId are read, the rest ignored.
	Attributes map[string]string
	// MessageAttributes are the message attributes' string values by name; only the large-payload
	// size attributes (ExtendedPayloadSize, SQSLargePayloadSize) are read.
	MessageAttributes map[string]string
}

// Decoder builds a [*Message] from a [Record]: the one way a received body becomes a message,
// whichever source it came from (the SQS daemon, a replay, AWS Lambda). It is safe for concurrent
// use.
type Decoder struct {
	registry *SchemaRegistry
	opts     DecoderOptions
	guard    *envelopeGuard // nil: no envelope checks
}

// NewDecoder returns a decoder of bodies whose schemas are in registry (which only the raw
// envelope may leave nil).
func NewDecoder(registry *SchemaRegistry, opts DecoderOptions) (*Decoder, error) {
	if opts.Envelope == "" {
		opts.Envelope = EnvelopeCodec
	}
	if _, err := ParseEnvelope(string(opts.Envelope)); err != nil {
		return nil, fmt.Errorf("sqs_envelope.strategy_name: %w", err)
	}
	if opts.Backoff == nil {
		opts.Backoff = defaultBackoff()
	}
	if opts.EnvelopeChecks.enabled() && opts.Envelope != EnvelopeCodec {
		return nil, fmt.Errorf("sqs_envelope: allowed_topic_arns, require_envelope and verify_signatures apply to the codec envelope only, not %q", opts.Envelope)
	}
	return &Decoder{registry: registry, opts: opts, guard: newEnvelopeGuard(opts.EnvelopeChecks)}, nil
}

// defaultBackoff is the backoff policy when none is configured: the original's 5 s.
func defaultBackoff() BackoffPolicy {
	return NaiveBackoff{Timeout: defaultRetryVisibilityTimeoutSeconds * time.Second}
}

// Options returns the decoder's effective options.
func (d *Decoder) Options() DecoderOptions { return d.opts }

// Decode builds the message of rec, settled by s. It never fails: a body that cannot be decoded
// gives a message with Err set (a *DecodeError), which the dispatcher reports FAILED, so one bad
// message never hides the others. ctx bounds envelope signature checks.
func (d *Decoder) Decode(ctx context.Context, rec Record, s Settler) *Message {
	return d.decode(ctx, rec, s, false)
}

// decode is [Decoder.Decode]; with lazy, a large-message pointer is fetched only when the message
// is handled (see [Decoder.decodeBody]).
func (d *Decoder) decode(ctx context.Context, rec Record, s Settler, lazy bool) *Message {
	m := &Message{
		MessageID:     rec.MessageID,
		ReceiptHandle: rec.ReceiptHandle,
		ReceiveCount:  1,
		Body:          rec.Body,
		settler:       s,
		backoff:       d.opts.Backoff,
	}
	if v, ok := rec.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			m.ReceiveCount = n
		}
	}
	if v, ok := rec.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)]; ok {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			m.SentAt = time.UnixMilli(ms)
		}
	}
	m.MessageGroupID = rec.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]
	dec, sns, err := d.decodeBody(ctx, rec, m, lazy)
	m.setDecoded(dec, err)
	m.TopicARN, m.SNSMessageID = sns.topicARN, sns.messageID
	return m
}

// setDecoded fills in what decoding gave.
func (m *Message) setDecoded(dec Decoded, err error) {
	m.MediaType, m.Content, m.Opaque, m.URI, m.Err = dec.MediaType, dec.Content, dec.Opaque, dec.URI, err
	if m.Opaque == nil {
		m.Opaque = Opaque{}
	}
}
