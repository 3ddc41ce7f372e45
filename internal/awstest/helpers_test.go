package awstest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type countingSender struct {
	entries atomic.Int64
	failAt  int64
}

func (c *countingSender) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if n := c.entries.Add(int64(len(in.Entries))); c.failAt > 0 && n >= c.failAt {
		return &sqs.SendMessageBatchOutput{Failed: []sqstypes.BatchResultErrorEntry{{Id: in.Entries[0].Id, Message: aws.String("nope")}}}, nil
	}
	return &sqs.SendMessageBatchOutput{}, nil
}

func TestSendCopies(t *testing.T) {
	var ok countingSender
	if err := SendCopies(context.Background(), &ok, "q", "b", nil, 95, 4); err != nil || ok.entries.Load() != 95 {
		t.Fatalf("sent %d, err %v; want 95, nil", ok.entries.Load(), err)
	}
	bad := countingSender{failAt: 30}
	if err := SendCopies(context.Background(), &bad, "q", "b", nil, 1000, 2); err == nil {
		t.Fatal("a failed entry must be reported")
	}
	if bad.entries.Load() >= 1000 {
		t.Fatal("sending must stop at the first failure")
	}
}

func TestEventually(t *testing.T) {
	var n atomic.Int32
	if !Eventually(5*time.Second, time.Millisecond, func() bool { return n.Add(1) >= 3 }) {
		t.Fatal("condition that becomes true was not seen")
	}
	start := time.Now()
	if Eventually(30*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("false condition reported true")
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("returned before the deadline")
	}
}
