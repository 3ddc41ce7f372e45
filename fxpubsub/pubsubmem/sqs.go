package pubsubmem

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS is the backend's SQS client. Its methods have the signatures of *sqs.Client's; option functions
// are accepted and ignored.
type SQS struct{ b *Backend }

// CreateQueue creates a queue, or returns the URL of an existing queue of that name when the given
// attributes match it (otherwise *sqstypes.QueueNameExists).
func (c *SQS) CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, _ ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	const op = "CreateQueue"
	if in == nil {
		in = &sqs.CreateQueueInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, sqsErr(op, err)
	}
	name := aws.ToString(in.QueueName)
	if name == "" {
		return nil, sqsErr(op, missingParam("QueueName"))
	}
	fifo := strings.HasSuffix(name, ".fifo")
	if !validName(name, 80) || fifo != strings.EqualFold(in.Attributes["FifoQueue"], "true") {
		return nil, sqsErr(op, invalidValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. A FIFO queue name must end with the .fifo suffix and needs the attribute FifoQueue=true."))
	}
	if err := c.checkRedriveTarget(in.Attributes, fifo); err != nil {
		return nil, sqsErr(op, err)
	}
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if q := b.queueNames[name]; q != nil {
		q.mu.Lock()
		same := q.cfg.sameAs(in.Attributes, fifo)
		q.mu.Unlock()
		if !same {
			return nil, sqsErr(op, &sqstypes.QueueNameExists{Message: aws.String("A queue already exists with the same name and a different value for attribute(s).")})
		}
		return &sqs.CreateQueueOutput{QueueUrl: aws.String(q.url)}, nil
	}
	cfg := defaultQueueConfig()
	if err := cfg.apply(in.Attributes, fifo, true); err != nil {
		return nil, sqsErr(op, err)
	}
	b.nextQID++
	q := newQueue(b, b.nextQID, name, fifo, cfg, b.nowNano())
	b.queues[q.url] = q
	b.queueNames[name] = q
	b.queueARNs[q.arn] = q
	return &sqs.CreateQueueOutput{QueueUrl: aws.String(q.url)}, nil
}

// checkRedriveTarget validates a RedrivePolicy attribute's dead-letter queue: it must exist and be of
// the same type (standard or FIFO) as the source queue.
func (c *SQS) checkRedriveTarget(attrs map[string]string, fifo bool) error {
	v, ok := attrs["RedrivePolicy"]
	if !ok || v == "" {
		return nil
	}
	rp, err := parseRedrive(v)
	if err != nil {
		return err
	}
	dlq := c.b.queueByARN(rp.deadLetterARN)
	if dlq == nil {
		return &sqstypes.InvalidAttributeValue{Message: aws.String("Value " + v + " for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist.")}
	}
	if dlq.fifo != fifo {
		return &sqstypes.InvalidAttributeValue{Message: aws.String("Value " + v + " for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be the same type of queue as the source.")}
	}
	return nil
}

// GetQueueUrl returns the URL of a queue by name.
func (c *SQS) GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	const op = "GetQueueUrl"
	if in == nil {
		in = &sqs.GetQueueUrlInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, sqsErr(op, err)
	}
	if aws.ToString(in.QueueName) == "" {
		return nil, sqsErr(op, missingParam("QueueName"))
	}
	if owner := aws.ToString(in.QueueOwnerAWSAccountId); owner != "" && owner != c.b.account {
		return nil, sqsErr(op, errNoQueue())
	}
	c.b.mu.RLock()
	q := c.b.queueNames[*in.QueueName]
	c.b.mu.RUnlock()
	if q == nil {
		return nil, sqsErr(op, errNoQueue())
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(q.url)}, nil
}

// GetQueueAttributes returns the named attributes ("All" for every one).
func (c *SQS) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	const op = "GetQueueAttributes"
	if in == nil {
		in = &sqs.GetQueueAttributesInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	want := map[string]bool{}
	for _, n := range in.AttributeNames {
		name := string(n)
		if name == "All" {
			for _, a := range queueAttributeNames {
				want[a] = true
			}
			continue
		}
		known := false
		for _, a := range queueAttributeNames {
			if a == name {
				known = true
				break
			}
		}
		if !known {
			return nil, sqsErr(op, &sqstypes.InvalidAttributeName{Message: aws.String("Unknown Attribute " + name + ".")})
		}
		want[name] = true
	}
	out := map[string]string{}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, sqsErr(op, errNoQueue())
	}
	q.advance(c.b.nowNano())
	for name := range want {
		var v string
		ok := true
		switch name {
		case "QueueArn":
			v = q.arn
		case "ApproximateNumberOfMessages":
			v = strconv.Itoa(q.nReady)
		case "ApproximateNumberOfMessagesNotVisible":
			v = strconv.Itoa(len(q.inflight))
		case "ApproximateNumberOfMessagesDelayed":
			v = strconv.Itoa(len(q.delayed))
		case "CreatedTimestamp":
			v = strconv.FormatInt(q.created/1e9, 10)
		case "LastModifiedTimestamp":
			v = strconv.FormatInt(q.modified/1e9, 10)
		default:
			v, ok = q.cfg.get(name, q.fifo)
		}
		if ok {
			out[name] = v
		}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: out}, nil
}

// SetQueueAttributes changes a queue's attributes; they apply to later calls.
func (c *SQS) SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error) {
	const op = "SetQueueAttributes"
	if in == nil {
		in = &sqs.SetQueueAttributesInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	if err := c.checkRedriveTarget(in.Attributes, q.fifo); err != nil {
		return nil, sqsErr(op, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, sqsErr(op, errNoQueue())
	}
	cfg := q.cfg.clone()
	if err := cfg.apply(in.Attributes, q.fifo, false); err != nil {
		return nil, sqsErr(op, err)
	}
	q.cfg = cfg
	q.redrive.Store(cfg.redrive)
	q.modified = c.b.nowNano()
	return &sqs.SetQueueAttributesOutput{}, nil
}

// DeleteQueue deletes a queue and its messages; its long polls return *sqstypes.QueueDoesNotExist.
func (c *SQS) DeleteQueue(ctx context.Context, in *sqs.DeleteQueueInput, _ ...func(*sqs.Options)) (*sqs.DeleteQueueOutput, error) {
	const op = "DeleteQueue"
	if in == nil {
		in = &sqs.DeleteQueueInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	c.b.mu.Lock()
	if c.b.queues[q.url] == q {
		delete(c.b.queues, q.url)
		delete(c.b.queueNames, q.name)
		delete(c.b.queueARNs, q.arn)
	}
	c.b.mu.Unlock()
	q.mu.Lock()
	q.deleted = true
	q.purge()
	q.signal()
	q.mu.Unlock()
	return &sqs.DeleteQueueOutput{}, nil
}

// PurgeQueue deletes every message of a queue, in flight or not.
func (c *SQS) PurgeQueue(ctx context.Context, in *sqs.PurgeQueueInput, _ ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error) {
	const op = "PurgeQueue"
	if in == nil {
		in = &sqs.PurgeQueueInput{}
	}
	q, err := c.b.lookupQueue(ctx, in.QueueUrl)
	if err != nil {
		return nil, sqsErr(op, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, sqsErr(op, errNoQueue())
	}
	q.purge()
	return &sqs.PurgeQueueOutput{}, nil
}

// ListQueues lists queue URLs in name order, optionally by name prefix, paginated when MaxResults is
// set.
func (c *SQS) ListQueues(ctx context.Context, in *sqs.ListQueuesInput, _ ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error) {
	const op = "ListQueues"
	if in == nil {
		in = &sqs.ListQueuesInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, sqsErr(op, err)
	}
	max := int(aws.ToInt32(in.MaxResults))
	if in.MaxResults != nil && (max < 1 || max > 1000) {
		return nil, sqsErr(op, invalidValue("Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and 1000.", max))
	}
	prefix := aws.ToString(in.QueueNamePrefix)
	var names []string
	c.b.mu.RLock()
	for name := range c.b.queueNames {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	c.b.mu.RUnlock()
	sort.Strings(names)
	if after := aws.ToString(in.NextToken); after != "" {
		i := sort.SearchStrings(names, after)
		for i < len(names) && names[i] <= after {
			i++
		}
		names = names[i:]
	}
	out := &sqs.ListQueuesOutput{QueueUrls: []string{}}
	for i, name := range names {
		if max > 0 && i == max {
			out.NextToken = aws.String(names[i-1])
			break
		}
		out.QueueUrls = append(out.QueueUrls, c.b.queueURL(name))
	}
	return out, nil
}
