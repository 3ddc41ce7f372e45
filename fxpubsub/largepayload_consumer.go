package fxpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
)

// The consumer's half of large messages: a received pointer is resolved (fetched from a trusted
// bucket, bounded in size and time) before the message decodes as usual. Three forms arrive:
//   - a direct send or SNS raw delivery: the body is the pointer, with ExtendedPayloadSize (or the
//     legacy SQSLargePayloadSize) as a message attribute, or without it;
//   - an SNS envelope: the envelope's Message is the pointer and the size is in the envelope's
//     MessageAttributes as {"Type":"Number","Value":"…"} (AWS's Python SQS client does not read
//     this form; we do).
// A pointer that cannot be resolved makes the message FAILED (a *DecodeError wrapping a
// *PayloadError), so it is retried with backoff and dead-lettered by the redrive policy, never
// IGNORED.

// payloadMarker is in every pointer, plain or inside an envelope's Message string.
var payloadMarker = []byte("S3Pointer")

// sizeAttributeNames are the message attributes the consumer asks SQS for.
var sizeAttributeNames = []string{ExtendedPayloadSizeAttribute, LegacyPayloadSizeAttribute}

// decodeBody decodes a record's body as decodeChecked does, resolving a large-message pointer
// first; it records the pointer in m (for delete_payload_on_ack). With lazy, a pointer is not
// fetched here: it is left in m.pending for [Message.resolvePayload], which the dispatcher calls
// when the message is handled, so the daemon's visibility heartbeat covers the fetch (the message
// is in flight by then) and the workers fetch in parallel.
func (d *Decoder) decodeBody(ctx context.Context, rec Record, m *Message, lazy bool) (Decoded, snsInfo, error) {
	body := rec.Body
	size, hasSize, sizeErr := sqsPayloadSize(rec.MessageAttributes)
	if !hasSize && !bytes.Contains(body, payloadMarker) && !looksLikePointer(body) {
		return decodeChecked(ctx, d.opts.Envelope, d.registry, d.guard, body)
	}
	if hasSize || looksLikePointer(body) { // the body is the pointer
		p := &pendingPayload{dec: d, pointer: body, size: size, sizeErr: sizeErr}
		if lazy {
			m.pending = p
			return Decoded{}, snsInfo{}, nil
		}
		return p.resolve(ctx, m)
	}
	if d.opts.Envelope != EnvelopeCodec {
		return decodeChecked(ctx, d.opts.Envelope, d.registry, d.guard, body)
	}
	n, ok := parseSNS(body)
	if !ok || !looksLikePointer([]byte(*n.Message)) {
		return decodeChecked(ctx, d.opts.Envelope, d.registry, d.guard, body)
	}
	if d.guard != nil { // the envelope is checked as received: the pointer is what SNS signed
		if err := d.guard.check(ctx, n); err != nil {
			return Decoded{}, snsInfo{}, err
		}
	}
	info := snsInfo{topicARN: n.TopicARN, messageID: n.MessageID}
	size, _, sizeErr = envelopePayloadSize(body)
	p := &pendingPayload{dec: d, pointer: []byte(*n.Message), size: size, sizeErr: sizeErr, inEnvelope: true}
	if lazy {
		m.pending = p
		return Decoded{}, info, nil
	}
	dec, _, err := p.resolve(ctx, m)
	return dec, info, err
}

// pendingPayload is a large-message pointer read but not yet fetched.
type pendingPayload struct {
	dec        *Decoder
	pointer    []byte
	size       int64 // -1: no size attribute
	sizeErr    error // the size attribute did not parse
	inEnvelope bool  // the pointer was an SNS envelope's Message: the payload is the message JSON
}

// resolve fetches the payload and decodes it; it records the pointer in m.
func (p *pendingPayload) resolve(ctx context.Context, m *Message) (Decoded, snsInfo, error) {
	payload, ptr, err := p.dec.resolve(ctx, p.pointer, p.size, p.sizeErr)
	if err != nil {
		return Decoded{}, snsInfo{}, &DecodeError{Err: err}
	}
	m.payload = ptr
	if p.inEnvelope {
		dec, err := p.dec.registry.Decode(payload)
		return dec, snsInfo{}, err
	}
	return decodeChecked(ctx, p.dec.opts.Envelope, p.dec.registry, p.dec.guard, payload)
}

// resolvePayload fetches and decodes the payload of a message whose pointer was left for later
// (see [Decoder.decodeBody]); it does nothing for any other message. Only the message's owner
// calls it, before the message is handled.
func (m *Message) resolvePayload(ctx context.Context) {
	p := m.pending
	if p == nil {
		return
	}
	m.pending = nil
	dec, sns, err := p.resolve(ctx, m)
	m.setDecoded(dec, err)
	if sns.topicARN != "" {
		m.TopicARN, m.SNSMessageID = sns.topicARN, sns.messageID
	}
}

// resolve parses a pointer and fetches its payload; size < 0 means no size attribute.
func (d *Decoder) resolve(ctx context.Context, pointer []byte, size int64, sizeErr error) ([]byte, *PayloadPointer, error) {
	ptr, err := ParsePayloadPointer(pointer)
	if err != nil {
		return nil, nil, err
	}
	if sizeErr != nil {
		return nil, nil, &PayloadError{Op: PayloadMalformed, Pointer: ptr, Err: sizeErr}
	}
	store := d.opts.LargePayloads
	if store == nil {
		return nil, nil, &PayloadError{Op: PayloadNotConfigured, Pointer: ptr, Err: errNoStore}
	}
	payload, err := store.Fetch(ctx, ptr, size)
	if err != nil {
		return nil, nil, err
	}
	return payload, &ptr, nil
}

// sqsPayloadSize reads ExtendedPayloadSize (or SQSLargePayloadSize) from SQS message attributes:
// size -1 when absent.
func sqsPayloadSize(attrs map[string]string) (int64, bool, error) {
	if len(attrs) == 0 {
		return -1, false, nil
	}
	for _, name := range sizeAttributeNames {
		if v, ok := attrs[name]; ok {
			n, err := parsePayloadSize(name, v)
			return n, true, err
		}
	}
	return -1, false, nil
}

// envelopePayloadSize reads the size from an SNS envelope's MessageAttributes: size -1 when
// absent.
func envelopePayloadSize(body []byte) (int64, bool, error) {
	var env struct {
		MessageAttributes map[string]struct {
			Type  string `json:"Type"`
			Value string `json:"Value"`
		} `json:"MessageAttributes"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return -1, false, nil // parseSNS accepted it: cannot happen
	}
	for _, name := range sizeAttributeNames {
		if v, ok := env.MessageAttributes[name]; ok {
			n, err := parsePayloadSize(name, v.Value)
			return n, true, err
		}
	}
	return -1, false, nil
}

// payloadAcked deletes the payload of an acked message when delete_payload_on_ack is on. A failed
// delete is logged: the message is gone, the object is left for the bucket's lifecycle rule.
func (s *PayloadStore) payloadAcked(ctx context.Context, p *PayloadPointer, logger *zap.Logger) {
	if s == nil || p == nil || !s.opts.DeleteOnAck {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.FetchTimeout)
	defer cancel()
	if err := s.Delete(ctx, *p); err != nil && logger != nil {
		logger.Warn("large payload not deleted after ack; left for the bucket's lifecycle rule", zap.Error(err))
	}
}

// payloadsAcked deletes the payloads of the entries a DeleteMessageBatch call deleted (those not
// in failed), with delete_payload_on_ack.
func (b *settleBatcher) payloadsAcked(ctx context.Context, batch []settleEntry, failed []sqstypes.BatchResultErrorEntry) {
	if b.kind != settleDelete || b.payloads == nil || !b.payloads.opts.DeleteOnAck {
		return
	}
	notDeleted := make(map[string]bool, len(failed))
	for _, f := range failed {
		notDeleted[aws.ToString(f.Id)] = true
	}
	for i, e := range batch {
		if e.payload != nil && !notDeleted[strconv.Itoa(i)] {
			b.payloads.payloadAcked(ctx, e.payload, b.logger)
		}
	}
}
