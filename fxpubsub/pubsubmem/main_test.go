package pubsubmem_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/goleak"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	_ fxpubsub.SNSClient = (*pubsubmem.SNS)(nil)
	_ fxpubsub.SQSClient = (*pubsubmem.SQS)(nil)
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 27, 10, 21, 55, 838e6, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newBackend(t testing.TB, opts ...pubsubmem.Option) *pubsubmem.Backend {
	t.Helper()
	b := pubsubmem.New(opts...)
	t.Cleanup(b.Close)
	return b
}

func mustQueue(t testing.TB, b *pubsubmem.Backend, name string, attrs map[string]string) string {
	t.Helper()
	out, err := b.SQS().CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return *out.QueueUrl
}

func queueARN(t testing.TB, b *pubsubmem.Backend, url string) string {
	t.Helper()
	out, err := b.SQS().GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["QueueArn"]
}

func send(t testing.TB, b *pubsubmem.Backend, url, body string) *sqs.SendMessageOutput {
	t.Helper()
	out, err := b.SQS().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return out
}

// recv receives without waiting, asking for every attribute.
func recv(t testing.TB, b *pubsubmem.Backend, url string, n int32) []sqstypes.Message {
	t.Helper()
	out, err := b.SQS().ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: n,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func stats(t testing.TB, b *pubsubmem.Backend, url string) [3]int {
	t.Helper()
	v, f, d, err := b.QueueStats(url)
	if err != nil {
		t.Fatal(err)
	}
	return [3]int{v, f, d}
}

func bodies(ms []sqstypes.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = *m.Body
	}
	return out
}
