package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
)

var provisionCommand = &command{
	name:    "provision",
	args:    "--topic NAME [--queue NAME] [--dlq NAME] [--max-receive-count N] [--visibility-timeout S] [--raw] [--filter-media-type MT]... [--fifo] [--app NAME] [--json] [--dry-run] [--update] [--yes]",
	summary: "create what is missing of a topic, a queue with a dead-letter queue, and the subscription between them",
	details: `
Reads first, then creates only what is missing, in order:
  1. the SNS topic NAME;
  2. the dead-letter queue (default <queue>-dlq);
  3. the queue (default: the topic's name) with VisibilityTimeout and a RedrivePolicy that moves a
     message to the DLQ after --max-receive-count receives;
  4. the queue's access policy allowing the topic to send to it (AWS requires it; the emulators
     ignore it);
  5. the subscription topic -> queue: raw delivery with --raw (else the SNS envelope; consumers
     read both), and with --filter-media-type a filter policy on the media_type attribute.
An existing resource is never changed silently. Its attributes are compared with the flags given
on the command line (a flag left out is not compared; an existing queue's RedrivePolicy keeps its
dead-letter queue unless --dlq is given), and the access policy must let the topic send. When
something differs, provision prints each difference, changes nothing and exits 1; with --update
it applies them, merging the access policy (this topic's statement is added, every other
statement kept). A queue's FIFO-ness can't change. --dry-run prints the plan and changes nothing
(its exit status is the one the real run would have). Against an endpoint that is not loopback it
asks before changing anything; --yes skips the question. It prints the ARNs and URLs and the
configuration lines that point a consumer daemon (--app NAME) and this command at them.`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		p := provisionSpec{}
		fs.StringVar(&p.topic, "topic", "", "topic `name` (required)")
		fs.StringVar(&p.queue, "queue", "", "queue `name` (default: the topic name)")
		fs.StringVar(&p.dlq, "dlq", "", "dead-letter queue `name` (default: <queue>-dlq, or the existing queue's)")
		fs.IntVar(&p.maxReceive, "max-receive-count", 5, "receives before a message moves to the DLQ (`N`)")
		fs.IntVar(&p.visibility, "visibility-timeout", 30, "the queue's visibility timeout in `seconds`")
		fs.BoolVar(&p.raw, "raw", false, "raw message delivery (no SNS envelope)")
		fs.Var(&p.filter, "filter-media-type", "deliver only this media `type` (or resource name for created(name)); repeatable")
		fs.BoolVar(&p.fifo, "fifo", false, "FIFO topic and queues (names get .fifo)")
		app := fs.String("app", appName, "`name` of the consumer daemon, for the printed environment variables")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
		update := fs.Bool("update", false, "apply the differences to existing resources (merging the access policy)")
		bindYes(fs, g)
		return func(ctx context.Context, s *streams) error {
			p.given = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { p.given[f.Name] = true })
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
			pl, err := p.read(ctx, snsc, sqsc)
			if err != nil {
				return err
			}
			out := s.stderr
			if *dryRun {
				out = s.stdout
			}
			pl.print(out, *update)
			if len(pl.diffs) > 0 && !*update {
				return fmt.Errorf("%w: %d difference(s) from the existing resources, nothing changed (pass --update to apply them)", errProvisionDiffers, len(pl.diffs))
			}
			if *dryRun {
				return nil
			}
			if pl.changes() {
				if err := g.confirm(ctx, s, "create or change resources", pl.summary()...); err != nil {
					return err
				}
			}
			res, err := pl.apply(ctx, snsc, sqsc, s)
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

// errProvisionDiffers: existing resources differ from what provision was asked for.
var errProvisionDiffers = errors.New("existing resources differ")

type provisionSpec struct {
	topic, queue, dlq      string
	maxReceive, visibility int
	raw, fifo              bool
	filter                 listFlag
	given                  map[string]bool // flags on the command line
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
