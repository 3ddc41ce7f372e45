package awstest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// PipelineOptions shapes the resources Target.Pipeline creates.
type PipelineOptions struct {
	// Prefix starts every resource name (default "pt"); a random suffix makes names unique.
	Prefix string
	// Raw turns on RawMessageDelivery for the subscription (the body is the published message and
	// SNS message attributes become SQS message attributes). Off: the SNS JSON envelope.
	Raw bool
	// FilterPolicy, if set, is the subscription's filter policy (JSON), with FilterPolicyScope
	// (default: SNS's own default, MessageAttributes).
	FilterPolicy      string
	FilterPolicyScope string
	// VisibilityTimeout of the main queue in seconds (default 30).
	VisibilityTimeout int
	// MaxReceiveCount > 0 sets a redrive policy on the main queue that moves a message to the DLQ
	// after that many receives. The DLQ is created either way.
	MaxReceiveCount int
	// FIFO makes the topic, queue and DLQ FIFO (names end in .fifo). The topic and both queues get
	// ContentBasedDeduplication=true (moto needs it on the queue too: Caps.FIFOTopicDropsContentDedup).
	FIFO bool
	// QueueAttributes are extra attributes for the main queue; they win over the ones above.
	QueueAttributes map[string]string
}

// Pipeline is a topic with one SQS subscription, its queue and the queue's DLQ.
type Pipeline struct {
	TopicARN        string
	QueueURL        string
	QueueARN        string
	DLQURL          string
	DLQARN          string
	SubscriptionARN string
}

// opTimeout bounds each admin call so a hung emulator fails the test instead of the whole run.
const opTimeout = 30 * time.Second

// UniqueName returns prefix-<random suffix>, valid as a topic or queue name.
func UniqueName(prefix string) string {
	if prefix == "" {
		prefix = "pt"
	}
	return prefix + "-" + strconv.FormatUint(rand.Uint64(), 36)
}

// Pipeline creates a uniquely named topic, queue, DLQ and subscription (topic → queue) on the
// target, and registers their deletion with t.Cleanup in a safe order: unsubscribe, delete the
// queues, delete the topic (moto fails every Publish to a topic that has a subscription to a
// deleted queue, moto.md §3). The queue gets a policy that lets the topic send to it, as real AWS
// requires; the emulators store it without enforcing it.
func (tg Target) Pipeline(t testing.TB, opts PipelineOptions) Pipeline {
	t.Helper()
	tg.Require(t)
	name := UniqueName(opts.Prefix)
	suffix := ""
	if opts.FIFO {
		suffix = ".fifo"
	}
	var p Pipeline

	// Created in the reverse of the cleanup order, since t.Cleanup runs last-registered first.
	topicAttrs := map[string]string{}
	if opts.FIFO {
		topicAttrs["FifoTopic"] = "true"
		topicAttrs["ContentBasedDeduplication"] = "true"
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	ct, err := tg.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name + suffix), Attributes: nilIfEmpty(topicAttrs)})
	if err != nil {
		t.Fatalf("%s: CreateTopic %s: %v", tg.Name, name+suffix, err)
	}
	p.TopicARN = aws.ToString(ct.TopicArn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := tg.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(p.TopicARN)}); err != nil {
			t.Errorf("%s: cleanup: DeleteTopic %s: %v", tg.Name, p.TopicARN, err)
		}
	})

	dlqAttrs := map[string]string{}
	if opts.FIFO {
		dlqAttrs["FifoQueue"] = "true"
		dlqAttrs["ContentBasedDeduplication"] = "true"
	}
	p.DLQURL, p.DLQARN = tg.createQueue(t, name+"-dlq"+suffix, dlqAttrs)

	vt := opts.VisibilityTimeout
	if vt <= 0 {
		vt = 30
	}
	qAttrs := map[string]string{"VisibilityTimeout": strconv.Itoa(vt)}
	if opts.FIFO {
		qAttrs["FifoQueue"] = "true"
		qAttrs["ContentBasedDeduplication"] = "true"
	}
	if opts.MaxReceiveCount > 0 {
		rp, _ := json.Marshal(map[string]string{
			"deadLetterTargetArn": p.DLQARN,
			"maxReceiveCount":     strconv.Itoa(opts.MaxReceiveCount),
		})
		qAttrs["RedrivePolicy"] = string(rp)
	}
	for k, v := range opts.QueueAttributes {
		qAttrs[k] = v
	}
	p.QueueURL, p.QueueARN = tg.createQueue(t, name+suffix, qAttrs)

	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"topic-to-queue","Effect":"Allow",`+
		`"Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,`+
		`"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, p.QueueARN, p.TopicARN)
	if _, err := tg.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(p.QueueURL),
		Attributes: map[string]string{"Policy": policy},
	}); err != nil {
		t.Fatalf("%s: SetQueueAttributes Policy on %s: %v", tg.Name, p.QueueURL, err)
	}

	subAttrs := map[string]string{}
	if opts.Raw {
		subAttrs["RawMessageDelivery"] = "true"
	}
	if opts.FilterPolicy != "" {
		subAttrs["FilterPolicy"] = opts.FilterPolicy
		if opts.FilterPolicyScope != "" {
			subAttrs["FilterPolicyScope"] = opts.FilterPolicyScope
		}
	}
	sub, err := tg.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:              aws.String(p.TopicARN),
		Protocol:              aws.String("sqs"),
		Endpoint:              aws.String(p.QueueARN),
		Attributes:            nilIfEmpty(subAttrs),
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		t.Fatalf("%s: Subscribe %s to %s: %v", tg.Name, p.QueueARN, p.TopicARN, err)
	}
	p.SubscriptionARN = aws.ToString(sub.SubscriptionArn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := tg.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(p.SubscriptionARN)}); err != nil {
			t.Errorf("%s: cleanup: Unsubscribe %s: %v", tg.Name, p.SubscriptionARN, err)
		}
	})
	return p
}

// Queue creates a lone, uniquely named queue (prefix-<random>, plus .fifo when attrs has
// FifoQueue=true) and deletes it in t.Cleanup. It returns the queue's URL and ARN.
func (tg Target) Queue(t testing.TB, prefix string, attrs map[string]string) (url, arn string) {
	t.Helper()
	tg.Require(t)
	name := UniqueName(prefix)
	if strings.EqualFold(attrs["FifoQueue"], "true") {
		name += ".fifo"
	}
	return tg.createQueue(t, name, attrs)
}

func (tg Target) createQueue(t testing.TB, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cq, err := tg.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: nilIfEmpty(attrs)})
	if err != nil {
		t.Fatalf("%s: CreateQueue %s: %v", tg.Name, name, err)
	}
	url = aws.ToString(cq.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := tg.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("%s: cleanup: DeleteQueue %s: %v", tg.Name, url, err)
		}
	})
	ga, err := tg.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("%s: GetQueueAttributes QueueArn of %s: %v", tg.Name, url, err)
	}
	arn = ga.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		t.Fatalf("%s: GetQueueAttributes of %s returned no QueueArn (got %v)", tg.Name, url, ga.Attributes)
	}
	return url, arn
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
