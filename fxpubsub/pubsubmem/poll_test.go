package pubsubmem_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

type recvResult struct {
	out *sqs.ReceiveMessageOutput
	err error
	at  time.Duration
}

func pollAsync(ctx context.Context, b *pubsubmem.Backend, url string, wait int32) <-chan recvResult {
	ch := make(chan recvResult, 1)
	start := time.Now()
	go func() {
		out, err := b.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: wait, MaxNumberOfMessages: 10})
		ch <- recvResult{out, err, time.Since(start)}
	}()
	return ch
}

func TestLongPollWakesOnSend(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "q", nil)
	res := pollAsync(context.Background(), b, url, 20)
	waitParked(t, b, url)
	select {
	case r := <-res:
		t.Fatalf("returned before any message: %+v", r)
	default:
	}
	send(t, b, url, "wake")
	select {
	case r := <-res:
		if r.err != nil || len(r.out.Messages) != 1 || *r.out.Messages[0].Body != "wake" {
			t.Fatalf("poll result %+v", r)
		}
		if r.at > 5*time.Second {
			t.Fatalf("took %v", r.at)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not wake on send")
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "q", map[string]string{"ReceiveMessageWaitTimeSeconds": "1"})
	r := <-pollAsync(context.Background(), b, url, 0) // queue default: 1 s
	if r.err != nil || len(r.out.Messages) != 0 || r.at < 900*time.Millisecond {
		t.Fatalf("poll result %+v after %v", r, r.at)
	}
}

func TestLongPollWakesOnVisibilityExpiry(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "q", nil)
	send(t, b, url, "x")
	if _, err := b.SQS().ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 1}); err != nil {
		t.Fatal(err)
	}
	r := <-pollAsync(context.Background(), b, url, 5)
	if r.err != nil || len(r.out.Messages) != 1 || r.at > 3*time.Second {
		t.Fatalf("poll result %+v after %v", r, r.at)
	}
}

func TestCancelledLongPollTakesNothing(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "q", nil)
	ctx, cancel := context.WithCancel(context.Background())
	res := pollAsync(ctx, b, url, 20)
	waitParked(t, b, url)
	cancel()
	r := <-res
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled poll: %+v", r)
	}
	send(t, b, url, "keep")
	if got := recv(t, b, url, 10); len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("message lost or taken by the cancelled poll: %v", got)
	}
}

func TestCloseWakesPollers(t *testing.T) {
	b := pubsubmem.New()
	url := mustQueue(t, b, "q", nil)
	var results []<-chan recvResult
	for i := 0; i < 4; i++ {
		results = append(results, pollAsync(context.Background(), b, url, 20))
	}
	waitParked(t, b, url)
	b.Close()
	for _, res := range results {
		select {
		case r := <-res:
			if !errors.Is(r.err, pubsubmem.ErrClosed) {
				t.Fatalf("poll after Close: %+v", r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not wake a poller")
		}
	}
	if _, err := b.SQS().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")}); !errors.Is(err, pubsubmem.ErrClosed) {
		t.Fatalf("send after Close: %v", err)
	}
	b.Close() // idempotent
}

func TestDeleteQueueWakesPollers(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "q", nil)
	res := pollAsync(context.Background(), b, url, 20)
	waitParked(t, b, url)
	if _, err := b.SQS().DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	r := <-res
	var missing *sqstypes.QueueDoesNotExist
	if !errors.As(r.err, &missing) {
		t.Fatalf("poll on deleted queue: %+v", r)
	}
}

// Concurrent senders and long-polling receivers: every message is delivered exactly once when deleted
// promptly.
func TestConcurrentExactlyOnce(t *testing.T) {
	const senders, receivers, perSender = 8, 8, 10000 / 8
	b := newBackend(t)
	url := mustQueue(t, b, "q", nil)
	ctx := context.Background()
	var seen sync.Map
	var received, dups atomic.Int64
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < perSender; i += 10 {
				var entries []sqstypes.SendMessageBatchRequestEntry
				for j := i; j < i+10 && j < perSender; j++ {
					entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(j)), MessageBody: aws.String(strconv.Itoa(s) + "-" + strconv.Itoa(j))})
				}
				out, err := b.SQS().SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
				if err != nil || len(out.Failed) != 0 {
					t.Errorf("send: %v %v", err, out)
					return
				}
			}
		}(s)
	}
	total := int64(senders * perSender)
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var rg sync.WaitGroup
	for r := 0; r < receivers; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for received.Load() < total && rctx.Err() == nil {
				out, err := b.SQS().ReceiveMessage(rctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					if rctx.Err() == nil {
						t.Errorf("receive: %v", err)
					}
					return
				}
				if len(out.Messages) == 0 {
					continue
				}
				var del []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					if _, loaded := seen.LoadOrStore(*m.Body, true); loaded {
						dups.Add(1)
					}
					del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				received.Add(int64(len(out.Messages)))
				dout, err := b.SQS().DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del})
				if err != nil || len(dout.Failed) != 0 {
					t.Errorf("delete: %v %v", err, dout)
				}
			}
		}()
	}
	wg.Wait()
	rg.Wait()
	if received.Load() != total || dups.Load() != 0 {
		t.Fatalf("received %d of %d, %d duplicates", received.Load(), total, dups.Load())
	}
	if s := stats(t, b, url); s != [3]int{} {
		t.Fatalf("left over: %v", s)
	}
}

// waitParked polls, with a deadline, until a long poll is parked on the queue.
func waitParked(t *testing.T, b *pubsubmem.Backend, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !b.PollerParked(url) {
		if time.Now().After(deadline) {
			t.Fatal("no long poll parked on the queue")
		}
		runtime.Gosched()
	}
}
