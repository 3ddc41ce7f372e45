package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/microcosm-go/pubsub/internal/awstest"
)

// moreCases are the cases beyond the core list (errors, limits, attributes, toggles).
var moreCases = []conformanceCase{
	{"MissingResourceErrorsAreTyped", testMissingResourceErrors},
	{"BatchOf11Rejected", testBatchLimits},
	{"EnvelopeBinaryAttributeBase64", testEnvelopeBinary},
	{"PerReceiveVisibilityTimeout", testPerReceiveVisibility},
	{"ToggleRawDelivery", testToggleRaw},
	{"PurgeQueue", testPurge},
	{"CancelledLongPollDoesNotSwallow", testCancelledPoll},
	{"FIFOSendWithoutGroupRejected", testFIFOMissingGroup},
	{"FIFOGroupLockedAndReleasedInOrder", testFIFOGroupLock},
}

// Missing topics and queues give the SDK's typed errors, which the library matches with errors.As.
func testMissingResourceErrors(t *testing.T, tg awstest.Target) {
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "missing"})
	_, err := tg.SNS.Publish(ctxFor(t, callTimeout), &sns.PublishInput{TopicArn: aws.String(p.TopicARN + "-nope"), Message: aws.String("x")})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("Publish to a missing topic: err = %v (%T), want *types.NotFoundException", err, errors.Unwrap(err))
	}
	_, err = tg.SQS.GetQueueUrl(ctxFor(t, callTimeout), &sqs.GetQueueUrlInput{QueueName: aws.String(uniq("nope"))})
	var qdne *sqstypes.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Errorf("GetQueueUrl of a missing queue: err = %v, want *types.QueueDoesNotExist", err)
	}
	url, _ := tg.Queue(t, "gone", nil)
	if _, err := tg.SQS.DeleteQueue(ctxFor(t, callTimeout), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	_, err = tg.SQS.SendMessage(ctxFor(t, callTimeout), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
	if !errors.As(err, &qdne) {
		t.Errorf("SendMessage to a deleted queue: err = %v, want *types.QueueDoesNotExist", err)
	}
	// Target.Queue's cleanup reports an error if the queue is gone, so bring it back.
	recreate(t, tg, url)
}

// recreate makes a queue exist again at url (same name) so the registered cleanup can delete it.
func recreate(t *testing.T, tg awstest.Target, url string) {
	t.Helper()
	name := lastSegment(url)
	if _, err := tg.SQS.CreateQueue(ctxFor(t, callTimeout), &sqs.CreateQueueInput{QueueName: aws.String(name)}); err != nil {
		t.Fatalf("CreateQueue %s again: %v", name, err)
	}
}

func lastSegment(u string) string {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			return u[i+1:]
		}
	}
	return u
}

// Batches over 10 entries are rejected as a whole with the SDK's typed errors.
func testBatchLimits(t *testing.T, tg awstest.Target) {
	url, _ := tg.Queue(t, "b11", nil)
	var sq []sqstypes.SendMessageBatchRequestEntry
	var pb []snstypes.PublishBatchRequestEntry
	for i := range 11 {
		sq = append(sq, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(idx(i)), MessageBody: aws.String("x")})
		pb = append(pb, snstypes.PublishBatchRequestEntry{Id: aws.String(idx(i)), Message: aws.String("x")})
	}
	_, err := tg.SQS.SendMessageBatch(ctxFor(t, callTimeout), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: sq})
	var tooMany *sqstypes.TooManyEntriesInBatchRequest
	if !errors.As(err, &tooMany) {
		t.Errorf("SendMessageBatch(11): err = %v, want *types.TooManyEntriesInBatchRequest", err)
	}
	_, err = tg.SQS.DeleteMessageBatch(ctxFor(t, callTimeout), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{}})
	var empty *sqstypes.EmptyBatchRequest
	if !errors.As(err, &empty) {
		t.Errorf("DeleteMessageBatch(0 entries): err = %v, want *types.EmptyBatchRequest", err)
	}
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "pb11", Raw: true})
	_, err = tg.SNS.PublishBatch(ctxFor(t, callTimeout), &sns.PublishBatchInput{TopicArn: aws.String(p.TopicARN), PublishBatchRequestEntries: pb})
	var tooManySNS *snstypes.TooManyEntriesInBatchRequestException
	if !errors.As(err, &tooManySNS) {
		t.Errorf("PublishBatch(11): err = %v, want *types.TooManyEntriesInBatchRequestException", err)
	}
	if msgs := receive(t, tg, p.QueueURL, 10, 0); len(msgs) != 0 {
		t.Errorf("a rejected PublishBatch delivered %d messages", len(msgs))
	}
}

// Envelope delivery carries Binary attributes base64-encoded, typed Binary.
func testEnvelopeBinary(t *testing.T, tg awstest.Target) {
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "envbin"})
	blob := []byte{1, 2, 3, 0, 0xff}
	if _, err := tg.SNS.Publish(ctxFor(t, callTimeout), &sns.PublishInput{
		TopicArn: aws.String(p.TopicARN), Message: aws.String("b"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"blob": {DataType: aws.String("Binary"), BinaryValue: blob}},
	}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	m := collect(t, tg, p.QueueURL, 1, 10*time.Second, true)[0]
	var env struct {
		MessageAttributes map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
		t.Fatalf("envelope: %v", err)
	}
	a := env.MessageAttributes["blob"]
	if a.Type != "Binary" || a.Value != base64.StdEncoding.EncodeToString(blob) {
		t.Errorf("envelope blob = %+v, want Binary %s", a, base64.StdEncoding.EncodeToString(blob))
	}
}

// ReceiveMessage's VisibilityTimeout overrides the queue's for that receive.
func testPerReceiveVisibility(t *testing.T, tg awstest.Target) {
	url, _ := tg.Queue(t, "pervt", map[string]string{"VisibilityTimeout": "30"})
	id := sendBody(t, tg, url, "short")
	out, err := tg.SQS.ReceiveMessage(ctxFor(t, callTimeout), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1, VisibilityTimeout: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage: %v, %d messages", err, len(out.Messages))
	}
	got := collect(t, tg, url, 1, 8*time.Second, true)[0]
	if aws.ToString(got.MessageId) != id {
		t.Errorf("got %q, want %q back after the 1 s per-receive timeout", aws.ToString(got.MessageId), id)
	}
}

// SetSubscriptionAttributes(RawMessageDelivery) takes effect on the next publish.
func testToggleRaw(t *testing.T, tg awstest.Target) {
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "toggle"})
	if _, err := tg.SNS.SetSubscriptionAttributes(ctxFor(t, callTimeout), &sns.SetSubscriptionAttributesInput{
		SubscriptionArn: aws.String(p.SubscriptionARN), AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true"),
	}); err != nil {
		t.Fatalf("SetSubscriptionAttributes: %v", err)
	}
	if _, err := tg.SNS.Publish(ctxFor(t, callTimeout), &sns.PublishInput{TopicArn: aws.String(p.TopicARN), Message: aws.String("now-raw")}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if b := aws.ToString(collect(t, tg, p.QueueURL, 1, 10*time.Second, true)[0].Body); b != "now-raw" {
		t.Errorf("body = %q, want the raw message now-raw", b)
	}
}

// PurgeQueue removes visible and in-flight messages.
func testPurge(t *testing.T, tg awstest.Target) {
	url, _ := tg.Queue(t, "purge", map[string]string{"VisibilityTimeout": "1"})
	for i := range 3 {
		sendBody(t, tg, url, fmt.Sprint(i))
	}
	receive(t, tg, url, 1, 1) // one in flight
	if _, err := tg.SQS.PurgeQueue(ctxFor(t, callTimeout), &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("PurgeQueue: %v", err)
	}
	if msgs := receive(t, tg, url, 10, 2); len(msgs) != 0 { // 2 s > the 1 s visibility timeout
		t.Errorf("after PurgeQueue received %v", bodies(msgs))
	}
}

// A cancelled long poll returns promptly with the context's error, and the next message is not
// lost. On the in-memory backend (and AWS as documented) it is received at once; fauxqs and moto
// keep polling server-side and hand it to the dead connection (Caps.AbandonedPollSwallows,
// emulators.md §6.4, moto.md §3), so there it must come back after its visibility timeout, which
// is what the daemon's shutdown relies on.
func testCancelledPoll(t *testing.T, tg awstest.Target) {
	url, _ := tg.Queue(t, "cancel", map[string]string{"VisibilityTimeout": "2"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 5})
	if err == nil {
		t.Fatalf("cancelled ReceiveMessage returned no error")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled ReceiveMessage: err = %v, want one that wraps context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled ReceiveMessage returned after %v, want promptly after the 200 ms deadline", d)
	}
	id := sendBody(t, tg, url, "after-cancel")
	if !tg.Caps.AbandonedPollSwallows {
		if msgs := receive(t, tg, url, 10, 1); len(msgs) != 1 {
			t.Errorf("message sent after a cancelled poll: next receive got %d messages, want 1", len(msgs))
		}
		return
	}
	m := collect(t, tg, url, 1, 15*time.Second, true)[0]
	if aws.ToString(m.MessageId) != id {
		t.Errorf("got message %s, want %s", aws.ToString(m.MessageId), id)
	}
	t.Logf("after the cancelled poll the message arrived after %v with receive count %s", time.Since(start).Round(time.Millisecond), receiveCount(m))
}

// A FIFO queue rejects a message without MessageGroupId.
func testFIFOMissingGroup(t *testing.T, tg awstest.Target) {
	url, _ := tg.Queue(t, "fifonogroup", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	_, err := tg.SQS.SendMessage(ctxFor(t, callTimeout), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("SendMessage to FIFO without MessageGroupId: err = %v, want an API error", err)
	}
	t.Logf("error code %q: %v", ae.ErrorCode(), err)
}

// What the daemon's FIFO ordering relies on: while a message of a group is in flight no other
// message of that group is delivered, and when received messages of a group become visible again
// (a nack and the messages released behind it, in any order) the group starts over from its
// earliest message.
func testFIFOGroupLock(t *testing.T, tg awstest.Target) {
	url, _ := tg.Queue(t, "fifolock", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for _, body := range []string{"g-1", "g-2", "g-3"} {
		if _, err := tg.SQS.SendMessage(ctxFor(t, callTimeout), &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageGroupId: aws.String("g"),
		}); err != nil {
			t.Fatalf("SendMessage %s: %v", body, err)
		}
	}
	// Short polls throughout: moto's FIFO long poll busy-spins while only a locked group has
	// messages (moto.md §3).
	first := receive(t, tg, url, 10, 1)
	if len(first) == 0 || aws.ToString(first[0].Body) != "g-1" {
		t.Fatalf("first receive = %v, want it to start with g-1", bodies(first))
	}
	for i, m := range first {
		if want := fmt.Sprintf("g-%d", i+1); aws.ToString(m.Body) != want {
			t.Fatalf("first receive = %v, want the group in order", bodies(first))
		}
	}
	if again := receive(t, tg, url, 10, 1); len(again) != 0 {
		t.Fatalf("received %v while %v of the group were in flight", bodies(again), bodies(first))
	}
	// Everything received becomes visible again, the last first.
	for i := len(first) - 1; i >= 0; i-- {
		changeVisibility(t, tg, url, first[i], 0)
	}
	next := collect(t, tg, url, 1, 10*time.Second, false)
	if got := aws.ToString(next[0].Body); got != "g-1" || receiveCount(next[0]) != "2" {
		t.Errorf("after the group became visible again the next message is %q (receive count %s), want g-1 (2)", got, receiveCount(next[0]))
	}
}
