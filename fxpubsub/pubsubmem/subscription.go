package pubsubmem

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// subscription delivers a topic's messages to an SQS queue (by ARN, resolved at each publish).
type subscription struct {
	arn      string
	topic    *topic
	endpoint string
	cfg      atomic.Pointer[subConfig]
}

// subConfig is a subscription's attributes; replaced whole on change.
type subConfig struct {
	raw    bool
	filter *filterPolicy
	attrs  map[string]string // as set, for GetSubscriptionAttributes
}

var settableSubscriptionAttributes = map[string]bool{
	"RawMessageDelivery": true, "FilterPolicy": true, "FilterPolicyScope": true, "RedrivePolicy": true,
	"DeliveryPolicy": true, "SubscriptionRoleArn": true,
}

// withAttrs returns a copy of cfg with attrs applied, validated.
func (cfg *subConfig) withAttrs(attrs map[string]string) (*subConfig, error) {
	n := &subConfig{attrs: map[string]string{}}
	if cfg != nil {
		for k, v := range cfg.attrs {
			n.attrs[k] = v
		}
	}
	for k, v := range attrs {
		if !settableSubscriptionAttributes[k] {
			return nil, snsInvalid("AttributeName")
		}
		switch k {
		case "RawMessageDelivery":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, snsInvalid("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", v)
			}
			v = strconv.FormatBool(b)
		case "FilterPolicyScope":
			if v != "MessageAttributes" && v != "MessageBody" {
				return nil, snsInvalid("Attributes Reason: FilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes", v)
			}
		}
		if v == "" {
			delete(n.attrs, k)
		} else {
			n.attrs[k] = v
		}
	}
	n.raw = n.attrs["RawMessageDelivery"] == "true"
	if policy := n.attrs["FilterPolicy"]; policy != "" {
		fp, err := parseFilterPolicy(policy, n.attrs["FilterPolicyScope"] == "MessageBody")
		if err != nil {
			return nil, snsInvalid("FilterPolicy: %v", err)
		}
		n.filter = fp
	}
	return n, nil
}

// Subscribe subscribes an SQS queue (Endpoint = queue ARN) to a topic. Subscribing the same queue again
// returns the same SubscriptionArn (and fails if the attributes differ, as on AWS).
func (c *SNS) Subscribe(ctx context.Context, in *sns.SubscribeInput, _ ...func(*sns.Options)) (*sns.SubscribeOutput, error) {
	const op = "Subscribe"
	if in == nil {
		in = &sns.SubscribeInput{}
	}
	if err := c.b.check(ctx); err != nil {
		return nil, snsErr(op, err)
	}
	if aws.ToString(in.Protocol) != "sqs" {
		return nil, snsErr(op, snsInvalid("Protocol Reason: only the sqs protocol is supported by the in-memory backend"))
	}
	endpoint := aws.ToString(in.Endpoint)
	if !strings.HasPrefix(endpoint, "arn:aws:sqs:") || strings.Count(endpoint, ":") != 5 {
		return nil, snsErr(op, snsInvalid("SQS endpoint ARN"))
	}
	t, err := c.topic(in.TopicArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	if strings.HasSuffix(endpoint, ".fifo") && !t.fifo {
		return nil, snsErr(op, snsInvalid("Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"))
	}
	cfg, err := (*subConfig)(nil).withAttrs(in.Attributes)
	if err != nil {
		return nil, snsErr(op, err)
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.b.topics[t.arn] != t {
		return nil, snsErr(op, errNoTopic())
	}
	for _, s := range t.subs {
		if s.endpoint == endpoint {
			cur := s.cfg.Load()
			for k, v := range cfg.attrs {
				if cur.attrs[k] != v {
					return nil, snsErr(op, snsInvalid("Attributes Reason: Subscription already exists with different attributes"))
				}
			}
			return &sns.SubscribeOutput{SubscriptionArn: aws.String(s.arn)}, nil
		}
	}
	s := &subscription{arn: t.arn + ":" + c.b.ids.newUUID(), topic: t, endpoint: endpoint}
	s.cfg.Store(cfg)
	subs := make([]*subscription, len(t.subs), len(t.subs)+1)
	copy(subs, t.subs)
	t.subs = append(subs, s)
	c.b.subs[s.arn] = s
	return &sns.SubscribeOutput{SubscriptionArn: aws.String(s.arn)}, nil
}

func (c *SNS) subscription(arn *string) (*subscription, error) {
	if aws.ToString(arn) == "" {
		return nil, snsInvalid("SubscriptionArn")
	}
	c.b.mu.RLock()
	s := c.b.subs[*arn]
	c.b.mu.RUnlock()
	if s == nil {
		return nil, &snstypes.NotFoundException{Message: aws.String("Subscription does not exist")}
	}
	return s, nil
}

// Unsubscribe deletes a subscription.
func (c *SNS) Unsubscribe(ctx context.Context, in *sns.UnsubscribeInput, _ ...func(*sns.Options)) (*sns.UnsubscribeOutput, error) {
	const op = "Unsubscribe"
	if in == nil {
		in = &sns.UnsubscribeInput{}
	}
	s, err := c.liveSubscription(ctx, in.SubscriptionArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	t := s.topic
	subs := make([]*subscription, 0, len(t.subs))
	for _, x := range t.subs {
		if x != s {
			subs = append(subs, x)
		}
	}
	t.subs = subs
	delete(c.b.subs, s.arn)
	return &sns.UnsubscribeOutput{}, nil
}

// SetSubscriptionAttributes sets one subscription attribute (RawMessageDelivery, FilterPolicy,
// FilterPolicyScope; RedrivePolicy, DeliveryPolicy and SubscriptionRoleArn are stored only).
func (c *SNS) SetSubscriptionAttributes(ctx context.Context, in *sns.SetSubscriptionAttributesInput, _ ...func(*sns.Options)) (*sns.SetSubscriptionAttributesOutput, error) {
	const op = "SetSubscriptionAttributes"
	if in == nil {
		in = &sns.SetSubscriptionAttributesInput{}
	}
	s, err := c.liveSubscription(ctx, in.SubscriptionArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	c.b.mu.Lock() // serializes read-modify-write of cfg
	defer c.b.mu.Unlock()
	cfg, err := s.cfg.Load().withAttrs(map[string]string{aws.ToString(in.AttributeName): aws.ToString(in.AttributeValue)})
	if err != nil {
		return nil, snsErr(op, err)
	}
	s.cfg.Store(cfg)
	return &sns.SetSubscriptionAttributesOutput{}, nil
}

// GetSubscriptionAttributes returns a subscription's attributes.
func (c *SNS) GetSubscriptionAttributes(ctx context.Context, in *sns.GetSubscriptionAttributesInput, _ ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error) {
	const op = "GetSubscriptionAttributes"
	if in == nil {
		in = &sns.GetSubscriptionAttributesInput{}
	}
	s, err := c.liveSubscription(ctx, in.SubscriptionArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	cfg := s.cfg.Load()
	out := map[string]string{
		"SubscriptionArn": s.arn, "TopicArn": s.topic.arn, "Owner": c.b.account, "Protocol": "sqs",
		"Endpoint": s.endpoint, "RawMessageDelivery": "false", "PendingConfirmation": "false",
		"ConfirmationWasAuthenticated": "true", "SubscriptionPrincipal": "arn:aws:iam::" + c.b.account + ":root",
	}
	for k, v := range cfg.attrs {
		out[k] = v
	}
	if cfg.filter != nil && out["FilterPolicyScope"] == "" {
		out["FilterPolicyScope"] = "MessageAttributes"
	}
	return &sns.GetSubscriptionAttributesOutput{Attributes: out}, nil
}

// ListSubscriptionsByTopic lists a topic's subscriptions in one page.
func (c *SNS) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	const op = "ListSubscriptionsByTopic"
	if in == nil {
		in = &sns.ListSubscriptionsByTopicInput{}
	}
	t, err := c.liveTopic(ctx, in.TopicArn)
	if err != nil {
		return nil, snsErr(op, err)
	}
	c.b.mu.RLock()
	subs := t.subs
	c.b.mu.RUnlock()
	out := &sns.ListSubscriptionsByTopicOutput{Subscriptions: make([]snstypes.Subscription, len(subs))}
	for i, s := range subs {
		out.Subscriptions[i] = snstypes.Subscription{
			SubscriptionArn: aws.String(s.arn), TopicArn: aws.String(t.arn), Protocol: aws.String("sqs"),
			Endpoint: aws.String(s.endpoint), Owner: aws.String(c.b.account),
		}
	}
	return out, nil
}
