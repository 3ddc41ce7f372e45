package fxpubsub

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
)

// settleKind is what a settleBatcher does with its entries.
type settleKind int

const (
	settleDelete     settleKind = iota // DeleteMessageBatch
	settleVisibility                   // ChangeMessageVisibilityBatch
)

func (k settleKind) String() string {
	if k == settleDelete {
		return "delete"
	}
	return "change visibility"
}

type settleEntry struct {
	id            string // the entry's Id in the batch call under way (its index)
	messageID     string
	receiptHandle string
	visibility    int32
	payload       *PayloadPointer // deleted after the message, with delete_payload_on_ack
}

// settleBatcher accumulates deletes or visibility changes and sends them 10 per call: a full batch
// goes at once, a partial one after the flush interval. A fixed set of long-lived sender goroutines
// (maxCalls of them, started with the batcher, stopped and waited for by close) makes the calls, so
// at most maxCalls run at once and no call pays for a fresh goroutine (the SDK's deep stack would
// grow a new one every time). Entries that fail with a retryable error (a server fault, or the
// whole call failing) are retried with backoff; the rest are logged (the message comes back after
// its visibility timeout: at least once, never lost).
type settleBatcher struct {
	kind        settleKind
	client      SQSClient
	queueURL    string
	flush       time.Duration
	maxAttempts int
	logger      *zap.Logger
	payloads    *PayloadStore

	ctx     context.Context // cancelled when close gives up waiting
	cancel  context.CancelFunc
	mu      sync.RWMutex // guards closed against sends on a closed channel
	closed  bool
	in      chan settleEntry
	batches chan []settleEntry // from run to the senders; closed when run ends
	senders sync.WaitGroup
	done    chan struct{}

	nCalls, nEntries, nFailed atomic.Int64
	nCallErrors               atomic.Int64 // calls that failed as a whole
	pending, peak             atomic.Int64 // entries queued or in a call not yet finished
}

func newSettleBatcher(kind settleKind, client SQSClient, queueURL string, flush time.Duration, maxCalls, maxAttempts int, logger *zap.Logger) *settleBatcher {
	b := &settleBatcher{
		kind: kind, client: client, queueURL: queueURL, flush: flush, maxAttempts: maxAttempts, logger: logger,
		in: make(chan settleEntry, 256), batches: make(chan []settleEntry), done: make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	for range max(maxCalls, 1) {
		b.senders.Add(1)
		go b.sender()
	}
	go b.run()
	return b
}

// add queues an entry; it reports false after close.
func (b *settleBatcher) add(e settleEntry) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return false
	}
	if n := b.pending.Add(1); n > b.peak.Load() {
		for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
		}
	}
	b.in <- e
	return true
}

// close flushes what is queued and waits for every call; when ctx ends first, it abandons the
// calls and retries still under way and returns ctx's error.
func (b *settleBatcher) close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	defer b.cancel()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		b.cancel()
		<-b.done
		return ctx.Err()
	}
}

// sender makes the calls for the batches run hands over, until run ends.
func (b *settleBatcher) sender() {
	defer b.senders.Done()
	for batch := range b.batches {
		b.send(batch)
	}
}

// run gathers entries into batches and hands each to a free sender (waiting while all are busy);
// when in is closed it sends what is left, stops the senders and waits for them.
func (b *settleBatcher) run() {
	defer close(b.done)
	var pending []settleEntry
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	send := func() {
		if len(pending) == 0 {
			return
		}
		b.batches <- pending
		pending = make([]settleEntry, 0, maxBatchEntries)
	}
	for {
		select {
		case e, ok := <-b.in:
			if !ok {
				timer.Stop()
				send()
				close(b.batches)
				b.senders.Wait()
				return
			}
			pending = append(pending, e)
			if len(pending) == 1 {
				timer.Reset(b.flush)
			}
			if len(pending) == maxBatchEntries {
				timer.Stop()
				send()
			}
		case <-timer.C:
			send()
		}
	}
}

// send makes the batch call, retrying retryable failures.
func (b *settleBatcher) send(batch []settleEntry) {
	defer b.pending.Add(-int64(len(batch)))
	ctx := b.ctx
	for attempt := 1; len(batch) > 0; attempt++ {
		last := attempt >= b.maxAttempts
		retry, err := b.call(ctx, batch, last)
		if err != nil {
			if last {
				b.nFailed.Add(int64(len(batch)))
				b.logger.Error("settle batch failed; messages will be redelivered after their visibility timeout",
					zap.Stringer("action", b.kind), zap.Int("messages", len(batch)), zap.Int("attempts", attempt), zap.Error(err))
				return
			}
			retry = batch
		}
		batch = retry
		if len(batch) > 0 && sleepCtx(ctx, retryDelay(attempt)) != nil {
			b.nFailed.Add(int64(len(batch)))
			b.logger.Warn("settle batch abandoned at shutdown; messages will be redelivered", zap.Stringer("action", b.kind), zap.Int("messages", len(batch)))
			return
		}
	}
}

// call makes one batch call and returns the entries to retry; err is a whole-call failure.
func (b *settleBatcher) call(ctx context.Context, batch []settleEntry, last bool) ([]settleEntry, error) {
	b.nCalls.Add(1)
	b.nEntries.Add(int64(len(batch)))
	var (
		failed []sqstypes.BatchResultErrorEntry
		err    error
	)
	// The request points into batch (which this call owns) for Ids and receipt handles instead
	// of allocating two strings per entry.
	for i := range batch {
		batch[i].id = strconv.Itoa(i)
	}
	if b.kind == settleDelete {
		entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(batch))
		for i := range batch {
			entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: &batch[i].id, ReceiptHandle: &batch[i].receiptHandle}
		}
		var out *sqs.DeleteMessageBatchOutput
		out, err = b.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(b.queueURL), Entries: entries})
		if err == nil {
			failed = out.Failed
		}
	} else {
		entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i := range batch {
			entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: &batch[i].id, ReceiptHandle: &batch[i].receiptHandle, VisibilityTimeout: batch[i].visibility}
		}
		var out *sqs.ChangeMessageVisibilityBatchOutput
		out, err = b.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(b.queueURL), Entries: entries})
		if err == nil {
			failed = out.Failed
		}
	}
	if err != nil {
		b.nCallErrors.Add(1)
		if retryableCallError(ctx, err) {
			return nil, err
		}
		b.nFailed.Add(int64(len(batch)))
		b.logger.Error("settle batch refused", zap.Stringer("action", b.kind), zap.Int("messages", len(batch)), zap.Error(err))
		return nil, nil
	}
	defer b.payloadsAcked(ctx, batch, failed)
	var retry []settleEntry
	for _, f := range failed {
		i, convErr := strconv.Atoi(aws.ToString(f.Id))
		if convErr != nil || i < 0 || i >= len(batch) {
			continue
		}
		if !f.SenderFault && !last {
			retry = append(retry, batch[i])
			continue
		}
		b.nFailed.Add(1)
		b.logger.Warn("settle entry failed", zap.Stringer("action", b.kind), zap.String("message_id", batch[i].messageID),
			zap.String("code", aws.ToString(f.Code)), zap.String("error", aws.ToString(f.Message)), zap.Bool("sender_fault", f.SenderFault))
	}
	return retry, nil
}

// errBatcherClosed is returned by acks and nacks after the daemon stopped.
var errBatcherClosed = errors.New("consumer is stopped")
