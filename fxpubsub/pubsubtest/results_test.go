package pubsubtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubtest"
)

func message(mt, id string) *fxpubsub.Message {
	return &fxpubsub.Message{
		MediaType: mt, MessageID: id, SNSMessageID: "sns-" + id, ReceiveCount: 1, TopicARN: topicARN, Opaque: fxpubsub.Opaque{"x-request-id": "r"},
		Body: []byte(`{"Type":"Notification","MessageId":"sns-` + id + `","TopicArn":"` + topicARN + `","Message":"{}"}`),
	}
}

func TestResultsHook(t *testing.T) {
	res := pubsubtest.NewResults()
	var hook fxpubsub.ResultHook = res.Hook

	// Without a handler context the message's own opaque data is kept.
	hook(context.Background(), message("a", "1"), fxpubsub.Result{Type: fxpubsub.Succeeded, Handler: "h"})
	ctx := fxpubsub.WithOpaque(context.Background(), fxpubsub.Opaque{"handler": "h2"})
	raw := message("b", "2")
	raw.Body = []byte(`{"mediaType":"b","Message":"Notification"}`) // raw delivery: no SNS id
	raw.SNSMessageID = ""
	raw.ReceiveCount = 3
	hook(ctx, raw, fxpubsub.Result{Type: fxpubsub.Retried, Reason: "later", Err: errors.New("nack")})
	hook(context.Background(), message("a", "3"), fxpubsub.Result{Type: fxpubsub.Ignored, Reason: "no handler registered for a"})

	all := res.All()
	if len(all) != 3 || res.Len() != 3 {
		t.Fatalf("All = %v", all)
	}
	if h := all[0]; h.MediaType != "a" || h.MessageID != "1" || h.SNSMessageID != "sns-1" || h.TopicARN != topicARN ||
		h.Opaque.Get("x-request-id") != "r" || h.ReceiveCount != 1 || h.Result.Handler != "h" {
		t.Errorf("first = %+v", h)
	}
	if h := all[1]; h.SNSMessageID != "" || h.Opaque.Get("handler") != "h2" || h.Opaque.Get("x-request-id") != "" {
		t.Errorf("second = %+v", h)
	}
	wantStrings := []string{
		"a SUCCEEDED by h",
		"b RETRIED (later): nack [receive 3]",
		"a IGNORED (no handler registered for a)",
	}
	for i, want := range wantStrings {
		if got := all[i].String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	if got := (pubsubtest.Handled{Result: fxpubsub.Result{Type: fxpubsub.Failed}}).String(); got != "(no media type) FAILED" {
		t.Errorf("String() = %q", got)
	}
	if got := res.ByMediaType("a"); len(got) != 2 || got[1].MessageID != "3" {
		t.Errorf("ByMediaType = %v", got)
	}
	if got := res.WaitFor(t, "b", timeout); got.MessageID != "2" {
		t.Errorf("WaitFor = %v", got)
	}
	if got := res.WaitForMessage(t, "sns-3", timeout); got.MessageID != "3" {
		t.Errorf("WaitForMessage = %v", got)
	}
	res.Reset()
	if res.Len() != 0 {
		t.Errorf("after Reset: %v", res.All())
	}
}

func TestResultsWait(t *testing.T) {
	res := &pubsubtest.Results{}
	go func() {
		for _, id := range []string{"1", "2"} {
			res.Hook(context.Background(), message("a", id), fxpubsub.Result{Type: fxpubsub.Succeeded})
		}
	}()
	if got := res.Wait(t, 2, timeout); len(got) != 2 {
		t.Errorf("Wait = %v", got)
	}

	fake := &fakeTB{}
	if got := res.Wait(fake, 3, 10*time.Millisecond); len(got) != 2 {
		t.Errorf("Wait = %v", got)
	}
	requireFailure(t, fake, "waited 10ms for 3 handled messages, got 2:\n  1. a SUCCEEDED\n  2. a SUCCEEDED")

	fake = &fakeTB{}
	res.WaitFor(fake, "b", 10*time.Millisecond)
	requireFailure(t, fake, "for a handled message of media type b; none of 2 matched")

	fake = &fakeTB{}
	res.WaitForMessage(fake, "sns-9", 10*time.Millisecond)
	requireFailure(t, fake, "for the handling of SNS message sns-9")
}

func TestAwait(t *testing.T) {
	res := pubsubtest.NewResults()
	rec := pubsubtest.NewRecorder()
	go func() {
		res.Hook(context.Background(), message("a", "1"), fxpubsub.Result{Type: fxpubsub.Succeeded})
		if err := publish(t, rec.Wrap(&stubSNS{}), `{"mediaType":"a"}`); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if got, err := res.Await(ctx, 1); err != nil || len(got) != 1 {
		t.Errorf("Results.Await = %v, %v", got, err)
	}
	if got, err := rec.Await(ctx, 1); err != nil || len(got) != 1 {
		t.Errorf("Recorder.Await = %v, %v", got, err)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	got, err := res.Await(short, 2)
	if !errors.Is(err, context.DeadlineExceeded) || len(got) != 1 || err.Error() != "pubsubtest: waiting for 2 handled messages, got 1: context deadline exceeded" {
		t.Errorf("Results.Await = %v, %v", got, err)
	}
	if _, err := rec.Await(short, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Recorder.Await error = %v", err)
	}
}
