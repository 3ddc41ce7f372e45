package pubsubmem

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// maxPublishSize is SNS's limit for a message plus its attributes, and for a whole PublishBatch.
const maxPublishSize = 262144

// snsMessage is a validated publish.
type snsMessage struct {
	message, subject string // message: what SQS subscribers get (MessageStructure resolved)
	published        string // the Message as published (for content-based deduplication)
	attrs            map[string]snstypes.MessageAttributeValue
	groupID, dedupID string
}

// publishSize counts a message and its attributes (names, types, values) toward maxPublishSize.
func publishSize(message *string, attrs map[string]snstypes.MessageAttributeValue) int {
	n := len(aws.ToString(message))
	for name, a := range attrs {
		n += len(name) + len(aws.ToString(a.DataType)) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
	}
	return n
}

func badAttr(format string, args ...any) error {
	return &snstypes.InvalidParameterValueException{Message: aws.String(fmt.Sprintf(format, args...))}
}

// checkSNSAttribute validates one message attribute as SNS does.
func checkSNSAttribute(name string, a snstypes.MessageAttributeValue) error {
	if !validAttrName(name) {
		return badAttr("The message attribute '%s' has an invalid name.", name)
	}
	dt := aws.ToString(a.DataType)
	switch {
	case dt == "Binary":
		if a.BinaryValue == nil {
			return badAttr("The message attribute '%s' with type 'Binary' must have a binary value.", name)
		}
	case dt == "String" || dt == "Number" || dt == "String.Array":
		if a.StringValue == nil {
			return badAttr("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, dt)
		}
		v := *a.StringValue
		if dt == "Number" && !validNumber(v) {
			return badAttr("Could not cast message attribute '%s' value to number.", name)
		}
		if dt == "String.Array" {
			if arr, err := decodeJSON(v); err != nil {
				return badAttr("The message attribute '%s' has an invalid String.Array value.", name)
			} else if _, ok := arr.([]any); !ok {
				return badAttr("The message attribute '%s' has an invalid String.Array value.", name)
			}
		}
	default:
		return badAttr("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
	}
	return nil
}

// prepareSNS validates one Publish(Batch) entry.
func prepareSNS(message, subject, structure *string, attrs map[string]snstypes.MessageAttributeValue, groupID, dedupID *string) (snsMessage, error) {
	var m snsMessage
	if aws.ToString(message) == "" {
		return m, snsInvalid("Empty message")
	}
	if publishSize(message, attrs) > maxPublishSize {
		return m, snsInvalid("Message too long")
	}
	m.published, m.message = *message, *message
	switch aws.ToString(structure) {
	case "":
	case "json":
		var per map[string]any
		if err := json.Unmarshal([]byte(*message), &per); err != nil {
			return m, snsInvalid("Message Structure - JSON message body failed to parse")
		}
		def, ok := per["default"].(string)
		if !ok {
			return m, snsInvalid("Message Structure - No default entry in JSON message body")
		}
		m.message = def
		if s, ok := per["sqs"].(string); ok {
			m.message = s
		}
	default:
		return m, snsInvalid("MessageStructure")
	}
	if subject != nil {
		s := *subject
		if s == "" || len(s) > 100 || strings.ContainsAny(s, "\r\n") {
			return m, snsInvalid("Subject")
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f {
				return m, snsInvalid("Subject")
			}
		}
		m.subject = s
	}
	for name, a := range attrs {
		if err := checkSNSAttribute(name, a); err != nil {
			return m, err
		}
	}
	// Delivery is synchronous and copies what it keeps (binary values), so the caller's map is
	// read in place rather than copied.
	m.attrs = attrs
	m.groupID, m.dedupID = aws.ToString(groupID), aws.ToString(dedupID)
	return m, nil
}

// delivery is a subscription with its queue, resolved when the publish began.
type delivery struct {
	sub *subscription
	q   *queue // nil: the queue does not exist (the message is dropped, as AWS eventually does)
}

// deliveries resolves a topic and its subscribers' queues.
func (b *Backend) deliveries(arn string) (*topic, []delivery) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.topics[arn]
	if t == nil {
		return nil, nil
	}
	ds := make([]delivery, len(t.subs))
	for i, s := range t.subs {
		ds[i] = delivery{s, b.queueARNs[s.endpoint]}
	}
	return t, ds
}

// publish delivers m to every subscribed queue whose filter policy it passes, synchronously. raw
// (nil for one message) carries the raw-delivery attributes across the entries of one batch.
func (b *Backend) publish(t *topic, ds []delivery, m *snsMessage, raw *rawAttrCache) (msgID, seqNum string, err error) {
	now := b.nowNano()
	dedup := ""
	if t.fifo {
		if m.groupID == "" {
			return "", "", snsInvalid("Parameter MessageGroupId is required for FIFO topics")
		}
		t.mu.Lock() // held through delivery so sequence order is enqueue order
		defer t.mu.Unlock()
		dedup = m.dedupID
		if dedup == "" {
			if !t.contentDedup {
				return "", "", snsInvalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			dedup = contentDedupID(m.published)
		}
		if e, dup := t.dedup.lookup(dedup, now); dup {
			return e.msgID, e.seqNum, nil
		}
		msgID, seqNum = b.ids.newUUID(), t.fifoState.nextSequenceNumber()
		t.dedup.add(dedup, dedupEntry{msgID: msgID, seqNum: seqNum, expires: now + dedupWindow})
	} else {
		if m.dedupID != "" {
			return "", "", snsInvalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		msgID = b.ids.newUUID()
	}

	var rawAttrs msgAttrs
	rawMD5 := ""
	timestamp := ""
	var buf []byte
	for _, d := range ds {
		if d.q == nil {
			continue
		}
		cfg := d.sub.cfg.Load()
		if f := cfg.filter; f != nil {
			if f.body && !f.matchBody(m.message) || !f.body && !f.matchAttributes(m.attrs) {
				continue
			}
		}
		req := sendReq{fromSNS: true}
		if cfg.raw {
			if rawAttrs == nil && len(m.attrs) > 0 {
				rawAttrs, rawMD5 = raw.get(m.attrs)
			}
			req.body, req.attrs, req.md5Attrs = m.message, rawAttrs, rawMD5
		} else {
			if timestamp == "" {
				timestamp = snsTimestamp(now)
			}
			buf = appendEnvelope(buf[:0], &envelope{
				msgID: msgID, seqNum: seqNum, topicARN: t.arn, subject: m.subject, message: m.message,
				timestamp: timestamp, region: b.region, subARN: d.sub.arn, attrs: m.attrs,
			})
			req.body = string(buf)
		}
		req.md5Body = md5Hex(req.body)
		if d.q.fifo {
			req.groupID, req.dedupID = m.groupID, dedup
		}
		d.q.mu.Lock()
		_, _ = d.q.sendLocked(&req, now) // a deleted queue drops the message, as AWS does
		d.q.mu.Unlock()
	}
	return msgID, seqNum, nil
}

// Publish publishes a message to a topic (TopicArn or TargetArn) and delivers it synchronously to the
// topic's SQS subscriptions: raw (body = message, SNS attributes as SQS attributes) or as the SNS
// notification JSON.
func (c *SNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	const op = "Publish"
	if in == nil {
		in = &sns.PublishInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, snsErr(op, err)
	}
	if in.PhoneNumber != nil {
		return nil, snsErr(op, snsInvalid("PhoneNumber Reason: SMS is not supported by the in-memory backend"))
	}
	arn := aws.ToString(in.TopicArn)
	if arn == "" {
		arn = aws.ToString(in.TargetArn)
	}
	if arn == "" {
		return nil, snsErr(op, snsInvalid("TopicArn or TargetArn Reason: no value for required parameter"))
	}
	t, ds := c.b.deliveries(arn)
	if t == nil {
		return nil, snsErr(op, errNoTopic())
	}
	m, err := prepareSNS(in.Message, in.Subject, in.MessageStructure, in.MessageAttributes, in.MessageGroupId, in.MessageDeduplicationId)
	if err != nil {
		return nil, snsErr(op, err)
	}
	id, seq, err := c.b.publish(t, ds, &m, nil)
	if err != nil {
		return nil, snsErr(op, err)
	}
	out := &sns.PublishOutput{MessageId: aws.String(id)}
	if seq != "" {
		out.SequenceNumber = aws.String(seq)
	}
	return out, nil
}

// PublishBatch publishes up to 10 messages to a topic; each entry succeeds or fails on its own.
func (c *SNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, _ ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	const op = "PublishBatch"
	if in == nil {
		in = &sns.PublishBatchInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, snsErr(op, err)
	}
	entries := in.PublishBatchRequestEntries
	switch {
	case len(entries) == 0:
		return nil, snsErr(op, &snstypes.EmptyBatchRequestException{Message: aws.String("The batch request doesn't contain any entries")})
	case len(entries) > maxBatchEntries:
		return nil, snsErr(op, &snstypes.TooManyEntriesInBatchRequestException{Message: aws.String("The batch request contains more entries than permissible")})
	}
	var seen [maxBatchEntries]string
	total := 0
	for i, e := range entries {
		id := aws.ToString(e.Id)
		if !validBatchID(id) {
			return nil, snsErr(op, &snstypes.InvalidBatchEntryIdException{Message: aws.String("The Id of a batch entry in a batch request doesn't abide by the specification")})
		}
		if slices.Contains(seen[:i], id) {
			return nil, snsErr(op, &snstypes.BatchEntryIdsNotDistinctException{Message: aws.String("Two or more batch entries in the request have the same Id")})
		}
		seen[i] = id
		total += publishSize(e.Message, e.MessageAttributes)
	}
	t, ds := c.b.deliveries(aws.ToString(in.TopicArn))
	if t == nil {
		return nil, snsErr(op, errNoTopic())
	}
	if total > maxPublishSize {
		return nil, snsErr(op, &snstypes.BatchRequestTooLongException{Message: aws.String("The length of all the messages put together is more than the limit")})
	}
	out := &sns.PublishBatchOutput{Successful: make([]snstypes.PublishBatchResultEntry, 0, len(entries)), Failed: []snstypes.BatchResultErrorEntry{}}
	var raw rawAttrCache
	for _, e := range entries {
		m, err := prepareSNS(e.Message, e.Subject, e.MessageStructure, e.MessageAttributes, e.MessageGroupId, e.MessageDeduplicationId)
		var id, seq string
		if err == nil {
			id, seq, err = c.b.publish(t, ds, &m, &raw)
		}
		if err != nil {
			code, msg := codeOf(err)
			out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String(code), Message: aws.String(msg), SenderFault: true})
			continue
		}
		r := snstypes.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String(id)}
		if seq != "" {
			r.SequenceNumber = aws.String(seq)
		}
		out.Successful = append(out.Successful, r)
	}
	return out, nil
}

// rawAttrCache converts SNS message attributes to the SQS attributes of a raw delivery, with
// their MD5, reusing the last conversion when the next message's attributes are equal (the
// entries of one PublishBatch usually carry the same ones). A nil cache converts every time.
type rawAttrCache struct {
	src   map[string]snstypes.MessageAttributeValue
	attrs msgAttrs
	md5   string
}

func (c *rawAttrCache) get(src map[string]snstypes.MessageAttributeValue) (msgAttrs, string) {
	if c != nil && c.src != nil && maps.EqualFunc(c.src, src, sameAttribute) {
		return c.attrs, c.md5
	}
	attrs := make(msgAttrs, 0, len(src))
	for name, a := range src {
		x := msgAttr{name: name, dataType: aws.ToString(a.DataType), str: aws.ToString(a.StringValue)}
		if x.dataType == "Binary" {
			x.bin, x.binary, x.str = append([]byte{}, a.BinaryValue...), true, ""
		}
		attrs = append(attrs, x)
	}
	attrs.sortByName()
	sum := attributesMD5(attrs, nil)
	if c != nil {
		c.src, c.attrs, c.md5 = src, attrs, sum
	}
	return attrs, sum
}

func sameAttribute(a, b snstypes.MessageAttributeValue) bool {
	return aws.ToString(a.DataType) == aws.ToString(b.DataType) && aws.ToString(a.StringValue) == aws.ToString(b.StringValue) &&
		bytes.Equal(a.BinaryValue, b.BinaryValue)
}
