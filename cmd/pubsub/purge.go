package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

var purgeCommand = &command{
	name:    "purge",
	args:    "--queue-url URL [--yes]",
	summary: "delete every message in an SQS queue (asks first unless the endpoint is loopback)",
	details: `
Calls SQS PurgeQueue: every message in the queue, visible or in flight, is deleted, and cannot be
recovered. Against an endpoint that is not loopback it first prints the account, region and queue,
and asks on a terminal; --yes skips the question (required without a terminal).`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		queue := fs.String("queue-url", "", "SQS queue `URL` or name (default: sqs_consumer.sqs_queue_url)")
		bindYes(fs, g)
		return func(ctx context.Context, s *streams) error {
			c, q, err := queueClient(ctx, g, *queue)
			if err != nil {
				return err
			}
			if err := g.confirm(ctx, s, "delete every message in a queue", "queue:    "+q); err != nil {
				return err
			}
			if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(q)}); err != nil {
				return fmt.Errorf("purge %s: %w", q, err)
			}
			fmt.Fprintf(s.stdout, "purged %s\n", q)
			return nil
		}
	},
}
