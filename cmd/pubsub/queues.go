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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

var depthCommand = &command{
	name:    "depth",
	args:    "--queue-url URL [--dlq-url URL] [--json]",
	summary: "show how many messages a queue and its dead-letter queue hold (visible, in flight, delayed)",
	details: `
The dead-letter queue is the one the queue's RedrivePolicy names, unless --dlq-url is given. The
counts are SQS's approximate numbers.`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		queue := fs.String("queue-url", "", "SQS queue `URL` or name (default: sqs_consumer.sqs_queue_url)")
		dlq := fs.String("dlq-url", "", "dead-letter queue `URL` or name (default: from the queue's RedrivePolicy)")
		asJSON := fs.Bool("json", false, "print the counts as JSON")
		return func(ctx context.Context, s *streams) error {
			c, q, err := queueClient(ctx, g, *queue)
			if err != nil {
				return err
			}
			main, err := queueDepth(ctx, c, q)
			if err != nil {
				return err
			}
			depths := []depth{main}
			dlqURL := *dlq
			if dlqURL == "" && main.dlqARN != "" {
				if dlqURL, err = urlOfARN(ctx, c, main.dlqARN); err != nil {
					return err
				}
			}
			if dlqURL != "" {
				d, err := queueDepth(ctx, c, dlqURL)
				if err != nil {
					return err
				}
				d.DLQ = true
				depths = append(depths, d)
			}
			if *asJSON {
				b, _ := json.MarshalIndent(depths, "", "  ")
				fmt.Fprintln(s.stdout, string(b))
				return nil
			}
			names := make([]string, len(depths))
			width := len("QUEUE")
			for i, d := range depths {
				names[i] = d.Name
				if d.DLQ {
					names[i] += " (DLQ)"
				}
				width = max(width, len(names[i]))
			}
			fmt.Fprintf(s.stdout, "%-*s  %9s  %9s  %9s\n", width, "QUEUE", "VISIBLE", "IN_FLIGHT", "DELAYED")
			for i, d := range depths {
				fmt.Fprintf(s.stdout, "%-*s  %9d  %9d  %9d\n", width, names[i], d.Visible, d.InFlight, d.Delayed)
			}
			return nil
		}
	},
}

// depth is one queue's message counts.
type depth struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	DLQ      bool   `json:"dlq"`
	Visible  int    `json:"visible"`
	InFlight int    `json:"in_flight"`
	Delayed  int    `json:"delayed"`
	dlqARN   string
}

// queueClient loads the configuration and returns the SQS client and the queue URL (a name is
// resolved with GetQueueUrl).
func queueClient(ctx context.Context, g *globals, queue string) (*sqs.Client, string, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, "", err
	}
	q := firstNonEmpty(queue, cfg.Consumer.SQSQueueURL)
	if q == "" {
		return nil, "", usagef("--queue-url is required (or set sqs_consumer.sqs_queue_url)")
	}
	c, err := g.sqsClient(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	url, err := resolveQueue(ctx, c, q)
	return c, url, err
}

func resolveQueue(ctx context.Context, c *sqs.Client, q string) (string, error) {
	if strings.Contains(q, "://") {
		return q, nil
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
	if err != nil {
		return "", fmt.Errorf("resolve queue %q: %w", q, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// urlOfARN returns the URL of the queue arn:aws:sqs:<region>:<account>:<name>.
func urlOfARN(ctx context.Context, c *sqs.Client, arn string) (string, error) {
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	url, err := resolveQueue(ctx, c, name)
	if err != nil {
		return "", fmt.Errorf("dead-letter queue %s: %w", arn, err)
	}
	return url, nil
}

func queueDepth(ctx context.Context, c *sqs.Client, url string) (depth, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		return depth{}, fmt.Errorf("attributes of %s: %w", url, err)
	}
	a := out.Attributes
	num := func(k sqstypes.QueueAttributeName) int {
		n, _ := strconv.Atoi(a[string(k)])
		return n
	}
	d := depth{
		Name:     url[strings.LastIndexByte(url, '/')+1:],
		URL:      url,
		Visible:  num(sqstypes.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: num(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  num(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}
	if rp := a[string(sqstypes.QueueAttributeNameRedrivePolicy)]; rp != "" {
		var p struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		if err := json.Unmarshal([]byte(rp), &p); err == nil {
			d.dlqARN = p.DeadLetterTargetArn
		}
	}
	return d, nil
}

var redriveCommand = &command{
	name:    "redrive",
	args:    "--queue-url URL [--dlq-url URL [--force]] [--max N] [--visibility-timeout S] [--yes]",
	summary: "move messages from a queue's dead-letter queue back to the queue",
	details: `
This is done by the client, not with SQS's StartMessageMoveTask (which the emulators don't
implement): it receives up to 10 messages from the DLQ, sends them to the queue with their bodies
and message attributes (FIFO: same message group, the old message id as deduplication id), and
deletes from the DLQ only what was sent. A message is never lost, but a crash between sending and
deleting leaves it in both queues (at-least-once, like any SQS delivery). It stops when the DLQ
returns no messages, or after --max messages (default: the DLQ's depth when it starts, so messages
that fail again and return to the DLQ are not moved twice). Messages that could not be sent stay
in the DLQ and make the exit status 1. The moved messages start over with a receive count of 1.

--dlq-url must be the queue that the source queue's RedrivePolicy names: redrive refuses to move
messages out of any other queue (a live queue, another service's DLQ) unless --force is given.
Against an endpoint that is not loopback it asks first; --yes skips the question.`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		queue := fs.String("queue-url", "", "source queue `URL` or name (default: sqs_consumer.sqs_queue_url)")
		dlq := fs.String("dlq-url", "", "dead-letter queue `URL` or name (default: from the queue's RedrivePolicy)")
		limit := fs.Int("max", 0, "move at most `N` messages (default: the DLQ's depth at the start)")
		visibility := fs.Int("visibility-timeout", 30, "`seconds` a DLQ message stays hidden while it is moved")
		force := fs.Bool("force", false, "move from --dlq-url even if the queue's RedrivePolicy does not name it")
		bindYes(fs, g)
		return func(ctx context.Context, s *streams) error {
			if *limit < 0 {
				return usagef("--max must not be negative")
			}
			if *visibility < 1 || *visibility > 43200 {
				return usagef("--visibility-timeout must be between 1 and 43200")
			}
			c, q, err := queueClient(ctx, g, *queue)
			if err != nil {
				return err
			}
			source, err := queueDepth(ctx, c, q)
			if err != nil {
				return err
			}
			dlqURL := *dlq
			switch {
			case dlqURL != "":
				if dlqURL, err = resolveQueue(ctx, c, dlqURL); err != nil {
					return err
				}
				if err := checkDeadLetterQueue(ctx, c, source, dlqURL); err != nil && !*force {
					return err
				}
			case source.dlqARN == "":
				return fmt.Errorf("queue %s has no RedrivePolicy: pass --dlq-url", q)
			default:
				if dlqURL, err = urlOfARN(ctx, c, source.dlqARN); err != nil {
					return err
				}
			}
			if err := g.confirm(ctx, s, "move messages between queues", "from:     "+dlqURL, "to:       "+q); err != nil {
				return err
			}
			max := *limit
			if max == 0 {
				d, err := queueDepth(ctx, c, dlqURL)
				if err != nil {
					return err
				}
				max = d.Visible
				s.progress("%s holds %d message(s)", d.Name, max)
			}
			r := redriver{c: c, from: dlqURL, to: q, visibility: int32(*visibility), s: s}
			moved, failed, err := r.run(ctx, max)
			fmt.Fprintf(s.stdout, "moved %d message(s) from %s to %s\n", moved, dlqURL, q)
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d message(s) could not be moved and stay in the DLQ", failed)
			}
			return nil
		}
	},
}

// errNotDeadLetterQueue: redrive's --dlq-url is not the source queue's dead-letter queue.
var errNotDeadLetterQueue = errors.New("not the dead-letter queue of the source queue")

// checkDeadLetterQueue fails unless dlqURL is the queue source's RedrivePolicy names.
func checkDeadLetterQueue(ctx context.Context, c *sqs.Client, source depth, dlqURL string) error {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlqURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("attributes of %s: %w", dlqURL, err)
	}
	arn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	switch {
	case source.dlqARN == "":
		return fmt.Errorf("--dlq-url %s: %w %s, which has no RedrivePolicy (pass --force to move its messages anyway)", dlqURL, errNotDeadLetterQueue, source.URL)
	case arn != source.dlqARN:
		return fmt.Errorf("--dlq-url %s (%s): %w %s, whose RedrivePolicy names %s (pass --force to move its messages anyway)",
			dlqURL, arn, errNotDeadLetterQueue, source.URL, source.dlqARN)
	}
	return nil
}

type redriver struct {
	c          *sqs.Client
	from, to   string
	visibility int32
	s          *streams
}

func (r *redriver) run(ctx context.Context, max int) (moved, failed int, err error) {
	fifo := strings.HasSuffix(r.to, ".fifo")
	for moved+failed < max {
		out, err := r.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(r.from), MaxNumberOfMessages: int32(min(10, max-moved-failed)), WaitTimeSeconds: 1,
			VisibilityTimeout: r.visibility, MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameMessageGroupId},
		})
		if err != nil {
			return moved, failed, fmt.Errorf("receive from %s: %w", r.from, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			e := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
			if fifo {
				e.MessageGroupId = aws.String(firstNonEmpty(m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)], "redrive"))
				e.MessageDeduplicationId = m.MessageId
			}
			entries[i] = e
		}
		sent, err := r.c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(r.to), Entries: entries})
		if err != nil {
			return moved, failed, fmt.Errorf("send to %s: %w", r.to, err)
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for _, ok := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(ok.Id))
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: ok.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		for _, f := range sent.Failed {
			r.s.progress("not moved: message %s: %s: %s", aws.ToString(out.Messages[atoi(f.Id)].MessageId), aws.ToString(f.Code), aws.ToString(f.Message))
		}
		failed += len(sent.Failed)
		if len(del) > 0 {
			dout, err := r.c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.from), Entries: del})
			if err != nil {
				return moved, failed, fmt.Errorf("delete moved messages from %s (they are now in both queues): %w", r.from, err)
			}
			if len(dout.Failed) > 0 {
				return moved, failed, errors.New("some moved messages could not be deleted from the DLQ and are now in both queues")
			}
		}
		moved += len(del)
		r.s.progress("moved %d/%d", moved, max)
	}
	return moved, failed, nil
}

func atoi(s *string) int {
	n, _ := strconv.Atoi(aws.ToString(s))
	return n
}
