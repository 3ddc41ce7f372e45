package pubsubmem

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS is the backend's SNS client. Its methods have the signatures of *sns.Client's; option functions
// are accepted and ignored. Only the "sqs" protocol is supported, for queues of the same backend.
type SNS struct{ b *Backend }

// topic is one SNS topic. subs is guarded by Backend.mu (copy on write); the rest by mu.
type topic struct {
	name, arn string
	fifo      bool
	subs      []*subscription

	mu           sync.Mutex
	attrs        map[string]string
	contentDedup bool
	dedup        dedupCache
	fifoState    fifoState // only its sequence counter is used
}

// settableTopicAttributes are stored and returned; only FifoTopic and ContentBasedDeduplication act.
var settableTopicAttributes = map[string]bool{
	"DisplayName": true, "Policy": true, "DeliveryPolicy": true, "KmsMasterKeyId": true, "SignatureVersion": true,
	"TracingConfig": true, "ContentBasedDeduplication": true, "FifoTopic": true, "ArchivePolicy": true,
	"FifoThroughputScope": true, "DataProtectionPolicy": true,
}

func snsInvalid(format string, args ...any) error {
	return &snstypes.InvalidParameterException{Message: aws.String("Invalid parameter: " + fmt.Sprintf(format, args...))}
}

func errNoTopic() error {
	return &snstypes.NotFoundException{Message: aws.String("Topic does not exist")}
}

func normalizeTopicAttr(name, v string) string {
	if name == "FifoTopic" || name == "ContentBasedDeduplication" {
		return strconv.FormatBool(strings.EqualFold(v, "true"))
	}
	return v
}

// setTopicAttr validates and applies one attribute; t.mu must be held (or t unpublished).
func (t *topic) setAttr(name, v string, creating bool) error {
	if !settableTopicAttributes[name] {
		return snsInvalid("AttributeName")
	}
	switch name {
	case "FifoTopic":
		if !creating {
			return snsInvalid("AttributeName")
		}
	case "ContentBasedDeduplication":
		if !t.fifo {
			return snsInvalid("ContentBasedDeduplication Reason: Content based deduplication can only be set for FIFO topics")
		}
		t.contentDedup = strings.EqualFold(v, "true")
	}
	t.attrs[name] = normalizeTopicAttr(name, v)
	return nil
}

// CreateTopic creates a topic or returns the ARN of the existing topic of that name. Names ending in
// ".fifo" need FifoTopic=true, which makes a FIFO topic. Asking again with different attributes fails
// with *snstypes.InvalidParameterException, as on AWS.
func (c *SNS) CreateTopic(ctx context.Context, in *sns.CreateTopicInput, _ ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	const op = "CreateTopic"
	if in == nil {
		in = &sns.CreateTopicInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, snsErr(op, err)
	}
	name := aws.ToString(in.Name)
	fifo := strings.HasSuffix(name, ".fifo")
	if !validName(name, 256) {
		return nil, snsErr(op, snsInvalid("Topic Name"))
	}
	if fifo != strings.EqualFold(in.Attributes["FifoTopic"], "true") {
		return nil, snsErr(op, snsInvalid("Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."))
	}
	arn := c.b.arn("sns", name)
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if t := c.b.topics[arn]; t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		for k, v := range in.Attributes {
			if normalizeTopicAttr(k, t.attrs[k]) != normalizeTopicAttr(k, v) {
				return nil, snsErr(op, snsInvalid("Attributes Reason: Topic already exists with different attributes"))
			}
		}
		return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
	}
	t := &topic{name: name, arn: arn, fifo: fifo, attrs: map[string]string{}}
	for k, v := range in.Attributes {
		if err := t.setAttr(k, v, true); err != nil {
			return nil, snsErr(op, err)
		}
	}
	c.b.topics[arn] = t
	return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
}

// DeleteTopic deletes a topic and its subscriptions; deleting a missing topic succeeds, as on AWS.
func (c *SNS) DeleteTopic(ctx context.Context, in *sns.DeleteTopicInput, _ ...func(*sns.Options)) (*sns.DeleteTopicOutput, error) {
	const op = "DeleteTopic"
	if in == nil {
		in = &sns.DeleteTopicInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, snsErr(op, err)
	}
	if aws.ToString(in.TopicArn) == "" {
		return nil, snsErr(op, snsInvalid("TopicArn"))
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if t := c.b.topics[*in.TopicArn]; t != nil {
		for _, s := range t.subs {
			delete(c.b.subs, s.arn)
		}
		delete(c.b.topics, t.arn)
	}
	return &sns.DeleteTopicOutput{}, nil
}

// liveTopic is topic after the backend's availability check (closed backend, injected faults,
// ctx): how every call on an existing topic starts.
func (c *SNS) liveTopic(ctx context.Context, arn *string) (*topic, error) {
	if err := c.b.check(ctx); err != nil {
		return nil, err
	}
	return c.topic(arn)
}

// liveSubscription is subscription after the backend's availability check.
func (c *SNS) liveSubscription(ctx context.Context, arn *string) (*subscription, error) {
	if err := c.b.check(ctx); err != nil {
		return nil, err
	}
	return c.subscription(arn)
}

func (c *SNS) topic(arn *string) (*topic, error) {
	if aws.ToString(arn) == "" {
		return nil, snsInvalid("TopicArn")
	}
	c.b.mu.RLock()
	t := c.b.topics[*arn]
	c.b.mu.RUnlock()
	if t == nil {
		return nil, errNoTopic()
	}
	return t, nil
}

// GetTopicAttributes returns a topic's attributes.
func (c *SNS) GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	const op = "GetTopicAttributes"
	if in == nil {
		in = &sns.GetTopicAttributesInput{}
	}
	t, err := c.liveTopic(ctx, in.TopicArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	c.b.mu.RLock()
	nsubs := len(t.subs)
	c.b.mu.RUnlock()
	out := map[string]string{
		"TopicArn": t.arn, "Owner": c.b.account, "DisplayName": "",
		"SubscriptionsConfirmed": strconv.Itoa(nsubs), "SubscriptionsPending": "0", "SubscriptionsDeleted": "0",
	}
	t.mu.Lock()
	for k, v := range t.attrs {
		out[k] = v
	}
	t.mu.Unlock()
	if t.fifo {
		out["FifoTopic"] = "true"
		if _, ok := out["ContentBasedDeduplication"]; !ok {
			out["ContentBasedDeduplication"] = "false"
		}
	}
	return &sns.GetTopicAttributesOutput{Attributes: out}, nil
}

// SetTopicAttributes sets one topic attribute.
func (c *SNS) SetTopicAttributes(ctx context.Context, in *sns.SetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.SetTopicAttributesOutput, error) {
	const op = "SetTopicAttributes"
	if in == nil {
		in = &sns.SetTopicAttributesInput{}
	}
	t, err := c.liveTopic(ctx, in.TopicArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	t.mu.Lock()
	err = t.setAttr(aws.ToString(in.AttributeName), aws.ToString(in.AttributeValue), false)
	t.mu.Unlock()
	if err != nil {
		return nil, snsErr(op, err)
	}
	return &sns.SetTopicAttributesOutput{}, nil
}

// ListTopics lists every topic in ARN order, in one page.
func (c *SNS) ListTopics(ctx context.Context, in *sns.ListTopicsInput, _ ...func(*sns.Options)) (*sns.ListTopicsOutput, error) {
	const op = "ListTopics"
	if err := c.b.check(ctx); err != nil {
		return nil, snsErr(op, err)
	}
	c.b.mu.RLock()
	arns := make([]string, 0, len(c.b.topics))
	for arn := range c.b.topics {
		arns = append(arns, arn)
	}
	c.b.mu.RUnlock()
	sort.Strings(arns)
	out := &sns.ListTopicsOutput{Topics: make([]snstypes.Topic, len(arns))}
	for i := range arns {
		out.Topics[i].TopicArn = &arns[i]
	}
	return out, nil
}
