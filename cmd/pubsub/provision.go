package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

var provisionCommand = &command{
	name:    "provision",
	args:    "--topic NAME [--queue NAME] [--dlq NAME] [--max-receive-count N] [--visibility-timeout S] [--raw] [--filter-media-type MT]... [--fifo] [--app NAME] [--json]",
	summary: "create (idempotently) a topic, a queue with a dead-letter queue, and the subscription between them",
	details: `
Creates or updates, in order:
  1. the SNS topic NAME;
  2. the dead-letter queue (default <queue>-dlq);
  3. the queue (default: the topic's name) with VisibilityTimeout and a RedrivePolicy that moves a
     message to the DLQ after --max-receive-count receives;
  4. the queue's access policy allowing the topic to send to it (AWS requires it; the emulators
     ignore it);
  5. the subscription topic -> queue: raw delivery with --raw (else the SNS envelope; consumers
     read both), and with --filter-media-type a filter policy on the media_type attribute.
Running it again converges existing resources to these settings (a queue's FIFO-ness can't
change). It prints the ARNs and URLs and the configuration lines that point a consumer daemon
(--app NAME) and this command at them.`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		p := provisionSpec{}
		fs.StringVar(&p.topic, "topic", "", "topic `name` (required)")
		fs.StringVar(&p.queue, "queue", "", "queue `name` (default: the topic name)")
		fs.StringVar(&p.dlq, "dlq", "", "dead-letter queue `name` (default: <queue>-dlq)")
		fs.IntVar(&p.maxReceive, "max-receive-count", 5, "receives before a message moves to the DLQ (`N`)")
		fs.IntVar(&p.visibility, "visibility-timeout", 30, "the queue's visibility timeout in `seconds`")
		fs.BoolVar(&p.raw, "raw", false, "raw message delivery (no SNS envelope)")
		fs.Var(&p.filter, "filter-media-type", "deliver only this media `type` (or resource name for created(name)); repeatable")
		fs.BoolVar(&p.fifo, "fifo", false, "FIFO topic and queues (names get .fifo)")
		app := fs.String("app", appName, "`name` of the consumer daemon, for the printed environment variables")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		return func(ctx context.Context, s *streams) error {
			if err := p.normalize(); err != nil {
				return err
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			snsc, err := g.snsClient(ctx, cfg)
			if err != nil {
				return err
			}
			sqsc, err := g.sqsClient(ctx, cfg)
			if err != nil {
				return err
			}
			res, err := p.apply(ctx, snsc, sqsc, s)
			if err != nil {
				return err
			}
			if *asJSON {
				b, _ := json.MarshalIndent(res, "", "  ")
				fmt.Fprintln(s.stdout, string(b))
				return nil
			}
			res.print(s, *app)
			return nil
		}
	},
}

type provisionSpec struct {
	topic, queue, dlq      string
	maxReceive, visibility int
	raw, fifo              bool
	filter                 listFlag
}

// provisioned is what provision created.
type provisioned struct {
	TopicARN        string `json:"topic_arn"`
	QueueURL        string `json:"queue_url"`
	QueueARN        string `json:"queue_arn"`
	DLQURL          string `json:"dlq_url"`
	DLQARN          string `json:"dlq_arn"`
	SubscriptionARN string `json:"subscription_arn"`
}

func (p *provisionSpec) normalize() error {
	if p.topic == "" {
		return usagef("--topic is required")
	}
	if p.queue == "" {
		p.queue = strings.TrimSuffix(p.topic, ".fifo")
	}
	if p.dlq == "" {
		p.dlq = strings.TrimSuffix(p.queue, ".fifo") + "-dlq"
	}
	if p.fifo {
		for _, n := range []*string{&p.topic, &p.queue, &p.dlq} {
			if !strings.HasSuffix(*n, ".fifo") {
				*n += ".fifo"
			}
		}
	}
	switch {
	case p.maxReceive < 1 || p.maxReceive > 1000:
		return usagef("--max-receive-count must be between 1 and 1000")
	case p.visibility < 0 || p.visibility > 43200:
		return usagef("--visibility-timeout must be between 0 and 43200")
	}
	for i, mt := range p.filter {
		p.filter[i] = resolveMediaType(mt)
	}
	return nil
}

func (p *provisionSpec) apply(ctx context.Context, snsc *sns.Client, sqsc *sqs.Client, s *streams) (*provisioned, error) {
	res := &provisioned{}
	topicAttrs := map[string]string{}
	if p.fifo {
		topicAttrs["FifoTopic"] = "true"
		topicAttrs["ContentBasedDeduplication"] = "true"
	}
	ct, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(p.topic), Attributes: nilIfEmpty(topicAttrs)})
	if err != nil {
		return nil, fmt.Errorf("create topic %s: %w", p.topic, err)
	}
	res.TopicARN = aws.ToString(ct.TopicArn)
	s.progress("topic ready: %s", res.TopicARN)

	fifoAttrs := map[string]string{}
	if p.fifo {
		fifoAttrs["FifoQueue"] = "true"
		fifoAttrs["ContentBasedDeduplication"] = "true"
	}
	if res.DLQURL, res.DLQARN, err = ensureQueue(ctx, sqsc, p.dlq, fifoAttrs, nil, s); err != nil {
		return nil, err
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": res.DLQARN, "maxReceiveCount": strconv.Itoa(p.maxReceive)})
	mutable := map[string]string{"VisibilityTimeout": strconv.Itoa(p.visibility), "RedrivePolicy": string(redrive)}
	if res.QueueURL, res.QueueARN, err = ensureQueue(ctx, sqsc, p.queue, fifoAttrs, mutable, s); err != nil {
		return nil, err
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"topic-%s","Effect":"Allow",`+
		`"Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,`+
		`"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, p.topic, res.QueueARN, res.TopicARN)
	if _, err := sqsc.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(res.QueueURL), Attributes: map[string]string{"Policy": policy}}); err != nil {
		return nil, fmt.Errorf("set queue policy on %s: %w", p.queue, err)
	}
	s.progress("queue policy ready: %s may send to %s", p.topic, p.queue)

	if res.SubscriptionARN, err = p.subscribe(ctx, snsc, res); err != nil {
		return nil, err
	}
	s.progress("subscription ready: %s", res.SubscriptionARN)
	return res, nil
}

// ensureQueue creates the queue, or updates the mutable attributes of an existing one, and returns
// its URL and ARN.
func ensureQueue(ctx context.Context, c *sqs.Client, name string, create, mutable map[string]string, s *streams) (url, arn string, err error) {
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *sqstypes.QueueDoesNotExist
	switch {
	case errors.As(err, &missing):
		attrs := map[string]string{}
		for k, v := range create {
			attrs[k] = v
		}
		for k, v := range mutable {
			attrs[k] = v
		}
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: nilIfEmpty(attrs)})
		if err != nil {
			return "", "", fmt.Errorf("create queue %s: %w", name, err)
		}
		url = aws.ToString(out.QueueUrl)
		s.progress("queue created: %s", url)
	case err != nil:
		return "", "", fmt.Errorf("look up queue %s: %w", name, err)
	default:
		url = aws.ToString(got.QueueUrl)
		if len(mutable) > 0 {
			if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: mutable}); err != nil {
				return "", "", fmt.Errorf("update queue %s: %w", name, err)
			}
		}
		if len(mutable) > 0 {
			s.progress("queue exists, attributes updated: %s", url)
		} else {
			s.progress("queue exists: %s", url)
		}
	}
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("queue %s ARN: %w", name, err)
	}
	return url, ga.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// subscribe finds the topic's subscription of the queue and sets its attributes, or creates it.
func (p *provisionSpec) subscribe(ctx context.Context, c *sns.Client, res *provisioned) (string, error) {
	attrs := map[string]string{"RawMessageDelivery": strconv.FormatBool(p.raw)}
	if len(p.filter) > 0 {
		fp, _ := json.Marshal(map[string][]string{"media_type": p.filter})
		attrs["FilterPolicy"] = string(fp)
	}
	existing := ""
	pages := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(res.TopicARN)})
	for pages.HasMorePages() && existing == "" {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list subscriptions of %s: %w", res.TopicARN, err)
		}
		for _, sub := range page.Subscriptions {
			if aws.ToString(sub.Protocol) == "sqs" && aws.ToString(sub.Endpoint) == res.QueueARN {
				existing = aws.ToString(sub.SubscriptionArn)
				break
			}
		}
	}
	if existing == "" {
		out, err := c.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: aws.String(res.TopicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(res.QueueARN),
			Attributes: attrs, ReturnSubscriptionArn: true,
		})
		if err != nil {
			return "", fmt.Errorf("subscribe %s to %s: %w", res.QueueARN, res.TopicARN, err)
		}
		return aws.ToString(out.SubscriptionArn), nil
	}
	for k, v := range attrs {
		if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
			SubscriptionArn: aws.String(existing), AttributeName: aws.String(k), AttributeValue: aws.String(v),
		}); err != nil {
			return "", fmt.Errorf("set %s on subscription %s: %w", k, existing, err)
		}
	}
	return existing, nil
}

func (r *provisioned) print(s *streams, app string) {
	w := s.stdout
	fmt.Fprintf(w, "topic_arn:        %s\n", r.TopicARN)
	fmt.Fprintf(w, "queue_url:        %s\n", r.QueueURL)
	fmt.Fprintf(w, "queue_arn:        %s\n", r.QueueARN)
	fmt.Fprintf(w, "dlq_url:          %s\n", r.DLQURL)
	fmt.Fprintf(w, "dlq_arn:          %s\n", r.DLQARN)
	fmt.Fprintf(w, "subscription_arn: %s\n", r.SubscriptionARN)
	prefix := strings.ToUpper(strings.ReplaceAll(app, "-", "_"))
	fmt.Fprintf(w, `
# Configuration for the daemon %[1]q, as a YAML file:
sns_topic_arns:
  default: %[2]s
sqs_consumer:
  sqs_queue_url: %[3]s
# or as environment variables:
export %[4]s__SNS_TOPIC_ARNS__DEFAULT=%[2]s
export %[4]s__SQS_CONSUMER__SQS_QUEUE_URL=%[3]s
`, app, r.TopicARN, r.QueueURL, prefix)
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
