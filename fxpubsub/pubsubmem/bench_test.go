package pubsubmem_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

// benchEntries is a SendMessageBatch of ten 200-byte messages with one String attribute, as in the
// emulator benchmarks.
func benchEntries() []sqstypes.SendMessageBatchRequestEntry {
	body := strings.Repeat("x", 200)
	entries := make([]sqstypes.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{
			Id: aws.String("e" + strconv.Itoa(i)), MessageBody: aws.String(body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"media_type": {DataType: aws.String("String"), StringValue: aws.String("application/vnd.globality.pubsub._.created.order")}},
		}
	}
	return entries
}

// roundTrip sends a batch of 10, receives it and deletes it in a batch.
func roundTrip(b *testing.B, c *pubsubmem.SQS, url string, entries []sqstypes.SendMessageBatchRequestEntry, del []sqstypes.DeleteMessageBatchRequestEntry) {
	ctx := context.Background()
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries}); err != nil {
		b.Fatal(err)
	}
	n := 0
	for n < len(entries) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			b.Fatal(err)
		}
		for i, m := range out.Messages {
			del[i].ReceiptHandle = m.ReceiptHandle
		}
		if len(out.Messages) > 0 {
			if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del[:len(out.Messages)]}); err != nil {
				b.Fatal(err)
			}
		}
		n += len(out.Messages)
	}
}

func deleteEntries() []sqstypes.DeleteMessageBatchRequestEntry {
	del := make([]sqstypes.DeleteMessageBatchRequestEntry, 10)
	for i := range del {
		del[i].Id = aws.String("d" + strconv.Itoa(i))
	}
	return del
}

// BenchmarkSendReceiveDelete: one op is one message (sent in a batch of 10, received in a batch of
// 10, deleted in a batch of 10); ns/op and allocs/op are per message.
func BenchmarkSendReceiveDelete(b *testing.B) {
	be := pubsubmem.New()
	defer be.Close()
	url := mustQueue(b, be, "bench", nil)
	entries, del := benchEntries(), deleteEntries()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 10 {
		roundTrip(b, be.SQS(), url, entries, del)
	}
}

// BenchmarkSendReceiveDeleteParallel runs the same round trip from GOMAXPROCS goroutines on one queue.
func BenchmarkSendReceiveDeleteParallel(b *testing.B) {
	be := pubsubmem.New()
	defer be.Close()
	url := mustQueue(b, be, "bench", nil)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		entries, del := benchEntries(), deleteEntries()
		for pb.Next() {
			roundTrip(b, be.SQS(), url, entries, del)
		}
	})
	b.StopTimer()
	// RunParallel counts one op per round trip of 10 messages; report per message.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/msg")
}

// BenchmarkPublishEnvelope: one SNS Publish delivered as an envelope to one queue, then received and
// deleted.
func BenchmarkPublishEnvelope(b *testing.B) {
	ctx := context.Background()
	be := pubsubmem.New()
	defer be.Close()
	url := mustQueue(b, be, "bench", nil)
	topic, _ := be.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
	arn, _ := be.SQS().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if _, err := be.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn.Attributes["QueueArn"])}); err != nil {
		b.Fatal(err)
	}
	in := &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(strings.Repeat("x", 200)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"media_type": {DataType: aws.String("String"), StringValue: aws.String("application/vnd.globality.pubsub._.created.order")}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := be.SNS().Publish(ctx, in); err != nil {
			b.Fatal(err)
		}
		out, err := be.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url})
		if err != nil || len(out.Messages) != 1 {
			b.Fatal(err)
		}
		if _, err := be.SQS().DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
}
