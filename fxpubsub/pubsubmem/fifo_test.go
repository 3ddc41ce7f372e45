package pubsubmem_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

func sendFIFO(t *testing.T, b *pubsubmem.Backend, url, body, group, dedup string) *sqs.SendMessageOutput {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body), MessageGroupId: aws.String(group)}
	if dedup != "" {
		in.MessageDeduplicationId = aws.String(dedup)
	}
	out, err := b.SQS().SendMessage(context.Background(), in)
	if err != nil {
		t.Fatalf("send %s: %v", body, err)
	}
	return out
}

func deleteAll(t *testing.T, b *pubsubmem.Backend, url string, ms []sqstypes.Message) {
	t.Helper()
	for _, m := range ms {
		if _, err := b.SQS().DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFIFOOrderGroupLockAndDedup(t *testing.T) {
	clock := newFakeClock()
	b := newBackend(t, pubsubmem.WithClock(clock.Now))
	url := mustQueue(t, b, "q.fifo", map[string]string{"FifoQueue": "true", "VisibilityTimeout": "10"})
	s1 := sendFIFO(t, b, url, "a1", "A", "d-a1")
	sendFIFO(t, b, url, "b1", "B", "d-b1")
	sendFIFO(t, b, url, "a2", "A", "d-a2")
	dup := sendFIFO(t, b, url, "a1-again", "A", "d-a1") // duplicate id: accepted, not enqueued
	sendFIFO(t, b, url, "a3", "A", "d-a3")
	if *dup.MessageId != *s1.MessageId || s1.SequenceNumber == nil || len(*s1.SequenceNumber) != 20 {
		t.Fatalf("dedup/sequence: %+v %+v", s1, dup)
	}
	first := recv(t, b, url, 2)
	if got := bodies(first); !reflect.DeepEqual(got, []string{"a1", "a2"}) {
		t.Fatalf("first receive %v", got)
	}
	if first[0].Attributes["MessageGroupId"] != "A" || first[0].Attributes["MessageDeduplicationId"] != "d-a1" || first[0].Attributes["SequenceNumber"] == "" {
		t.Fatalf("FIFO attributes %v", first[0].Attributes)
	}
	// Group A is locked while a1/a2 are in flight; B is not.
	if got := bodies(recv(t, b, url, 10)); !reflect.DeepEqual(got, []string{"b1"}) {
		t.Fatalf("second receive %v", got)
	}
	if got := recv(t, b, url, 10); len(got) != 0 {
		t.Fatalf("locked groups delivered %v", bodies(got))
	}
	// Deleting a1 leaves a2 in flight: still locked.
	deleteAll(t, b, url, first[:1])
	if got := recv(t, b, url, 10); len(got) != 0 {
		t.Fatalf("group unlocked too early: %v", bodies(got))
	}
	// a2's visibility runs out: it comes back first, before a3.
	clock.Advance(10 * time.Second)
	again := recv(t, b, url, 10)
	if got := bodies(again); len(got) < 1 || got[0] != "a2" {
		t.Fatalf("after timeout %v", got)
	}
	if again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("receive count %v", again[0].Attributes)
	}
	// The dedup window is five minutes.
	clock.Advance(5 * time.Minute)
	if out := sendFIFO(t, b, url, "a1-later", "A", "d-a1"); *out.MessageId == *s1.MessageId {
		t.Fatal("dedup id remembered past five minutes")
	}
}

func TestFIFOContentBasedDeduplicationAndErrors(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	url := mustQueue(t, b, "cbd.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	x := sendFIFO(t, b, url, "same", "g", "")
	y := sendFIFO(t, b, url, "same", "g", "")
	sendFIFO(t, b, url, "different", "g", "")
	if *x.MessageId != *y.MessageId {
		t.Fatal("content-based dedup did not deduplicate")
	}
	if s := stats(t, b, url); s[0] != 2 {
		t.Fatalf("stats %v", s)
	}
	ms := recv(t, b, url, 10)
	if got := bodies(ms); !reflect.DeepEqual(got, []string{"same", "different"}) {
		t.Fatalf("got %v", got)
	}

	plain := mustQueue(t, b, "plain.fifo", map[string]string{"FifoQueue": "true"})
	var ae smithy.APIError
	_, err := b.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &plain, MessageBody: aws.String("x")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingParameter" {
		t.Fatalf("no group: %v", err)
	}
	_, err = b.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &plain, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("no dedup id: %v", err)
	}
	_, err = b.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &plain, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d"), DelaySeconds: 1})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("per-message delay: %v", err)
	}
}

func TestFIFOManyGroupsKeepOrder(t *testing.T) {
	b := newBackend(t)
	url := mustQueue(t, b, "many.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	groups := []string{"g0", "g1", "g2", "g3"}
	for i := 0; i < 25; i++ {
		for _, g := range groups {
			sendFIFO(t, b, url, g+"-"+string(rune('a'+i)), g, "")
		}
	}
	got := map[string][]string{}
	for n := 0; n < 100; {
		ms := recv(t, b, url, 10)
		if len(ms) == 0 {
			t.Fatalf("stalled after %d", n)
		}
		for _, m := range ms {
			g := m.Attributes["MessageGroupId"]
			got[g] = append(got[g], *m.Body)
		}
		n += len(ms)
		deleteAll(t, b, url, ms)
	}
	for _, g := range groups {
		if len(got[g]) != 25 || !sort.StringsAreSorted(got[g]) {
			t.Fatalf("group %s out of order: %v", g, got[g])
		}
	}
}
