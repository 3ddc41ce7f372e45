package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// TestFunctionOnFauxqs is the Lambda service's loop by hand, on fauxqs: receive real messages,
// shape them into an SQS event as Lambda does, invoke the function under the emulator, and
// delete what it did not report as failed. The function settles failures through SQS
// (ChangeMessageVisibility, backoff 1 s against the queue's 30 s), so they come back within
// seconds; nothing is lost and nothing that succeeded comes back.
func TestFunctionOnFauxqs(t *testing.T) {
	tg := awstest.Fauxqs(t)
	url, arn := tg.Queue(t, "lambda", map[string]string{"VisibilityTimeout": "30"})
	f := startFunction(t, "EXAMPLE__SQS_CONSUMER__ENDPOINT_URL="+tg.Endpoint,
		"EXAMPLE__SQS_CONSUMER__MESSAGE_RETRY_VISIBILITY_TIMEOUT_SECONDS=1", "EXAMPLE__LOGGING__LEVEL=warn")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	sent := map[string]string{} // message id → text
	for i := range 12 {
		text := fmt.Sprintf("good-%d", i)
		if i%4 == 1 {
			text = "fail"
		}
		out, err := tg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(simpleBody(text, nil))})
		if err != nil {
			t.Fatal(err)
		}
		sent[aws.ToString(out.MessageId)] = text
	}

	receive := func() []sqstypes.Message {
		out, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	// invoke hands msgs to the function and deletes what it did not report; it returns the
	// reported ids.
	invoke := func(msgs []sqstypes.Message) map[string]bool {
		ev := events.SQSEvent{}
		for _, m := range msgs {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				Attributes: m.Attributes, MessageAttributes: map[string]events.SQSMessageAttribute{},
				Md5OfBody: aws.ToString(m.MD5OfBody), EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: "us-east-1",
			})
		}
		reported := map[string]bool{}
		for _, id := range failed(f.invoke(t, ev)) {
			reported[id] = true
		}
		for _, m := range msgs {
			if reported[aws.ToString(m.MessageId)] {
				continue
			}
			if _, err := tg.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		return reported
	}

	succeeded, failedOnce := map[string]bool{}, map[string]bool{}
	for len(succeeded)+len(failedOnce) < len(sent) && ctx.Err() == nil {
		msgs := receive()
		reported := invoke(msgs)
		for _, m := range msgs {
			id := aws.ToString(m.MessageId)
			if succeeded[id] || failedOnce[id] {
				t.Fatalf("message %s (%s) came back before the first round was done", id, sent[id])
			}
			if reported[id] {
				failedOnce[id] = true
			} else {
				succeeded[id] = true
			}
		}
	}
	for id, text := range sent {
		if wantFail := text == "fail"; failedOnce[id] != wantFail || succeeded[id] == wantFail {
			t.Fatalf("message %s (%s): reported failed %v, succeeded %v", id, text, failedOnce[id], succeeded[id])
		}
	}

	// The failed ones come back after the backoff (1 s, not the queue's 30 s); nothing that
	// succeeded does.
	back := map[string]bool{}
	start := time.Now()
	for len(back) < len(failedOnce) && time.Since(start) < 15*time.Second {
		for _, m := range receive() {
			id := aws.ToString(m.MessageId)
			if succeeded[id] {
				t.Fatalf("message %s succeeded and was deleted, yet came back", id)
			}
			if !failedOnce[id] {
				t.Fatalf("unknown message %s", id)
			}
			back[id] = true
		}
	}
	if len(back) != len(failedOnce) {
		t.Fatalf("%d of %d failed messages came back within 15 s: the backoff did not set their visibility", len(back), len(failedOnce))
	}
}
