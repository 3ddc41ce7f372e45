package awstest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// BatchSender is the one SQS call SendCopies needs.
type BatchSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SendCopies puts n copies of body (with attrs, which may be nil) into the queue with
// SendMessageBatch, 10 per call and up to parallel calls at a time; it stops at the first failure
// (a call error or a failed entry) and returns it.
func SendCopies(ctx context.Context, client BatchSender, url, body string, attrs map[string]sqstypes.MessageAttributeValue, n, parallel int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	calls := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for size := range calls {
				entries := make([]sqstypes.SendMessageBatchRequestEntry, size)
				for i := range entries {
					entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body), MessageAttributes: attrs}
				}
				out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
				if err == nil && len(out.Failed) > 0 {
					err = fmt.Errorf("SendMessageBatch: %d entries failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
				}
				if err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for sent := 0; sent < n && ctx.Err() == nil; sent += 10 {
		calls <- min(10, n-sent)
	}
	close(calls)
	wg.Wait()
	return first
}

// Eventually polls cond every tick until it holds or within has passed, and reports whether it
// held: the way tests wait for something without sleeping.
func Eventually(within, tick time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	deadline := time.After(within)
	for {
		select {
		case <-t.C:
			if cond() {
				return true
			}
		case <-deadline:
			return cond()
		}
	}
}
