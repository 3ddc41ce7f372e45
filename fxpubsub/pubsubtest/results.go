package pubsubtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// Handled is one handling of a consumed message and its result. A message handled twice (after a
// RETRIED or FAILED result) appears twice.
type Handled struct {
	// MediaType is the message's media type ("" when its body could not be read at all).
	MediaType string
	// MessageID is the SQS message id (the id the handler saw).
	MessageID string
	// SNSMessageID is the id Producer.Produce returned for the message, read from the SNS
	// notification it arrived in ("" for raw delivery).
	SNSMessageID string
	// TopicARN is the SNS topic it came from ("" for raw delivery).
	TopicARN string
	// Content is the decoded content, a pointer to the schema's type; nil when decoding failed.
	Content any
	// Opaque is the opaque data as the handler saw it (message_id, handler, x-request-ttl, ...).
	Opaque fxpubsub.Opaque
	// ReceiveCount is SQS's receive count (1 on first delivery).
	ReceiveCount int
	// Result is how it was handled.
	Result fxpubsub.Result
}

// String renders h on one line: media type, result, handler, and reason or error.
func (h Handled) String() string {
	var b strings.Builder
	b.WriteString(h.MediaType)
	if h.MediaType == "" {
		b.WriteString("(no media type)")
	}
	b.WriteByte(' ')
	b.WriteString(h.Result.Type.String())
	if h.Result.Handler != "" {
		b.WriteString(" by ")
		b.WriteString(h.Result.Handler)
	}
	if h.Result.Reason != "" {
		fmt.Fprintf(&b, " (%s)", h.Result.Reason)
	}
	if h.Result.Err != nil {
		fmt.Fprintf(&b, ": %v", h.Result.Err)
	}
	if h.ReceiveCount > 1 {
		fmt.Fprintf(&b, " [receive %d]", h.ReceiveCount)
	}
	return b.String()
}

// Results collects the result of every message the consumer daemon handles, through a result hook
// ([fxpubsub.AsResultHook]; [Options] registers it). It is safe for concurrent use; its zero value
// is ready to use.
type Results struct {
	feed feed[Handled]
}

// NewResults returns an empty collector.
func NewResults() *Results { return &Results{} }

// Hook records one handled message; it is an [fxpubsub.ResultHook].
func (r *Results) Hook(ctx context.Context, m *fxpubsub.Message, res fxpubsub.Result) {
	h := Handled{
		MediaType:    m.MediaType,
		MessageID:    m.MessageID,
		TopicARN:     m.TopicARN,
		Content:      m.Content,
		ReceiveCount: m.ReceiveCount,
		Result:       res,
		SNSMessageID: m.SNSMessageID,
	}
	if o := fxpubsub.OpaqueFrom(ctx); o != nil {
		h.Opaque = o.Clone()
	} else {
		h.Opaque = m.Opaque.Clone()
	}
	r.feed.add(h)
}

// All returns every handled message so far, in the order their results were known.
func (r *Results) All() []Handled { return r.feed.all() }

// Len returns how many messages were handled so far.
func (r *Results) Len() int { return len(r.feed.all()) }

// ByMediaType returns the handled messages of mediaType, in order.
func (r *Results) ByMediaType(mediaType string) []Handled {
	var out []Handled
	for _, h := range r.feed.all() {
		if h.MediaType == mediaType {
			out = append(out, h)
		}
	}
	return out
}

// Reset forgets every result so far.
func (r *Results) Reset() { r.feed.reset() }

// Wait blocks until at least n messages were handled and returns all results (possibly more than
// n). After timeout it fails t with t.Fatalf, listing what was handled.
func (r *Results) Wait(t testing.TB, n int, timeout time.Duration) []Handled {
	t.Helper()
	return r.feed.waitN(t, n, timeout, "handled messages", Handled.String)
}

// Await blocks until at least n messages were handled or ctx is done, and returns the results;
// the error (ctx's, wrapped) says how many arrived. It is [Results.Wait] for code without a
// testing.TB, such as examples.
func (r *Results) Await(ctx context.Context, n int) ([]Handled, error) {
	return r.feed.await(ctx, n, "handled messages")
}

// WaitFor blocks until a message of mediaType was handled and returns the first such result.
// After timeout it fails t with t.Fatalf, listing what was handled.
func (r *Results) WaitFor(t testing.TB, mediaType string, timeout time.Duration) Handled {
	t.Helper()
	h, _ := r.feed.waitMatch(t, timeout, func(h Handled) bool { return h.MediaType == mediaType }, mediaType, "a handled message of media type", Handled.String)
	return h
}

// WaitForMessage blocks until the message Producer.Produce published with snsMessageID was
// handled and returns its first result. After timeout it fails t with t.Fatalf.
func (r *Results) WaitForMessage(t testing.TB, snsMessageID string, timeout time.Duration) Handled {
	t.Helper()
	h, _ := r.feed.waitMatch(t, timeout, func(h Handled) bool { return h.SNSMessageID == snsMessageID }, snsMessageID, "the handling of SNS message", Handled.String)
	return h
}
