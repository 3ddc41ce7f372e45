package pubsubmem

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sendReq is a validated message on its way into a queue.
type sendReq struct {
	body, md5Body, md5Attrs string
	attrs                   msgAttrs
	size                    int   // body + attributes, as SQS counts toward MaximumMessageSize
	delay                   int32 // 0: the queue's DelaySeconds
	groupID, dedupID        string
	fromSNS                 bool // SNS deliveries skip the size check
}

// sendResult is what SendMessage reports for one message.
type sendResult struct {
	msgID, seqNum string
}

// prepareSend validates one SendMessage(Batch) entry outside any lock.
func prepareSend(body *string, attrs map[string]sqstypes.MessageAttributeValue, delay int32, groupID, dedupID *string) (sendReq, error) {
	var r sendReq
	if body == nil || *body == "" {
		return r, missingParam("MessageBody")
	}
	if !validBody(*body) {
		return r, &sqstypes.InvalidMessageContents{Message: aws.String("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")}
	}
	if delay < 0 || delay > maxDelay {
		return r, invalidValue("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", delay)
	}
	a, asize, err := copySQSAttributes(attrs)
	if err != nil {
		return r, err
	}
	r.body, r.attrs, r.delay = *body, a, delay
	r.size = len(*body) + asize
	r.groupID, r.dedupID = aws.ToString(groupID), aws.ToString(dedupID)
	r.md5Body = md5Hex(r.body)
	r.md5Attrs = attributesMD5(a, nil)
	return r, nil
}

// sendLocked enqueues r; q.mu must be held.
func (q *queue) sendLocked(r *sendReq, now int64) (sendResult, error) {
	if q.deleted {
		return sendResult{}, errNoQueue()
	}
	if !r.fromSNS && r.size > int(q.cfg.maxSize) {
		return sendResult{}, invalidValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.cfg.maxSize)
	}
	delay := r.delay
	m := &message{body: r.body, md5Body: r.md5Body, md5Attrs: r.md5Attrs, attrs: r.attrs, sent: now, groupID: r.groupID}
	if q.fifo {
		if r.groupID == "" {
			return sendResult{}, missingParam("MessageGroupId")
		}
		if delay != 0 {
			return sendResult{}, invalidValue("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", delay)
		}
		dedup := r.dedupID
		if dedup == "" {
			if !q.cfg.contentDedup {
				return sendResult{}, invalidValue("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			dedup = contentDedupID(r.body)
		}
		if e, dup := q.dedup.lookup(dedup, now); dup {
			return sendResult{msgID: e.msgID, seqNum: e.seqNum}, nil
		}
		m.dedupID = dedup
		m.seqNum = q.nextSequenceNumber()
		m.id = q.b.ids.newUUID()
		q.dedup.add(dedup, dedupEntry{msgID: m.id, seqNum: m.seqNum, expires: now + dedupWindow})
	} else {
		if r.dedupID != "" {
			return sendResult{}, invalidValue("The request include parameter MessageDeduplicationId which is not valid for this queue type")
		}
		m.id = q.b.ids.newUUID()
	}
	if delay == 0 {
		delay = q.cfg.delay
	}
	q.enqueue(m, delay, now)
	return sendResult{msgID: m.id, seqNum: m.seqNum}, nil
}

// SendMessage sends one message. MD5OfMessageBody and MD5OfMessageAttributes are computed as SQS does.
func (c *SQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	const op = "SendMessage"
	if in == nil {
		in = &sqs.SendMessageInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	r, err := prepareSend(in.MessageBody, in.MessageAttributes, in.DelaySeconds, in.MessageGroupId, in.MessageDeduplicationId)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	q.mu.Lock()
	res, err := q.sendLocked(&r, c.b.nowNano())
	q.mu.Unlock()
	if err != nil {
		return nil, sqsErr(op, err)
	}
	out := &sqs.SendMessageOutput{MessageId: aws.String(res.msgID), MD5OfMessageBody: aws.String(r.md5Body)}
	if r.md5Attrs != "" {
		out.MD5OfMessageAttributes = aws.String(r.md5Attrs)
	}
	if res.seqNum != "" {
		out.SequenceNumber = aws.String(res.seqNum)
	}
	return out, nil
}

// checkBatch applies the batch-level rules shared by the SQS batch calls.
func checkBatch(n int, id func(i int) *string) error {
	if n == 0 {
		return &sqstypes.EmptyBatchRequest{Message: aws.String("There should be at least one entry in the request.")}
	}
	if n > maxBatchEntries {
		return &sqstypes.TooManyEntriesInBatchRequest{Message: aws.String("Maximum number of entries per request are 10.")}
	}
	var ids [maxBatchEntries]string
	for i := 0; i < n; i++ {
		s := aws.ToString(id(i))
		if !validBatchID(s) {
			return &sqstypes.InvalidBatchEntryId{Message: aws.String("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")}
		}
		for _, prev := range ids[:i] {
			if prev == s {
				return &sqstypes.BatchEntryIdsNotDistinct{Message: aws.String("Id " + s + " repeated.")}
			}
		}
		ids[i] = s
	}
	return nil
}

func failure(id *string, err error) sqstypes.BatchResultErrorEntry {
	code, msg := codeOf(err)
	return sqstypes.BatchResultErrorEntry{Id: id, Code: aws.String(code), Message: aws.String(msg), SenderFault: true}
}

// SendMessageBatch sends up to 10 messages; each entry succeeds or fails on its own.
func (c *SQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	const op = "SendMessageBatch"
	if in == nil {
		in = &sqs.SendMessageBatchInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	if err := checkBatch(len(in.Entries), func(i int) *string { return in.Entries[i].Id }); err != nil {
		return nil, sqsErr(op, err)
	}
	var reqs [maxBatchEntries]sendReq
	var errs [maxBatchEntries]error
	total := 0
	for i := range in.Entries {
		e := &in.Entries[i]
		reqs[i], errs[i] = prepareSend(e.MessageBody, e.MessageAttributes, e.DelaySeconds, e.MessageGroupId, e.MessageDeduplicationId)
		total += reqs[i].size
	}
	type strs struct{ msgID, md5Body, md5Attrs, seqNum string }
	var results [maxBatchEntries]sendResult
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		return nil, sqsErr(op, errNoQueue())
	}
	limit := max(int(q.cfg.maxSize), defaultMaxSize)
	if total > limit {
		q.mu.Unlock()
		return nil, sqsErr(op, &sqstypes.BatchRequestTooLong{Message: aws.String("Batch requests cannot be longer than the maximum message size.")})
	}
	now := c.b.nowNano()
	for i := range in.Entries {
		if errs[i] == nil {
			results[i], errs[i] = q.sendLocked(&reqs[i], now)
		}
	}
	q.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{Successful: make([]sqstypes.SendMessageBatchResultEntry, 0, len(in.Entries)), Failed: []sqstypes.BatchResultErrorEntry{}}
	ss := make([]strs, len(in.Entries))
	for i := range in.Entries {
		id := in.Entries[i].Id
		if errs[i] != nil {
			out.Failed = append(out.Failed, failure(id, errs[i]))
			continue
		}
		s := &ss[i]
		*s = strs{results[i].msgID, reqs[i].md5Body, reqs[i].md5Attrs, results[i].seqNum}
		ok := sqstypes.SendMessageBatchResultEntry{Id: id, MessageId: &s.msgID, MD5OfMessageBody: &s.md5Body}
		if s.md5Attrs != "" {
			ok.MD5OfMessageAttributes = &s.md5Attrs
		}
		if s.seqNum != "" {
			ok.SequenceNumber = &s.seqNum
		}
		out.Successful = append(out.Successful, ok)
	}
	return out, nil
}
