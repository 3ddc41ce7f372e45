package pubsubtest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
)

const topicARN = "arn:aws:sns:us-east-1:000000000000:orders"

// stubSNS accepts publishes, failing those whose message contains "fail".
type stubSNS struct {
	mu sync.Mutex
	n  int
}

func (s *stubSNS) id() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return "sns-" + strconv.Itoa(s.n)
}

func (s *stubSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if strings.Contains(aws.ToString(in.Message), "fail") {
		return nil, errors.New("publish refused")
	}
	return &sns.PublishOutput{MessageId: aws.String(s.id())}, nil
}

func (s *stubSNS) PublishBatch(_ context.Context, in *sns.PublishBatchInput, _ ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	if len(in.PublishBatchRequestEntries) == 0 {
		return nil, errors.New("empty batch")
	}
	out := &sns.PublishBatchOutput{}
	for _, e := range in.PublishBatchRequestEntries {
		if strings.Contains(aws.ToString(e.Message), "fail") {
			out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, snstypes.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String(s.id())})
	}
	return out, nil
}

func mediaTypeAttr(mt string) map[string]snstypes.MessageAttributeValue {
	return map[string]snstypes.MessageAttributeValue{
		fxpubsub.MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(mt)},
	}
}

func publish(t *testing.T, c fxpubsub.SNSClient, body string) error {
	t.Helper()
	_, err := c.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(body), MessageAttributes: mediaTypeAttr(orderMT)})
	return err
}

func TestRecorderWrap(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	c := rec.Wrap(&stubSNS{})
	body := `{"mediaType":"` + orderMT + `","uri":"https://orders/1","items":2,"tags":["a"],"opaqueData":{"X-Request-Id":"r1","x-request-ttl":5,"gone":null}}`
	if err := publish(t, c, body); err != nil {
		t.Fatal(err)
	}
	if err := publish(t, c, `{"mediaType":"x","uri":"fail"}`); err == nil {
		t.Fatal("want the stub's error")
	}
	got := rec.Published()
	if len(got) != 1 {
		t.Fatalf("recorded %d, want 1 (failed publishes are not recorded)", len(got))
	}
	p := got[0]
	if p.TopicARN != topicARN || p.MediaType != orderMT || p.MessageID != "sns-1" || p.Body != body || p.URI() != "https://orders/1" {
		t.Errorf("recorded %+v", p)
	}
	wantContent := `map[items:2 tags:[a] uri:https://orders/1]`
	if fmt.Sprint(p.Content) != wantContent {
		t.Errorf("content = %v, want %s", p.Content, wantContent)
	}
	if p.Opaque.Get("x-request-id") != "r1" || p.Opaque.Get("x-request-ttl") != "5" || p.Opaque.Get("gone") != "null" || len(p.Opaque) != 3 {
		t.Errorf("opaque = %v", p.Opaque)
	}
	if p.Attributes[fxpubsub.MediaTypeAttribute] != orderMT {
		t.Errorf("attributes = %v", p.Attributes)
	}
	if want := orderMT + ` → ` + topicARN + ` {"items":2,"tags":["a"],"uri":"https://orders/1"} opaque{X-Request-Id=r1 gone=null x-request-ttl=5}`; p.String() != want {
		t.Errorf("String() =\n%s\nwant\n%s", p, want)
	}
}

func TestRecorderOddBodies(t *testing.T) {
	rec := &pubsubtest.Recorder{} // the zero value works
	c := rec.Wrap(&stubSNS{})
	if err := publish(t, c, `not json`); err != nil {
		t.Fatal(err)
	}
	p := rec.Published()[0]
	// The media type falls back to the message attribute; content is nil; opaque is never nil.
	if p.MediaType != orderMT || p.Content != nil || p.Opaque == nil || p.URI() != "" {
		t.Errorf("recorded %+v", p)
	}
	if want := orderMT + ` → ` + topicARN + ` body="not json"`; p.String() != want {
		t.Errorf("String() = %s, want %s", p, want)
	}
}

func TestRecorderPublishBatch(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	c := rec.Wrap(&stubSNS{})
	entry := func(id, uri string) snstypes.PublishBatchRequestEntry {
		return snstypes.PublishBatchRequestEntry{Id: aws.String(id), MessageAttributes: mediaTypeAttr(orderMT),
			Message: aws.String(`{"mediaType":"` + orderMT + `","uri":"` + uri + `"}`)}
	}
	_, err := c.PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: aws.String(topicARN), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		entry("0", "https://a"), entry("1", "fail"), entry("2", "https://c"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: aws.String(topicARN)}); err == nil {
		t.Fatal("want the stub's error")
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasURI("https://a"), pubsubtest.HasURI("https://c"))
	if got := rec.Published(); got[0].MessageID != "sns-1" || got[1].MessageID != "sns-2" || got[1].TopicARN != topicARN {
		t.Errorf("recorded %v", got)
	}
}

func TestRecorderWrapBackend(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	b := &fxpubsub.Backend{SNS: &stubSNS{}, Queue: "q"}
	w := rec.WrapBackend(b)
	if w == b || w.Queue != "q" || w.SNS == b.SNS {
		t.Fatalf("WrapBackend = %+v", w)
	}
	if err := publish(t, w.SNS, `{"mediaType":"m"}`); err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 1 {
		t.Errorf("Len = %d", rec.Len())
	}
}

func TestRecorderQueries(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	c := rec.Wrap(&stubSNS{})
	for _, mt := range []string{"a", "b", "a"} {
		if err := publish(t, c, `{"mediaType":"`+mt+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.ByMediaType("a"); len(got) != 2 || got[0].MessageID != "sns-1" || got[1].MessageID != "sns-3" {
		t.Errorf("ByMediaType(a) = %v", got)
	}
	if got := rec.ByMediaType("c"); len(got) != 0 {
		t.Errorf("ByMediaType(c) = %v", got)
	}
	// Published returns a copy.
	got := rec.Published()
	got[0].MediaType = "changed"
	if rec.Published()[0].MediaType != "a" {
		t.Error("Published shares its slice")
	}
	rec.Reset()
	pubsubtest.AssertNothingPublished(t, rec)
	if err := publish(t, c, `{"mediaType":"d"}`); err != nil {
		t.Fatal(err)
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasMediaType("d"))
}

func TestRecorderWait(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	c := rec.Wrap(&stubSNS{})
	start := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-start
		for i := range 3 {
			if err := publish(t, c, fmt.Sprintf(`{"mediaType":"m%d"}`, i)); err != nil {
				t.Error(err)
			}
		}
	}()
	close(start)
	got := rec.Wait(t, 3, timeout)
	<-done
	if len(got) != 3 || got[2].MediaType != "m2" {
		t.Errorf("Wait = %v", got)
	}
	// Already satisfied: returns at once with everything.
	if got := rec.Wait(t, 1, time.Nanosecond); len(got) != 3 {
		t.Errorf("Wait(1) = %v", got)
	}
	if p := rec.WaitFor(t, pubsubtest.HasMediaType("m1"), timeout); p.MessageID != "sns-2" {
		t.Errorf("WaitFor = %v", p)
	}
}

func TestRecorderWaitTimeoutFails(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	if err := publish(t, rec.Wrap(&stubSNS{}), `{"mediaType":"m","uri":"https://x"}`); err != nil {
		t.Fatal(err)
	}
	fake := &fakeTB{}
	got := rec.Wait(fake, 2, 20*time.Millisecond)
	if len(got) != 1 {
		t.Errorf("Wait returned %v", got)
	}
	requireFailure(t, fake, "waited 20ms for 2 published messages, got 1", `1. m → `+topicARN+` {"uri":"https://x"}`)

	fake = &fakeTB{}
	p := rec.WaitFor(fake, pubsubtest.HasMediaType("other"), 20*time.Millisecond)
	if p.MediaType != "" {
		t.Errorf("WaitFor returned %v", p)
	}
	requireFailure(t, fake, "for a message media type other; none of 1 matched", `1. m → `)
	if len(fake.fatals) != 1 {
		t.Errorf("want a Fatalf, got %+v", fake)
	}
}

// reentrantSNS publishes a follow-up from inside Publish, as the in-memory backend does when it
// delivers synchronously to a consumer whose handler publishes.
type reentrantSNS struct {
	stubSNS
	wrapped fxpubsub.SNSClient
}

func (s *reentrantSNS) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if strings.Contains(aws.ToString(in.Message), `"first"`) {
		if _, err := s.wrapped.Publish(ctx, &sns.PublishInput{TopicArn: in.TopicArn, Message: aws.String(`{"mediaType":"second"}`)}); err != nil {
			return nil, err
		}
	}
	return s.stubSNS.Publish(ctx, in, optFns...)
}

func TestRecorderKeepsCallOrder(t *testing.T) {
	rec := pubsubtest.NewRecorder()
	inner := &reentrantSNS{}
	c := rec.Wrap(inner)
	inner.wrapped = c
	if err := publish(t, c, `{"mediaType":"first"}`); err != nil {
		t.Fatal(err)
	}
	pubsubtest.AssertPublished(t, rec, pubsubtest.HasMediaType("first"), pubsubtest.HasMediaType("second"))
	if got := rec.Published(); got[0].MessageID != "sns-2" || got[1].MessageID != "sns-1" {
		t.Errorf("ids = %q %q", got[0].MessageID, got[1].MessageID)
	}
}
