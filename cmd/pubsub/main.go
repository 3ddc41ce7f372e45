// Command pubsub publishes, reads, provisions and inspects SNS topics and SQS queues in the format
// of microcosm-pubsub; see the package documentation or run pubsub --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
