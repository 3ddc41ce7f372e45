package pubsubmem_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

func TestQueueLifecycle(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, pubsubmem.WithRegion("eu-west-1"), pubsubmem.WithAccountID("123456789012"))
	c := b.SQS()
	url := mustQueue(t, b, "orders", map[string]string{"VisibilityTimeout": "5"})
	if want := "http://sqs.eu-west-1.memory.localhost/123456789012/orders"; url != want {
		t.Fatalf("url %s, want %s", url, want)
	}
	if again := mustQueue(t, b, "orders", map[string]string{"VisibilityTimeout": "5"}); again != url {
		t.Fatalf("second CreateQueue gave %s", again)
	}
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"VisibilityTimeout": "6"}})
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) {
		t.Fatalf("different attributes: got %v, want QueueNameExists", err)
	}
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || *got.QueueUrl != url {
		t.Fatalf("GetQueueUrl = %v, %v", got, err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"QueueArn": "arn:aws:sqs:eu-west-1:123456789012:orders", "VisibilityTimeout": "5", "MaximumMessageSize": "262144",
		"DelaySeconds": "0", "ApproximateNumberOfMessages": "0",
	} {
		if attrs.Attributes[k] != want {
			t.Errorf("attribute %s = %q, want %q", k, attrs.Attributes[k], want)
		}
	}
	if _, ok := attrs.Attributes["RedrivePolicy"]; ok {
		t.Error("RedrivePolicy reported without one set")
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"MaximumMessageSize": "1048576", "Policy": `{"Version":"2012-10-17"}`}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"VisibilityTimeout": "43201"}})
	var badValue *sqstypes.InvalidAttributeValue
	if !errors.As(err, &badValue) {
		t.Fatalf("VisibilityTimeout 43201: %v", err)
	}
	mustQueue(t, b, "other", nil)
	list, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("ord")})
	if err != nil || len(list.QueueUrls) != 1 || list.QueueUrls[0] != url {
		t.Fatalf("ListQueues = %v, %v", list, err)
	}
	send(t, b, url, "x")
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, b, url); s != [3]int{} {
		t.Fatalf("after purge: %v", s)
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	var missing *sqstypes.QueueDoesNotExist
	if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")}); !errors.As(err, &missing) {
		t.Fatalf("GetQueueUrl after delete: %v", err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")}); !errors.As(err, &missing) {
		t.Fatalf("SendMessage after delete: %v", err)
	}
	// Only issued URLs are accepted, not names.
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("other"), MessageBody: aws.String("x")})
	if !errors.As(err, &missing) {
		t.Fatalf("SendMessage by name: %v", err)
	}
	var oe *smithy.OperationError
	if !errors.As(err, &oe) || oe.Service() != "SQS" || oe.Operation() != "SendMessage" {
		t.Fatalf("error is not an OperationError: %#v", err)
	}
}

func TestSendReceiveDeleteAndAttributes(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	b := newBackend(t, pubsubmem.WithClock(clock.Now))
	url := mustQueue(t, b, "q", nil)
	out, err := b.SQS().SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: &url, MessageBody: aws.String("hello"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"media_type": {DataType: aws.String("String"), StringValue: aws.String("application/vnd.x")},
			"n":          {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"blob":       {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.MD5OfMessageBody != "5d41402abc4b2a76b9719d911017c592" {
		t.Fatalf("MD5OfMessageBody %s", *out.MD5OfMessageBody)
	}
	if len(*out.MessageId) != 36 || out.MD5OfMessageAttributes == nil {
		t.Fatalf("bad output %+v", out)
	}
	// Without asking, no attributes.
	plain, err := b.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 1})
	if err != nil || len(plain.Messages) != 1 {
		t.Fatalf("receive: %v %v", plain, err)
	}
	m := plain.Messages[0]
	if m.Attributes != nil || m.MessageAttributes != nil || m.MD5OfMessageAttributes != nil {
		t.Fatalf("attributes returned unasked: %+v", m)
	}
	if *m.MessageId != *out.MessageId || *m.Body != "hello" || *m.MD5OfBody != *out.MD5OfMessageBody {
		t.Fatalf("message %+v", m)
	}
	clock.Advance(time.Second)
	ms := recv(t, b, url, 10)
	if len(ms) != 1 {
		t.Fatalf("redelivery: %d messages", len(ms))
	}
	m2 := ms[0]
	if *m2.ReceiptHandle == *m.ReceiptHandle {
		t.Fatal("receipt handle reused")
	}
	if m2.Attributes["ApproximateReceiveCount"] != "2" || m2.Attributes["SentTimestamp"] != strconv.FormatInt(clock.Now().Add(-time.Second).UnixMilli(), 10) {
		t.Fatalf("system attributes %v", m2.Attributes)
	}
	if m2.Attributes["ApproximateFirstReceiveTimestamp"] != m2.Attributes["SentTimestamp"] {
		t.Fatalf("first receive %v", m2.Attributes)
	}
	if len(m2.MessageAttributes) != 3 || *m2.MD5OfMessageAttributes != *out.MD5OfMessageAttributes {
		t.Fatalf("message attributes %v md5 %v", m2.MessageAttributes, m2.MD5OfMessageAttributes)
	}
	if string(m2.MessageAttributes["blob"].BinaryValue) != "\x01\x02\x03" {
		t.Fatal("binary attribute lost")
	}
	// A filtered receive reports the digest of what it returns.
	clock.Advance(31 * time.Second)
	f, err := b.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MessageAttributeNames: []string{"media_type"}})
	if err != nil || len(f.Messages) != 1 {
		t.Fatal(err)
	}
	fm := f.Messages[0]
	if len(fm.MessageAttributes) != 1 || *fm.MD5OfMessageAttributes != attrMD5(fm.MessageAttributes) {
		t.Fatalf("filtered attributes %v", fm.MessageAttributes)
	}
	// The old handle does not delete; the latest does, twice.
	if _, err := b.SQS().DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("stale handle: %v", err)
	}
	if s := stats(t, b, url); s != [3]int{0, 1, 0} {
		t.Fatalf("stale delete removed the message: %v", s)
	}
	for i := 0; i < 2; i++ {
		if _, err := b.SQS().DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: fm.ReceiptHandle}); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	if s := stats(t, b, url); s != [3]int{} {
		t.Fatalf("after delete: %v", s)
	}
	var bad *sqstypes.ReceiptHandleIsInvalid
	for _, h := range []string{"bogus", "", *fm.ReceiptHandle + "0", strings.Replace(*fm.ReceiptHandle, ".", "x", 1)} {
		if _, err := b.SQS().DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String(h)}); !errors.As(err, &bad) {
			t.Fatalf("handle %q: %v", h, err)
		}
	}
}

func TestVisibilityTimeout(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	b := newBackend(t, pubsubmem.WithClock(clock.Now))
	url := mustQueue(t, b, "q", map[string]string{"VisibilityTimeout": "10"})
	send(t, b, url, "a")
	first := recv(t, b, url, 1)
	if len(first) != 1 || first[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive %v", first)
	}
	if s := stats(t, b, url); s != [3]int{0, 1, 0} {
		t.Fatalf("stats %v", s)
	}
	clock.Advance(9 * time.Second)
	if got := recv(t, b, url, 1); len(got) != 0 {
		t.Fatal("visible before its timeout")
	}
	// Extend by 5 s from now: still hidden at +13 s, back at +14 s.
	h := first[0].ReceiptHandle
	if _, err := b.SQS().ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: h, VisibilityTimeout: 5}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(4 * time.Second)
	if got := recv(t, b, url, 1); len(got) != 0 {
		t.Fatal("visible before its extended timeout")
	}
	clock.Advance(time.Second)
	second := recv(t, b, url, 1)
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("redelivery %v", second)
	}
	// The first handle is stale now.
	_, err := b.SQS().ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: h, VisibilityTimeout: 5})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("stale handle: %v", err)
	}
	// Visibility 0 makes it visible at once.
	if _, err := b.SQS().ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	third := recv(t, b, url, 1)
	if len(third) != 1 || third[0].Attributes["ApproximateReceiveCount"] != "3" {
		t.Fatalf("after visibility 0: %v", third)
	}
	// Not in flight once its timeout ran out.
	clock.Advance(10 * time.Second)
	_, err = b.SQS().ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: third[0].ReceiptHandle, VisibilityTimeout: 5})
	var notInflight *sqstypes.MessageNotInflight
	if !errors.As(err, &notInflight) {
		t.Fatalf("expired message: %v", err)
	}
	// Out of range.
	fourth := recv(t, b, url, 1)
	_, err = b.SQS().ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: fourth[0].ReceiptHandle, VisibilityTimeout: 43201})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("43201: %v", err)
	}
	// A per-receive VisibilityTimeout overrides the queue's.
	if _, err := b.SQS().ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: fourth[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if out, _ := b.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 2}); len(out.Messages) != 1 {
		t.Fatal("no message")
	}
	clock.Advance(2 * time.Second)
	if got := recv(t, b, url, 1); len(got) != 1 {
		t.Fatal("override VisibilityTimeout=2 not applied")
	}
}

func TestBatchCalls(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	c := b.SQS()
	url := mustQueue(t, b, "q", nil)

	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := 0; i < 10; i++ {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(i)), MessageBody: aws.String("m" + strconv.Itoa(i))})
	}
	entries[3].MessageBody = aws.String("")
	entries[5].MessageAttributes = map[string]sqstypes.MessageAttributeValue{"x": {DataType: aws.String("Number"), StringValue: aws.String("NaNa")}}
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 8 || len(out.Failed) != 2 || *out.Failed[0].Id != "e3" || *out.Failed[1].Id != "e5" || !out.Failed[0].SenderFault {
		t.Fatalf("send batch: %+v", out)
	}
	for _, s := range out.Successful {
		if *s.MD5OfMessageBody != md5hex("m"+strings.TrimPrefix(*s.Id, "e")) {
			t.Fatalf("md5 of %s", *s.Id)
		}
	}

	var tooMany *sqstypes.TooManyEntriesInBatchRequest
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: append(entries, entries[0])}); !errors.As(err, &tooMany) {
		t.Fatalf("11 entries: %v", err)
	}
	var dup *sqstypes.BatchEntryIdsNotDistinct
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries[:2:2][:1:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.SendMessageBatchRequestEntry{entries[0], entries[0]}}); !errors.As(err, &dup) {
		t.Fatalf("duplicate ids: %v", err)
	}
	var empty *sqstypes.EmptyBatchRequest
	if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url}); !errors.As(err, &empty) {
		t.Fatalf("empty delete batch: %v", err)
	}

	ms := recv(t, b, url, 10)
	if len(ms) != 9 {
		t.Fatalf("received %d", len(ms))
	}
	del := []sqstypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: ms[0].ReceiptHandle},
		{Id: aws.String("b"), ReceiptHandle: aws.String("garbage")},
		{Id: aws.String("c"), ReceiptHandle: ms[1].ReceiptHandle},
	}
	dout, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del})
	if err != nil {
		t.Fatal(err)
	}
	if len(dout.Successful) != 2 || len(dout.Failed) != 1 || *dout.Failed[0].Id != "b" || *dout.Failed[0].Code != "ReceiptHandleIsInvalid" || !dout.Failed[0].SenderFault {
		t.Fatalf("delete batch: %+v", dout)
	}
	vis := []sqstypes.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: ms[2].ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("b"), ReceiptHandle: aws.String("garbage")},
		{Id: aws.String("c"), ReceiptHandle: ms[0].ReceiptHandle, VisibilityTimeout: 0}, // deleted
		{Id: aws.String("d"), ReceiptHandle: ms[3].ReceiptHandle, VisibilityTimeout: 0},
	}
	vout, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: vis})
	if err != nil {
		t.Fatal(err)
	}
	if len(vout.Successful) != 2 || len(vout.Failed) != 2 || *vout.Failed[0].Code != "ReceiptHandleIsInvalid" || *vout.Failed[1].Code != "InvalidParameterValue" {
		t.Fatalf("visibility batch: %+v", vout)
	}
	if s := stats(t, b, url); s != [3]int{2, 5, 0} {
		t.Fatalf("stats %v", s)
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	b := newBackend(t, pubsubmem.WithClock(clock.Now))
	dlq := mustQueue(t, b, "q-dlq", nil)
	_, err := b.SQS().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:missing","maxReceiveCount":2}`,
	}})
	var badValue *sqstypes.InvalidAttributeValue
	if !errors.As(err, &badValue) {
		t.Fatalf("missing DLQ: %v", err)
	}
	url := mustQueue(t, b, "q", map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + queueARN(t, b, dlq) + `","maxReceiveCount":"2"}`,
	})
	_, err = b.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("poison"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for i := 1; i <= 2; i++ {
		ms := recv(t, b, url, 10)
		if len(ms) != 1 || ms[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d: %v", i, ms)
		}
		id = *ms[0].MessageId
		clock.Advance(time.Second)
	}
	if ms := recv(t, b, url, 10); len(ms) != 0 {
		t.Fatalf("delivered a third time: %v", ms)
	}
	if s := stats(t, b, url); s != [3]int{} {
		t.Fatalf("source stats %v", s)
	}
	dead := recv(t, b, dlq, 10)
	if len(dead) != 1 || *dead[0].MessageId != id || *dead[0].Body != "poison" || *dead[0].MessageAttributes["k"].StringValue != "v" {
		t.Fatalf("dead letter %+v", dead)
	}
	if dead[0].Attributes["DeadLetterQueueSourceArn"] != queueARN(t, b, url) || dead[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("dead letter attributes %v", dead[0].Attributes)
	}
	attrs, _ := b.SQS().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"RedrivePolicy"}})
	if !strings.Contains(attrs.Attributes["RedrivePolicy"], `"maxReceiveCount":2`) {
		t.Fatalf("RedrivePolicy %q", attrs.Attributes["RedrivePolicy"])
	}
}

func TestDelay(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	b := newBackend(t, pubsubmem.WithClock(clock.Now))
	url := mustQueue(t, b, "q", map[string]string{"DelaySeconds": "3"})
	send(t, b, url, "queue-delay")
	if _, err := b.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("msg-delay"), DelaySeconds: 5}); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, b, url); s != [3]int{0, 0, 2} {
		t.Fatalf("stats %v", s)
	}
	clock.Advance(3 * time.Second)
	if got := bodies(recv(t, b, url, 10)); len(got) != 1 || got[0] != "queue-delay" {
		t.Fatalf("at +3s: %v", got)
	}
	clock.Advance(2 * time.Second)
	if got := bodies(recv(t, b, url, 10)); len(got) != 1 || got[0] != "msg-delay" {
		t.Fatalf("at +5s: %v", got)
	}
	var ae smithy.APIError
	if _, err := b.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), DelaySeconds: 901}); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("delay 901: %v", err)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	c := b.SQS()
	url := mustQueue(t, b, "q", map[string]string{"MaximumMessageSize": "1024"})
	var ae smithy.APIError
	code := func(err error) string {
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return "<" + err.Error() + ">"
	}
	for name, tc := range map[string]struct {
		in   *sqs.ReceiveMessageInput
		code string
	}{
		"max 11":     {&sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 11}, "InvalidParameterValue"},
		"max -1":     {&sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: -1}, "InvalidParameterValue"},
		"wait 21":    {&sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 21}, "InvalidParameterValue"},
		"no url":     {&sqs.ReceiveMessageInput{}, "MissingParameter"},
		"wrong url":  {&sqs.ReceiveMessageInput{QueueUrl: aws.String(url + "x")}, "QueueDoesNotExist"},
		"visibility": {&sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 43201}, "InvalidParameterValue"},
	} {
		_, err := c.ReceiveMessage(ctx, tc.in)
		if err == nil || code(err) != tc.code {
			t.Errorf("%s: got %v, want %s", name, err, tc.code)
		}
	}
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(strings.Repeat("x", 1025))})
	if code(err) != "InvalidParameterValue" {
		t.Errorf("too long: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("bad\x00char")})
	var contents *sqstypes.InvalidMessageContents
	if !errors.As(err, &contents) {
		t.Errorf("invalid chars: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	if code(err) != "InvalidParameterValue" {
		t.Errorf("dedup id on standard queue: %v", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"Bogus": "1"}})
	if code(err) != "QueueNameExists" && code(err) != "InvalidAttributeName" {
		t.Errorf("unknown attribute: %v", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("x"), Attributes: map[string]string{"Bogus": "1"}})
	var badName *sqstypes.InvalidAttributeName
	if !errors.As(err, &badName) {
		t.Errorf("unknown attribute: %v", err)
	}
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("x.fifo")}); code(err) != "InvalidParameterValue" {
		t.Errorf(".fifo without FifoQueue: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.SendMessage(cctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
