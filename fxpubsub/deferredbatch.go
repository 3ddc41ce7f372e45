package fxpubsub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// DefaultDeferredBatchSize is the number of messages per batch message of [Producer.DeferredBatch]
// (sns_producer.deferred_batch_size).
const DefaultDeferredBatchSize = 100

// DeferredBatchOption configures one [Producer.DeferredBatch] call.
type DeferredBatchOption func(*deferredBatchOptions)

type deferredBatchOptions struct {
	size int
}

// DeferredBatchSize sets how many messages go into one batch message (default: the producer's
// sns_producer.deferred_batch_size, 100). Values below 1 are ignored.
func DeferredBatchSize(n int) DeferredBatchOption {
	return func(o *deferredBatchOptions) {
		if n >= 1 {
			o.size = n
		}
	}
}

// DeferredBatch is [Producer.Deferred] that publishes the buffer as batch messages, the original's
// DeferredBatchProducer: if fn returns nil, the buffered messages are split, in order, into blocks
// of at most [DeferredBatchSize] messages (default 100) whose batch message stays within the SNS
// limit of [MaxMessageSize]. A block of several messages is published as one
// [BatchMessageMediaType] message (a [BatchMessage] listing each message exactly as it would have
// been published), which a batch republisher handler (package handlers) turns back into the
// individual messages; a block of one message is published directly. If fn returns an error or
// panics, nothing is published.
//
// The batch media type never falls back to sns_topic_arns.default: it needs an explicit mapping
// (sns_topic_arns.mappings). When a block of several messages has no topic, nothing at all is
// published and the *TopicNotDefinedError is returned. Publish errors of individual blocks are
// joined; blocks that were published stay published.
func (p *Producer) DeferredBatch(ctx context.Context, fn func(ctx context.Context, d *Deferred) error, opts ...DeferredBatchOption) error {
	o := deferredBatchOptions{size: p.opts.DeferredBatchSize}
	for _, opt := range opts {
		opt(&o)
	}
	d := &Deferred{p: p}
	settled := false
	defer func() {
		if !settled { // discarded by an error or a panic: end their spans as not published
			for _, o := range d.msgs {
				skipPublish(o)
			}
		}
	}()
	if err := fn(ctx, d); err != nil {
		return err
	}
	if len(d.msgs) == 0 {
		return nil
	}
	blocks := p.batchBlocks(ctx, d.msgs, o.size)
	var (
		prepared []*outgoing
		carried  [][]*outgoing // per prepared message, the messages its batch carries (nil: itself)
	)
	for _, block := range blocks {
		if len(block) == 1 {
			prepared = append(prepared, block[0])
			carried = append(carried, nil)
			continue
		}
		batches, inner, err := p.prepareBatch(ctx, block)
		if err != nil {
			for i, b := range prepared {
				if carried[i] != nil {
					skipPublish(b)
				}
			}
			return err
		}
		prepared = append(prepared, batches...)
		carried = append(carried, inner...)
	}
	settled = true
	results := make([]BatchResult, len(prepared))
	p.publishAll(ctx, prepared, results)
	for i, inner := range carried {
		for _, m := range inner { // a batched message is published when its batch is
			if p.opts.Skip {
				skipPublish(m)
			} else {
				endPublish(m, results[i].MessageID, results[i].Err)
			}
		}
	}
	return batchError(results)
}

// prepareBatch encodes block as one batch message and returns it with the messages it carries;
// when the result is over the size limit (the chunking estimate is conservative, so this is rare)
// it splits the block in two and tries again. A single message is returned as itself (carrying
// nil).
func (p *Producer) prepareBatch(ctx context.Context, block []*outgoing) ([]*outgoing, [][]*outgoing, error) {
	if len(block) == 1 {
		return block, [][]*outgoing{nil}, nil
	}
	content := &BatchMessage{Messages: make([]BatchedMessage, len(block))}
	for i, m := range block {
		content.Messages[i] = batchedFrom(m)
	}
	o, err := p.prepare(ctx, BatchMessageMediaType, content, nil)
	var tooLarge *MessageTooLargeError
	if errors.As(err, &tooLarge) {
		half := len(block) / 2
		first, firstCarried, err := p.prepareBatch(ctx, block[:half])
		if err != nil {
			return nil, nil, err
		}
		second, secondCarried, err := p.prepareBatch(ctx, block[half:])
		if err != nil {
			for i, b := range first {
				if firstCarried[i] != nil {
					skipPublish(b)
				}
			}
			return nil, nil, err
		}
		return append(first, second...), append(firstCarried, secondCarried...), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("batch message: %w", err)
	}
	return []*outgoing{o}, [][]*outgoing{block}, nil
}

// batchedFrom is the batch entry for a prepared message.
func batchedFrom(o *outgoing) BatchedMessage {
	return BatchedMessage{
		MediaType:  o.mediaType,
		Message:    o.body,
		TopicARN:   o.topicARN,
		OpaqueData: o.opaque.Clone(),
		MessageAttributes: map[string]AttributeValue{
			MediaTypeAttribute: {DataType: "String", StringValue: o.mediaType},
		},
	}
}

// batchBlocks splits msgs, in order, into blocks of at most size messages whose batch message is
// estimated to fit in MaxMessageSize. A message too large to share a batch is a block of its own.
func (p *Producer) batchBlocks(ctx context.Context, msgs []*outgoing, size int) [][]*outgoing {
	budget := MaxMessageSize - p.batchOverhead(ctx)
	var (
		blocks [][]*outgoing
		cur    []*outgoing
		used   int
	)
	for _, m := range msgs {
		n := batchEntrySize(m)
		if len(cur) > 0 && (len(cur) == size || used+n > budget) {
			blocks = append(blocks, cur)
			cur, used = nil, 0
		}
		cur = append(cur, m)
		used += n
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// batchOverhead estimates the bytes of a batch message other than its entries: the envelope JSON,
// the opaque data (static, ambient and x-request-published), the media_type attribute, plus slack.
func (p *Producer) batchOverhead(ctx context.Context) int {
	opaque := Opaque{}
	opaque.Merge(p.opts.Opaque)
	opaque.Merge(OpaqueFrom(ctx))
	opaque[OpaquePublished] = "0000000000.000000"
	oj, _ := json.Marshal(opaque)
	envelope := len(`{"mediaType":"","messages":[],"opaqueData":}`) + len(BatchMessageMediaType) + len(oj)
	attr := len(MediaTypeAttribute) + len("String") + len(BatchMessageMediaType)
	return envelope + attr + 256
}

// batchEntrySize is the encoded size of m's batch entry plus its separating comma.
func batchEntrySize(m *outgoing) int {
	b, err := json.Marshal(batchedFrom(m))
	if err != nil {
		return MaxMessageSize
	}
	return len(b) + 1
}

// Republish publishes already-encoded messages verbatim: each entry's Message body to its
// TopicARN with its MessageAttributes, exactly as given (the inner messages of a [BatchMessage];
// OpaqueData is informational, the body already carries its opaqueData). Messages are sent with
// PublishBatch, grouped by topic in order, at most 10 entries and 256 KiB per call; retryable
// failures are retried as by [Producer.ProduceBatch]. FIFO topics get the media type as message
// group and the body's SHA-256 as deduplication id. In skip mode nothing is sent and every id is
// "". The results line up with msgs; the error joins the entries' errors.
func (p *Producer) Republish(ctx context.Context, msgs ...BatchedMessage) ([]BatchResult, error) {
	results := make([]BatchResult, len(msgs))
	prepared := make([]*outgoing, len(msgs))
	for i, m := range msgs {
		if err := checkVerbatim(m); err != nil {
			results[i].Err = err
			continue
		}
		o := &outgoing{mediaType: m.MediaType, topicARN: m.TopicARN, body: m.Message, opaque: NewOpaque(m.OpaqueData), attrs: verbatimAttributes(m)}
		if o.attrs == nil {
			o.attrs = map[string]snstypes.MessageAttributeValue{}
		}
		if isFIFO(o.topicARN) {
			sum := sha256.Sum256([]byte(m.Message))
			o.groupID, o.dedupID = m.MediaType, hex.EncodeToString(sum[:])
		}
		prepared[i] = o
	}
	p.publishAll(ctx, prepared, results)
	return results, batchError(results)
}

func checkVerbatim(m BatchedMessage) error {
	if m.TopicARN == "" {
		return &PublishError{MediaType: m.MediaType, Err: errors.New("no topic_arn")}
	}
	if n := verbatimSize(m); n > MaxMessageSize {
		return &MessageTooLargeError{MediaType: m.MediaType, Size: n, Limit: MaxMessageSize}
	}
	return nil
}

func verbatimSize(m BatchedMessage) int {
	n := len(m.Message)
	for k, v := range m.MessageAttributes {
		n += len(k) + len(v.DataType) + len(v.StringValue)
	}
	return n
}

func verbatimAttributes(m BatchedMessage) map[string]snstypes.MessageAttributeValue {
	if len(m.MessageAttributes) == 0 {
		return nil
	}
	out := make(map[string]snstypes.MessageAttributeValue, len(m.MessageAttributes))
	for k, v := range m.MessageAttributes {
		dt := v.DataType
		if dt == "" {
			dt = "String"
		}
		out[k] = snstypes.MessageAttributeValue{DataType: aws.String(dt), StringValue: aws.String(v.StringValue)}
	}
	return out
}
