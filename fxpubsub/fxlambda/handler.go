package fxlambda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/zap"
)

// Options configure a [Handler]; zero values mean defaults.
type Options struct {
	// SQS, when set, settles like the daemon: a RETRIED or FAILED message gets its visibility
	// timeout (the Nack's, or the backoff policy's) through ChangeMessageVisibility before it is
	// reported as a failure, and records left unstarted are made visible at once. Without it the
	// failures are only reported, and Lambda's service returns them after the queue's visibility
	// timeout: the backoff policy does not hold.
	SQS fxpubsub.SQSClient
	// Concurrency bounds the records (or FIFO message groups) handled at once (default 1).
	Concurrency int
	// DeadlineMargin is the time before the invocation's deadline after which no record starts;
	// the records not started are reported as failures (default 2 s).
	DeadlineMargin time.Duration
	// Flush runs before every invocation returns, because Lambda freezes the process between
	// invocations: Sentry events and telemetry are sent here. Each gets the invocation's context.
	Flush []func(ctx context.Context) error
	// Logger gets a warning when settling or flushing fails (default: none).
	Logger *zap.Logger
}

// Handler handles the SQS events of an AWS Lambda function with the engine the daemon uses: the
// same decoder, dispatcher, results, result log line, telemetry, Sentry reporting, hop TTL and
// FIFO group rules. It answers with a partial batch response: enable ReportBatchItemFailures on
// the event source mapping.
type Handler struct {
	dec  *fxpubsub.Decoder
	disp *fxpubsub.Dispatcher
	opts Options

	mu     sync.Mutex
	queues map[string]string // event source ARN → queue URL
}

// NewHandler returns a handler decoding with dec and dispatching with disp.
func NewHandler(dec *fxpubsub.Decoder, disp *fxpubsub.Dispatcher, opts Options) *Handler {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.DeadlineMargin <= 0 {
		opts.DeadlineMargin = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Handler{dec: dec, disp: disp, opts: opts, queues: map[string]string{}}
}

// Invoke handles one invocation's records and reports the failed ones:
//
//   - SUCCEEDED, SKIPPED, IGNORED and EXPIRED records are not reported (Lambda deletes them);
//   - RETRIED and FAILED records are, so Lambda leaves them in the queue and the redrive policy
//     still dead-letters them;
//   - on a FIFO queue, after the first failure in a message group the group's later records are
//     reported without running (AWS's rule for FIFO partial batch responses);
//   - when less than DeadlineMargin is left before ctx's deadline no record starts, and the
//     records not started are reported.
//
// An event without records (a warm-up ping) returns at once. Invoke returns an error only when
// ctx ends before it starts; flushing runs before it returns.
func (h *Handler) Invoke(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	if len(ev.Records) == 0 {
		return resp, nil
	}
	defer h.flush(ctx)
	msgs := make([]*fxpubsub.Message, len(ev.Records))
	fifo := false
	for i, rec := range ev.Records {
		fifo = fifo || strings.HasSuffix(rec.EventSourceARN, ".fifo")
		msgs[i] = h.dec.Decode(ctx, fxpubsub.Record{
			MessageID: rec.MessageId, ReceiptHandle: rec.ReceiptHandle, Body: []byte(rec.Body), Attributes: rec.Attributes,
			MessageAttributes: stringAttributes(rec.MessageAttributes),
		}, settler{h: h, arn: rec.EventSourceARN})
	}
	deadline, hasDeadline := ctx.Deadline()
	results := h.disp.DispatchGroups(ctx, msgs, fxpubsub.GroupOptions{
		FIFO: fifo, Concurrency: h.opts.Concurrency,
		Start: func(*fxpubsub.Message) bool {
			return ctx.Err() == nil && (!hasDeadline || time.Until(deadline) > h.opts.DeadlineMargin)
		},
	})
	for i, r := range results {
		if r.Type == 0 {
			h.release(ctx, msgs[i])
		}
		if !r.Type.Deletes() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msgs[i].MessageID})
		}
	}
	return resp, nil
}

// release makes an unstarted record visible at once (with an SQS client).
func (h *Handler) release(ctx context.Context, m *fxpubsub.Message) {
	if err := m.Nack(context.WithoutCancel(ctx), 0); err != nil {
		h.opts.Logger.Warn("release unstarted message", zap.String("message_id", m.MessageID), zap.Error(err))
	}
}

func (h *Handler) flush(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, f := range h.opts.Flush {
		if err := f(ctx); err != nil {
			h.opts.Logger.Warn("flush before the invocation returns", zap.Error(err))
		}
	}
}

// queueURL resolves the queue of an event source ARN (arn:aws:sqs:region:account:name) with
// GetQueueUrl, once per ARN.
func (h *Handler) queueURL(ctx context.Context, arn string) (string, error) {
	h.mu.Lock()
	url, ok := h.queues[arn]
	h.mu.Unlock()
	if ok {
		return url, nil
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5] == "" {
		return "", fmt.Errorf("event source %q is not an SQS queue ARN", arn)
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5])}
	if parts[4] != "" {
		in.QueueOwnerAWSAccountId = aws.String(parts[4])
	}
	out, err := h.opts.SQS.GetQueueUrl(ctx, in)
	if err != nil {
		return "", fmt.Errorf("resolve queue of %s: %w", arn, err)
	}
	url = aws.ToString(out.QueueUrl)
	h.mu.Lock()
	h.queues[arn] = url
	h.mu.Unlock()
	return url, nil
}

// errNoEventSource reports a record without an event source ARN, whose visibility cannot be set.
var errNoEventSource = errors.New("record has no eventSourceARN")

// settler settles one record: Lambda deletes what is not reported, so Ack does nothing; Nack and
// Extend set the visibility when the handler has an SQS client.
type settler struct {
	h   *Handler
	arn string
}

func (s settler) Ack(context.Context, *fxpubsub.Message) error { return nil }

func (s settler) Nack(ctx context.Context, m *fxpubsub.Message, timeout time.Duration) error {
	return s.visibility(ctx, m, timeout)
}

func (s settler) Extend(ctx context.Context, m *fxpubsub.Message, timeout time.Duration) error {
	return s.visibility(ctx, m, timeout)
}

func (s settler) visibility(ctx context.Context, m *fxpubsub.Message, timeout time.Duration) error {
	if s.h.opts.SQS == nil {
		return nil
	}
	if s.arn == "" {
		return errNoEventSource
	}
	url, err := s.h.queueURL(ctx, s.arn)
	if err != nil {
		return err
	}
	timeout = min(max(timeout, 0), fxpubsub.MaxVisibilityTimeout)
	secs := int32((timeout + time.Second - 1) / time.Second)
	_, err = s.h.opts.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("change visibility of %s: %w", m.MessageID, err)
	}
	return nil
}

// stringAttributes keeps the string values of a record's message attributes (Lambda's records carry
// the large-payload size attribute this way).
func stringAttributes(attrs map[string]events.SQSMessageAttribute) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]string, len(attrs))
	for name, v := range attrs {
		if v.StringValue != nil {
			out[name] = *v.StringValue
		}
	}
	return out
}
