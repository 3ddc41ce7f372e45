package fxpubsub

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
	"go.uber.org/zap"
)

// The batcher deletes 10 entries per call through its long-lived senders: many calls start no
// goroutine each (the count stays at what the batcher started), and close sends the partial
// last batch, stops the senders and waits for them.
func TestSettleBatcherLongLivedSenders(t *testing.T) {
	ctx := context.Background()
	mem := pubsubmem.New()
	defer mem.Close()
	client := mem.SQS()
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("settle")})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	const n = 205
	for i := range n {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	var handles []settleEntry
	for len(handles) < n {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			handles = append(handles, settleEntry{messageID: aws.ToString(m.MessageId), receiptHandle: aws.ToString(m.ReceiptHandle)})
		}
	}

	before := runtime.NumGoroutine()
	const senders = 3
	b := newSettleBatcher(settleDelete, client, url, time.Hour, senders, 3, zap.NewNop())
	started := runtime.NumGoroutine() - before
	peakExtra := 0
	for _, e := range handles {
		if !b.add(e) {
			t.Fatal("add refused before close")
		}
		peakExtra = max(peakExtra, runtime.NumGoroutine()-before)
	}
	if err := b.close(ctx); err != nil {
		t.Fatal(err)
	}
	if b.add(handles[0]) {
		t.Error("add accepted after close")
	}
	// run and the senders; a goroutine per call would add up to 20 more.
	if started > senders+1 || peakExtra > senders+1 {
		t.Errorf("goroutines: %d started, up to %d during %d calls; want at most %d", started, peakExtra, b.nCalls.Load(), senders+1)
	}
	if calls, entries := b.nCalls.Load(), b.nEntries.Load(); calls != 21 || entries != n {
		t.Errorf("%d calls with %d entries, want 21 calls (20 full, 1 of 5) with %d", calls, entries, n)
	}
	if b.nFailed.Load() != 0 || b.pending.Load() != 0 {
		t.Errorf("failed %d, pending %d after close", b.nFailed.Load(), b.pending.Load())
	}
	if visible, inFlight, _, err := mem.QueueStats(url); err != nil || visible+inFlight != 0 {
		t.Errorf("queue holds %d visible, %d in flight (err %v); want every message deleted", visible, inFlight, err)
	}
}
