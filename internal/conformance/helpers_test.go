package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/microcosm-go/pubsub/internal/awstest"
)

// callTimeout bounds a single non-polling call.
const callTimeout = 30 * time.Second

func ctxFor(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// receive does one ReceiveMessage asking for all message attributes and the system attributes the
// suite looks at.
func receive(t testing.TB, tg awstest.Target, url string, max, wait int32) []sqstypes.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(wait)*time.Second+callTimeout)
	defer cancel()
	out, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(url),
		MaxNumberOfMessages:   max,
		WaitTimeSeconds:       wait,
		MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameApproximateReceiveCount,
			sqstypes.MessageSystemAttributeNameMessageGroupId,
		},
	})
	if err != nil {
		t.Fatalf("%s: ReceiveMessage(max %d, wait %d) on %s: %v", tg.Name, max, wait, url, err)
	}
	return out.Messages
}

// collect receives (10 at a time, 1 s long polls) until it has n distinct messages (by MessageId)
// or the deadline passes, which fails the test. With del, each batch is deleted as it arrives.
func collect(t testing.TB, tg awstest.Target, url string, n int, within time.Duration, del bool) []sqstypes.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	seen := map[string]bool{}
	var got []sqstypes.Message
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %d of %d messages from %s within %v", tg.Name, len(got), n, url, within)
		}
		msgs := receive(t, tg, url, 10, 1)
		for _, m := range msgs {
			if !seen[aws.ToString(m.MessageId)] {
				seen[aws.ToString(m.MessageId)] = true
				got = append(got, m)
			}
		}
		if del && len(msgs) > 0 {
			deleteAll(t, tg, url, msgs)
		}
	}
	return got
}

// deleteAll deletes msgs with DeleteMessageBatch and fails on any per-entry failure.
func deleteAll(t testing.TB, tg awstest.Target, url string, msgs []sqstypes.Message) {
	t.Helper()
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(idx(i)), ReceiptHandle: m.ReceiptHandle}
	}
	out, err := tg.SQS.DeleteMessageBatch(ctxFor(t, callTimeout), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		t.Fatalf("%s: DeleteMessageBatch: %v", tg.Name, err)
	}
	if len(out.Failed) > 0 {
		t.Fatalf("%s: DeleteMessageBatch: %d entries failed: %+v", tg.Name, len(out.Failed), out.Failed)
	}
}

func idx(i int) string { return "e" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func receiveCount(m sqstypes.Message) string {
	return m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]
}

func sendBody(t testing.TB, tg awstest.Target, url, body string) string {
	t.Helper()
	out, err := tg.SQS.SendMessage(ctxFor(t, callTimeout), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("%s: SendMessage to %s: %v", tg.Name, url, err)
	}
	return aws.ToString(out.MessageId)
}

func changeVisibility(t testing.TB, tg awstest.Target, url string, m sqstypes.Message, secs int32) {
	t.Helper()
	if _, err := tg.SQS.ChangeMessageVisibility(ctxFor(t, callTimeout), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: secs,
	}); err != nil {
		t.Fatalf("%s: ChangeMessageVisibility(%d): %v", tg.Name, secs, err)
	}
}

// queueCounts returns ApproximateNumberOfMessages and ApproximateNumberOfMessagesNotVisible.
// (Exact on every target here; on AWS they are approximate and lag.)
func queueCounts(t testing.TB, tg awstest.Target, url string) (visible, notVisible string) {
	t.Helper()
	out, err := tg.SQS.GetQueueAttributes(ctxFor(t, callTimeout), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("%s: GetQueueAttributes counts: %v", tg.Name, err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)],
		out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)]
}

func bodies(msgs []sqstypes.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = aws.ToString(m.Body)
	}
	return out
}
