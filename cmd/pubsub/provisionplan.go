package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// provisionPlan is what provision found and what it will do: create what is missing (creates),
// and, with --update, apply the differences of existing resources (diffs).
type provisionPlan struct {
	spec    *provisionSpec
	creates []string // "topic orders", ...
	diffs   []diff
	res     provisioned // what exists already (ARNs and URLs; empty where missing)

	queueAttrs map[string]string // of the existing queue
	subAttrs   map[string]string // of the existing subscription
}

// diff is one attribute of an existing resource that differs from what was asked for.
type diff struct {
	resource, attribute string
	have, want          string // as printed
	// apply sets the wanted value on the resource (res has every ARN and URL by then).
	apply func(ctx context.Context, snsc *sns.Client, sqsc *sqs.Client, res *provisioned) error
}

// read looks at the topic, the queues and the subscription without changing anything.
func (p *provisionSpec) read(ctx context.Context, snsc *sns.Client, sqsc *sqs.Client) (*provisionPlan, error) {
	pl := &provisionPlan{spec: p}
	arn, err := findTopic(ctx, snsc, p.topic)
	if err != nil {
		return nil, err
	}
	pl.res.TopicARN = arn
	if arn == "" {
		pl.creates = append(pl.creates, "topic "+p.topic)
	}

	pl.res.QueueURL, pl.queueAttrs, err = lookupQueue(ctx, sqsc, p.queue)
	if err != nil {
		return nil, err
	}
	dlqName := p.dlq
	var rp redrivePolicy
	if pl.res.QueueURL != "" {
		pl.res.QueueARN = pl.queueAttrs[string(sqstypes.QueueAttributeNameQueueArn)]
		if fifo := pl.queueAttrs[string(sqstypes.QueueAttributeNameFifoQueue)] == "true"; fifo != p.fifo {
			return nil, fmt.Errorf("queue %s exists with FifoQueue=%t, and a queue's FIFO-ness can't change", p.queue, fifo)
		}
		rp = parseRedrivePolicy(pl.queueAttrs[string(sqstypes.QueueAttributeNameRedrivePolicy)])
		if rp.target != "" && !p.given["dlq"] {
			dlqName = rp.target[strings.LastIndexByte(rp.target, ':')+1:] // keep the queue's own DLQ
		}
	}

	pl.res.DLQURL, _, err = lookupQueue(ctx, sqsc, dlqName)
	if err != nil {
		return nil, err
	}
	if pl.res.DLQURL == "" {
		if rp.target != "" && !p.given["dlq"] {
			return nil, fmt.Errorf("queue %s: its RedrivePolicy names %s, which does not exist (pass --dlq NAME and --update to point it elsewhere)", p.queue, rp.target)
		}
		pl.creates = append(pl.creates, "dead-letter queue "+dlqName)
		p.dlq = dlqName
	} else {
		p.dlq = dlqName
		if pl.res.DLQARN, err = queueARN(ctx, sqsc, pl.res.DLQURL); err != nil {
			return nil, err
		}
	}

	if pl.res.QueueURL == "" {
		pl.creates = append(pl.creates, "queue "+p.queue, "access policy of queue "+p.queue+" for topic "+p.topic)
	} else {
		pl.queueDiffs(rp)
	}

	if pl.res.TopicARN != "" && pl.res.QueueARN != "" {
		if pl.res.SubscriptionARN, pl.subAttrs, err = findSubscription(ctx, snsc, pl.res.TopicARN, pl.res.QueueARN); err != nil {
			return nil, err
		}
	}
	if pl.res.SubscriptionARN == "" {
		pl.creates = append(pl.creates, "subscription "+p.topic+" -> "+p.queue)
	} else {
		pl.subscriptionDiffs()
	}
	return pl, nil
}

// queueDiffs compares the existing queue with the flags given.
func (pl *provisionPlan) queueDiffs(rp redrivePolicy) {
	p, queue := pl.spec, "queue "+pl.spec.queue
	setAttr := func(name string, value func(res *provisioned) string) func(context.Context, *sns.Client, *sqs.Client, *provisioned) error {
		return func(ctx context.Context, _ *sns.Client, c *sqs.Client, res *provisioned) error {
			_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(res.QueueURL), Attributes: map[string]string{name: value(res)}})
			if err != nil {
				return fmt.Errorf("set %s of queue %s: %w", name, p.queue, err)
			}
			return nil
		}
	}
	if have := pl.queueAttrs["VisibilityTimeout"]; p.given["visibility-timeout"] && have != strconv.Itoa(p.visibility) {
		pl.diffs = append(pl.diffs, diff{resource: queue, attribute: "VisibilityTimeout", have: have, want: strconv.Itoa(p.visibility),
			apply: setAttr("VisibilityTimeout", func(*provisioned) string { return strconv.Itoa(p.visibility) })})
	}
	wantMax := rp.maxReceive
	if p.given["max-receive-count"] || rp.target == "" {
		wantMax = strconv.Itoa(p.maxReceive)
	}
	dlqARN := pl.res.DLQARN
	if dlqARN == "" {
		dlqARN = "(the new " + p.dlq + ")"
	}
	if rp.target != dlqARN || rp.maxReceive != wantMax {
		have := "none"
		if rp.target != "" {
			have = fmt.Sprintf("dead letters to %s after %s receives", rp.target, rp.maxReceive)
		}
		pl.diffs = append(pl.diffs, diff{resource: queue, attribute: "RedrivePolicy", have: have,
			want: fmt.Sprintf("dead letters to %s after %s receives", dlqARN, wantMax),
			apply: setAttr("RedrivePolicy", func(res *provisioned) string {
				b, _ := json.Marshal(map[string]string{"deadLetterTargetArn": res.DLQARN, "maxReceiveCount": wantMax})
				return string(b)
			})})
	}
	policy := pl.queueAttrs["Policy"]
	if pl.res.TopicARN == "" || !grantsTopic(policy, pl.res.TopicARN) {
		kept := len(policyStatements(policy))
		pl.diffs = append(pl.diffs, diff{resource: queue, attribute: "Policy",
			have: fmt.Sprintf("%d statement(s), none letting topic %s send", kept, p.topic),
			want: fmt.Sprintf("+ statement %s (topic %s may send), %d other statement(s) kept", policySid(p.topic), p.topic, kept),
			apply: func(ctx context.Context, _ *sns.Client, c *sqs.Client, res *provisioned) error {
				merged, err := mergePolicy(policy, topicStatement(p.topic, res.QueueARN, res.TopicARN))
				if err != nil {
					return fmt.Errorf("queue %s: %w", p.queue, err)
				}
				return setAttr("Policy", func(*provisioned) string { return merged })(ctx, nil, c, res)
			}})
	}
}

// subscriptionDiffs compares the existing subscription with the flags given.
func (pl *provisionPlan) subscriptionDiffs() {
	p, what := pl.spec, "subscription "+pl.spec.topic+" -> "+pl.spec.queue
	want := map[string]string{}
	if p.given["raw"] {
		want["RawMessageDelivery"] = strconv.FormatBool(p.raw)
	}
	if len(p.filter) > 0 {
		want["FilterPolicy"] = filterPolicy(p.filter)
	}
	for _, k := range []string{"RawMessageDelivery", "FilterPolicy"} {
		v, ok := want[k]
		if !ok || sameJSON(pl.subAttrs[k], v) || (k == "RawMessageDelivery" && v == "false" && pl.subAttrs[k] == "") {
			continue
		}
		pl.diffs = append(pl.diffs, diff{resource: what, attribute: k, have: firstNonEmpty(pl.subAttrs[k], "none"), want: v,
			apply: func(ctx context.Context, c *sns.Client, _ *sqs.Client, res *provisioned) error {
				if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
					SubscriptionArn: aws.String(res.SubscriptionARN), AttributeName: aws.String(k), AttributeValue: aws.String(v),
				}); err != nil {
					return fmt.Errorf("set %s on subscription %s: %w", k, res.SubscriptionARN, err)
				}
				return nil
			}})
	}
}

func (pl *provisionPlan) changes() bool { return len(pl.creates) > 0 || len(pl.diffs) > 0 }

// summary lists the resources the plan touches, for the confirmation.
func (pl *provisionPlan) summary() []string {
	var out []string
	for _, c := range pl.creates {
		out = append(out, "create:   "+c)
	}
	for _, d := range pl.diffs {
		out = append(out, "update:   "+d.resource+" "+d.attribute)
	}
	return out
}

// print writes the plan: what is created, what exists, and each difference.
func (pl *provisionPlan) print(w io.Writer, update bool) {
	for _, c := range pl.creates {
		fmt.Fprintf(w, "create   %s\n", c)
	}
	for _, e := range []struct{ what, id string }{
		{"topic " + pl.spec.topic, pl.res.TopicARN}, {"dead-letter queue " + pl.spec.dlq, pl.res.DLQURL},
		{"queue " + pl.spec.queue, pl.res.QueueURL}, {"subscription " + pl.spec.topic + " -> " + pl.spec.queue, pl.res.SubscriptionARN},
	} {
		if e.id != "" {
			fmt.Fprintf(w, "exists   %s: %s\n", e.what, e.id)
		}
	}
	verb := "differs "
	if update {
		verb = "update  "
	}
	for _, d := range pl.diffs {
		fmt.Fprintf(w, "%s %s %s:\n    - %s\n    + %s\n", verb, d.resource, d.attribute, d.have, d.want)
	}
	if !pl.changes() {
		fmt.Fprintln(w, "nothing to change")
	}
}

// apply creates what is missing and applies the differences.
func (pl *provisionPlan) apply(ctx context.Context, snsc *sns.Client, sqsc *sqs.Client, s *streams) (*provisioned, error) {
	p, res := pl.spec, pl.res
	if res.TopicARN == "" {
		attrs := map[string]string{}
		if p.fifo {
			attrs["FifoTopic"], attrs["ContentBasedDeduplication"] = "true", "true"
		}
		ct, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(p.topic), Attributes: nilIfEmpty(attrs)})
		if err != nil {
			return nil, fmt.Errorf("create topic %s: %w", p.topic, err)
		}
		res.TopicARN = aws.ToString(ct.TopicArn)
		s.progress("topic created: %s", res.TopicARN)
	}
	fifo := map[string]string{}
	if p.fifo {
		fifo["FifoQueue"], fifo["ContentBasedDeduplication"] = "true", "true"
	}
	var err error
	if res.DLQURL == "" {
		if res.DLQURL, res.DLQARN, err = createQueue(ctx, sqsc, p.dlq, fifo); err != nil {
			return nil, err
		}
		s.progress("dead-letter queue created: %s", res.DLQURL)
	}
	if res.QueueURL == "" {
		attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(p.visibility)}
		b, _ := json.Marshal(map[string]string{"deadLetterTargetArn": res.DLQARN, "maxReceiveCount": strconv.Itoa(p.maxReceive)})
		attrs["RedrivePolicy"] = string(b)
		for k, v := range fifo {
			attrs[k] = v
		}
		if res.QueueURL, res.QueueARN, err = createQueue(ctx, sqsc, p.queue, attrs); err != nil {
			return nil, err
		}
		policy, _ := mergePolicy("", topicStatement(p.topic, res.QueueARN, res.TopicARN))
		if _, err := sqsc.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(res.QueueURL), Attributes: map[string]string{"Policy": policy}}); err != nil {
			return nil, fmt.Errorf("set the access policy of queue %s: %w", p.queue, err)
		}
		s.progress("queue created: %s (topic %s may send to it)", res.QueueURL, p.topic)
	}
	if res.SubscriptionARN == "" {
		attrs := map[string]string{"RawMessageDelivery": strconv.FormatBool(p.raw)}
		if len(p.filter) > 0 {
			attrs["FilterPolicy"] = filterPolicy(p.filter)
		}
		out, err := snsc.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: aws.String(res.TopicARN), Protocol: aws.String("sqs"), Endpoint: aws.String(res.QueueARN),
			Attributes: attrs, ReturnSubscriptionArn: true,
		})
		if err != nil {
			return nil, fmt.Errorf("subscribe %s to %s: %w", res.QueueARN, res.TopicARN, err)
		}
		res.SubscriptionARN = aws.ToString(out.SubscriptionArn)
		s.progress("subscription created: %s", res.SubscriptionARN)
	}
	for _, d := range pl.diffs {
		if err := d.apply(ctx, snsc, sqsc, &res); err != nil {
			return nil, err
		}
		s.progress("updated %s %s", d.resource, d.attribute)
	}
	return &res, nil
}

// findTopic returns the ARN of the topic called name, or "" if there is none.
func findTopic(ctx context.Context, c *sns.Client, name string) (string, error) {
	pages := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list topics: %w", err)
		}
		for _, t := range page.Topics {
			if arn := aws.ToString(t.TopicArn); arn[strings.LastIndexByte(arn, ':')+1:] == name {
				return arn, nil
			}
		}
	}
	return "", nil
}

// lookupQueue returns the URL and attributes of the queue called name, or "" if there is none.
func lookupQueue(ctx context.Context, c *sqs.Client, name string) (string, map[string]string, error) {
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *sqstypes.QueueDoesNotExist
	switch {
	case errors.As(err, &missing):
		return "", nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("look up queue %s: %w", name, err)
	}
	url := aws.ToString(got.QueueUrl)
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return "", nil, fmt.Errorf("attributes of queue %s: %w", name, err)
	}
	return url, ga.Attributes, nil
}

func queueARN(ctx context.Context, c *sqs.Client, url string) (string, error) {
	ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("queue %s ARN: %w", url, err)
	}
	return ga.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

func createQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (url, arn string, err error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: nilIfEmpty(attrs)})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	url = aws.ToString(out.QueueUrl)
	arn, err = queueARN(ctx, c, url)
	return url, arn, err
}

// findSubscription returns the topic's subscription of the queue and its attributes, or "".
func findSubscription(ctx context.Context, c *sns.Client, topicARN, queueARN string) (string, map[string]string, error) {
	pages := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("list subscriptions of %s: %w", topicARN, err)
		}
		for _, sub := range page.Subscriptions {
			if aws.ToString(sub.Protocol) != "sqs" || aws.ToString(sub.Endpoint) != queueARN {
				continue
			}
			arn := aws.ToString(sub.SubscriptionArn)
			out, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
			if err != nil {
				return "", nil, fmt.Errorf("attributes of subscription %s: %w", arn, err)
			}
			return arn, out.Attributes, nil
		}
	}
	return "", nil, nil
}

// redrivePolicy is a queue's RedrivePolicy (maxReceiveCount comes as a string or a number).
type redrivePolicy struct {
	target, maxReceive string
}

func parseRedrivePolicy(s string) redrivePolicy {
	var p struct {
		Target string          `json:"deadLetterTargetArn"`
		Max    json.RawMessage `json:"maxReceiveCount"`
	}
	if s == "" || json.Unmarshal([]byte(s), &p) != nil {
		return redrivePolicy{}
	}
	return redrivePolicy{target: p.Target, maxReceive: strings.Trim(string(p.Max), `"`)}
}

func filterPolicy(mediaTypes []string) string {
	b, _ := json.Marshal(map[string][]string{"media_type": mediaTypes})
	return string(b)
}

// sameJSON reports whether a and b are the same JSON value (or the same text).
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
