package fxpubsub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// MaxMessageSize is the SNS limit on one message, attributes included, and on a whole PublishBatch.
const MaxMessageSize = 256 * 1024

// MediaTypeAttribute is the SNS message attribute carrying the media type, for subscription filter
// policies.
const MediaTypeAttribute = "media_type"

// ProduceOption adds to one message.
type ProduceOption func(*produceOptions)

type produceOptions struct {
	fields   map[string]any
	opaque   Opaque
	override Opaque
	groupID  string
	dedupID  string
}

// Field sets one top-level content field, overriding the content's own (the original's keyword
// arguments).
func Field(name string, value any) ProduceOption {
	return func(o *produceOptions) {
		if o.fields == nil {
			o.fields = map[string]any{}
		}
		o.fields[name] = value
	}
}

// Fields sets several top-level content fields.
func Fields(fields map[string]any) ProduceOption {
	return func(o *produceOptions) {
		for k, v := range fields {
			Field(k, v)(o)
		}
	}
}

// WithOpaqueData adds opaque data to the message, keys lower-cased and values keeping their JSON
// types (see [Opaque]). As in the original, the ambient opaque data wins on a key both have: the
// context's ([OpaqueFrom]: inside a handler, the inbound message's opaque data with the
// decremented x-request-ttl, message_id, uri, receipt_handle and handler) and the static opaque
// configuration. So a caller's x-request-id or x-request-ttl is used only when the ambient data
// has none; a handler cannot reset the hop TTL and defeat loop protection. To replace an ambient
// value on purpose, use [OverrideOpaqueData].
func WithOpaqueData[V any](opaque map[string]V) ProduceOption {
	return func(o *produceOptions) {
		if o.opaque == nil {
			o.opaque = Opaque{}
		}
		o.opaque.Merge(NewOpaque(opaque))
	}
}

// OverrideOpaqueData sets opaque data on the message over the ambient opaque data (which
// [WithOpaqueData] cannot replace), keys lower-cased. It can never raise the hop TTL: its
// x-request-ttl is capped at the ambient one, or at [DefaultInitialTTL] when there is none, so it
// can only shorten a chain. An x-request-ttl that is not an integer makes Produce return an
// *InvalidTTLError. The original has no such option.
func OverrideOpaqueData[V any](opaque map[string]V) ProduceOption {
	return func(o *produceOptions) {
		if o.override == nil {
			o.override = Opaque{}
		}
		o.override.Merge(NewOpaque(opaque))
	}
}

// MessageGroupID sets the FIFO message group (FIFO topics only; default: the media type).
func MessageGroupID(id string) ProduceOption { return func(o *produceOptions) { o.groupID = id } }

// DeduplicationID sets the FIFO deduplication id (FIFO topics only; default: the SHA-256 of the
// message, so SDK retries of one publish are deduplicated by SNS).
func DeduplicationID(id string) ProduceOption { return func(o *produceOptions) { o.dedupID = id } }

// ProducerOptions are the producer's settings; zero values mean defaults.
type ProducerOptions struct {
	// Skip validates and encodes but publishes nothing; Produce returns "" (sns_producer.skip,
	// default on in debug mode).
	Skip bool
	// Opaque is static opaque data added to every message (section opaque).
	Opaque Opaque
	// Logger gets debug lines per publish (default: none).
	Logger *zap.Logger
	// Now is the clock for x-request-published (default time.Now).
	Now func() time.Time
	// MaxAttempts bounds attempts per batch entry for retryable per-entry failures (default 5).
	MaxAttempts int
	// DeferredBatchSize is the default block size of [Producer.DeferredBatch]
	// (sns_producer.deferred_batch_size; default [DefaultDeferredBatchSize]).
	DeferredBatchSize int
	// Telemetry records the sns_producer metric and a producer span per message, whose context
	// travels in the message's opaque data as a W3C traceparent (default nil: none).
	Telemetry *Telemetry
	// LargePayloads offloads messages over its threshold to S3 (section large_payload; default
	// nil: a message over 256 KiB is a *MessageTooLargeError).
	LargePayloads *PayloadStore
	// BatchLinger is how long a Produce call that would send a PublishBatch that is not full waits
	// for more concurrent calls to the topic to join it (sns_producer.batch_linger; default 0: a
	// request goes out at once, and calls that arrive while it is in flight share the next one).
	BatchLinger time.Duration
}

// Producer publishes messages to SNS (the original's sns_producer).
type Producer struct {
	client   SNSClient
	registry *SchemaRegistry
	topics   *TopicMap
	opts     ProducerOptions
	batcher  *publishBatcher
	// mtAttrs holds, per media type, the message attributes of a Produce: one map shared by every
	// message of that media type and never written after it is stored (the SDK only reads it).
	mtAttrs sync.Map
}

// mediaTypeAttributes returns the shared, read-only media_type attribute map of mediaType.
func (p *Producer) mediaTypeAttributes(mediaType string) map[string]snstypes.MessageAttributeValue {
	if m, ok := p.mtAttrs.Load(mediaType); ok {
		return m.(map[string]snstypes.MessageAttributeValue)
	}
	m, _ := p.mtAttrs.LoadOrStore(mediaType, map[string]snstypes.MessageAttributeValue{
		MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(mediaType)},
	})
	return m.(map[string]snstypes.MessageAttributeValue)
}

// NewProducer returns a producer publishing through client.
func NewProducer(client SNSClient, registry *SchemaRegistry, topics *TopicMap, opts ProducerOptions) *Producer {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = defaultMaxAttempts
	}
	if opts.DeferredBatchSize <= 0 {
		opts.DeferredBatchSize = DefaultDeferredBatchSize
	}
	p := &Producer{client: client, registry: registry, topics: topics, opts: opts}
	p.batcher = newPublishBatcher(p, opts.BatchLinger)
	return p
}

// Registry returns the schema registry the producer encodes with.
func (p *Producer) Registry() *SchemaRegistry { return p.registry }

// Skipping reports whether the producer is in skip mode.
func (p *Producer) Skipping() bool { return p.opts.Skip }

// outgoing is a message ready to publish.
type outgoing struct {
	mediaType string
	topicARN  string
	body      string
	opaque    Opaque
	groupID   string
	dedupID   string
	span      trace.Span // producer span, until the publish is settled; nil when not tracing
	// attrs, when set, are the message attributes: as given for a verbatim republish, the shared
	// media_type map of [Producer.mediaTypeAttributes] for Produce (read-only: never write into
	// it, replace it); otherwise the message carries the media_type attribute.
	attrs map[string]snstypes.MessageAttributeValue
	// offload marks a message for S3; pointer is set once uploaded.
	offload bool
	pointer *PayloadPointer
}

func (o *outgoing) size() int {
	if o.attrs != nil {
		n := len(o.body)
		for k, v := range o.attrs {
			n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
		}
		return n
	}
	return len(o.body) + len(MediaTypeAttribute) + len("String") + len(o.mediaType)
}

func (o *outgoing) attributes() map[string]snstypes.MessageAttributeValue {
	if o.attrs != nil {
		return o.attrs
	}
	return map[string]snstypes.MessageAttributeValue{
		MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(o.mediaType)},
	}
}

// prepare resolves the topic, merges opaque data, encodes, validates and checks the size.
func (p *Producer) prepare(ctx context.Context, mediaType string, content any, opts []ProduceOption) (*outgoing, error) {
	var po produceOptions
	for _, opt := range opts {
		opt(&po)
	}
	topic, err := p.topics.Lookup(mediaType)
	if err != nil {
		return nil, err
	}
	ambient := OpaqueFrom(ctx)
	opaque := make(Opaque, len(p.opts.Opaque)+len(ambient)+len(po.opaque)+len(po.override)+1)
	// The original: the caller's opaque_data overlaid by the ambient opaque (static config under
	// the context's entries).
	opaque.Merge(po.opaque)
	opaque.Merge(p.opts.Opaque)
	opaque.Merge(ambient)
	if err := clampOverride(opaque, po.override); err != nil {
		return nil, fmt.Errorf("override opaque data: %w", err)
	}
	now := p.opts.Now()
	opaque[OpaquePublished] = formatEpoch(float64(now.UnixMicro()) / 1e6)
	var span trace.Span
	if t := p.opts.Telemetry; t.tracing() {
		span = t.startPublish(ctx, mediaType, topic, opaque)
	}
	body, err := p.registry.Encode(mediaType, content, po.fields, opaque)
	// body is Encode's own fresh buffer, written by nobody after this: the string shares it
	// rather than copy a whole message.
	o := &outgoing{mediaType: mediaType, topicARN: topic, body: unsafe.String(unsafe.SliceData(body), len(body)), opaque: opaque,
		groupID: po.groupID, dedupID: po.dedupID, span: span, attrs: p.mediaTypeAttributes(mediaType)}
	if err == nil {
		err = p.checkSize(o)
	}
	if err != nil {
		endPublish(o, "", err)
		return nil, err
	}
	if isFIFO(topic) {
		if o.groupID == "" {
			o.groupID = mediaType
		}
		if o.dedupID == "" {
			sum := sha256.Sum256(body)
			o.dedupID = hex.EncodeToString(sum[:])
		}
	}
	return o, nil
}

// Produce validates content against the schema of mediaType, encodes it with the context's opaque
// data, and publishes it to the media type's topic with the media_type message attribute. It
// returns the SNS message id ("" in skip mode).
//
// Concurrent calls to one topic share PublishBatch requests (natural batching): a call that finds
// no request to its topic in flight is sent at once, with Publish; calls that arrive while one is
// in flight go out together in the next request, up to 10 messages and 256 KiB, each call getting
// its own message id or error. Right after a request completes, the next one, if not full, holds
// (at most 300 µs from the completion) until the callers it released have called again, so
// callers publishing in a loop share one request rather than alternate between two. A retryable failure of one entry is retried, with jittered backoff,
// up to ProducerOptions.MaxAttempts, as in [Producer.ProduceBatch]. On a FIFO topic one request is
// in flight at a time, so messages leave in the order of the calls. See
// ProducerOptions.BatchLinger. Errors: *TopicNotDefinedError,
// *UnknownMediaTypeError, *ValidationError, *MessageTooLargeError, *PublishError, and
// *InvalidTTLError from [OverrideOpaqueData].
func (p *Producer) Produce(ctx context.Context, mediaType string, content any, opts ...ProduceOption) (string, error) {
	o, err := p.prepare(ctx, mediaType, content, opts)
	if err != nil {
		return "", err
	}
	return p.publish(ctx, o)
}

func (p *Producer) publish(ctx context.Context, o *outgoing) (string, error) {
	if p.opts.Skip {
		skipPublish(o)
		p.opts.Logger.Debug("skipping publish", zap.String("media_type", o.mediaType), zap.String("topic_arn", o.topicARN))
		return "", nil
	}
	t := p.opts.Telemetry
	if !t.producerMetered(ctx) && o.span == nil {
		return p.batcher.publish(ctx, o)
	}
	if o.span != nil {
		ctx = trace.ContextWithSpan(ctx, o.span)
	}
	start := time.Now()
	id, err := p.batcher.publish(ctx, o)
	t.finishPublish(ctx, o, id, err, time.Since(start), t.producerMetered(ctx))
	return id, err
}

// send makes the Publish call of a lone message.
func (p *Producer) send(ctx context.Context, o *outgoing) (string, error) {
	if err := p.offload(ctx, o); err != nil {
		return "", err
	}
	in := &sns.PublishInput{TopicArn: aws.String(o.topicARN), Message: aws.String(o.body), MessageAttributes: o.attributes()}
	if o.groupID != "" {
		in.MessageGroupId = aws.String(o.groupID)
	}
	if o.dedupID != "" {
		in.MessageDeduplicationId = aws.String(o.dedupID)
	}
	out, err := p.client.Publish(ctx, in)
	if err != nil {
		p.orphaned(o)
		return "", &PublishError{MediaType: o.mediaType, TopicARN: o.topicARN, Err: err}
	}
	id := aws.ToString(out.MessageId)
	if ce := p.opts.Logger.Check(zap.DebugLevel, "published message"); ce != nil {
		ce.Write(zap.String("media_type", o.mediaType), zap.String("topic_arn", o.topicARN), zap.String("message_id", id))
	}
	return id, nil
}
