package fxlambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/fxlambda"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }

const noteMT = "application/vnd.globality.pubsub._.created.note"

type note struct {
	URI  string `json:"uri" validate:"required"`
	Text string `json:"text" validate:"required"`
}

// rig is a decoder and dispatcher whose handler acts on the note's text ("fail", "panic",
// "retry", "block") and counts what it ran; the result lines go to logs.
type rig struct {
	dec     *fxpubsub.Decoder
	disp    *fxpubsub.Dispatcher
	logs    *bytes.Buffer
	ran     sync.Map // text → true
	block   chan struct{}
	handled chan struct{} // one per result
}

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{logs: &bytes.Buffer{}, block: make(chan struct{}), handled: make(chan struct{}, 100)}
	registry, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[note](noteMT))
	if err != nil {
		t.Fatal(err)
	}
	if r.dec, err = fxpubsub.NewDecoder(registry, fxpubsub.DecoderOptions{Backoff: fxpubsub.NaiveBackoff{Timeout: 7 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	reg, err := fxpubsub.NewRegistration[note](noteMT, fxpubsub.HandlerFunc[note](func(ctx context.Context, n *note) error {
		r.ran.Store(n.Text, true)
		switch n.Text {
		case "fail":
			return errors.New("demo failure")
		case "panic":
			panic("demo panic")
		case "retry":
			return &fxpubsub.Nack{Timeout: 30 * time.Second, Reason: "later"}
		case "skip":
			return &fxpubsub.SkipMessage{Reason: "not now"}
		case "block":
			<-r.block
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	handlers, err := fxpubsub.NewHandlerRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	logger := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&lockedWriter{w: r.logs}), zapcore.DebugLevel))
	r.disp = fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{EnableTTL: true, Logger: logger, Hooks: []fxpubsub.ResultHook{
		func(context.Context, *fxpubsub.Message, fxpubsub.Result) {
			select {
			case r.handled <- struct{}{}:
			default:
			}
		},
	}})
	return r
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// body is a raw-delivery message body for text; opaque may be nil.
func body(text string, opaque map[string]string) string {
	m := map[string]any{"mediaType": noteMT, "uri": "https://notes/" + text, "text": text, "opaqueData": opaque}
	if opaque == nil {
		m["opaqueData"] = map[string]string{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// envelope wraps a body in an SNS notification, as SQS delivers it without raw delivery.
func envelope(inner string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": "sns-" + fmt.Sprint(len(inner)), "TopicArn": "arn:aws:sns:us-east-1:000000000000:notes",
		"Message": inner, "Timestamp": "2026-01-01T00:00:00.000Z",
	})
	return string(b)
}

func record(id, body, arn string, attrs map[string]string) events.SQSMessage {
	if attrs == nil {
		attrs = map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"}
	}
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body, Attributes: attrs, EventSourceARN: arn, EventSource: "aws:sqs"}
}

const queueARN = "arn:aws:sqs:us-east-1:000000000000:notes"

// mixedEvent has a record of every kind; wantMixedFailures are the ones reported.
func mixedEvent() events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{
		record("good-raw", body("hello", nil), queueARN, nil),
		record("good-sns", envelope(body("hello sns", nil)), queueARN, nil),
		record("fail-raw", body("fail", nil), queueARN, nil),
		record("fail-sns", envelope(body("fail", nil)), queueARN, nil),
		record("panic", body("panic", nil), queueARN, nil),
		record("retry", body("retry", nil), queueARN, nil),
		record("skip", body("skip", nil), queueARN, nil),
		record("undecodable", `{"mediaType": "`+noteMT+`", "text": `, queueARN, nil),
		record("invalid", body("", nil), queueARN, nil),
		record("expired", body("expired", map[string]string{"x-request-ttl": "1"}), queueARN, nil),
		record("unknown", `{"mediaType":"application/vnd.globality.pubsub._.created.unknown_thing","uri":"https://x/1"}`, queueARN, nil),
	}}
}

var wantMixedFailures = []string{"fail-raw", "fail-sns", "panic", "retry", "undecodable", "invalid"}

func failures(resp events.SQSEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func TestInvokeReportsRetriedAndFailed(t *testing.T) {
	r := newRig(t)
	var flushes atomic.Int32
	h := fxlambda.NewHandler(r.dec, r.disp, fxlambda.Options{Flush: []func(context.Context) error{
		func(context.Context) error { flushes.Add(1); return nil },
	}})
	resp, err := h.Invoke(t.Context(), mixedEvent())
	if err != nil {
		t.Fatal(err)
	}
	if got := failures(resp); !slices.Equal(got, wantMixedFailures) {
		t.Fatalf("batchItemFailures %v, want %v", got, wantMixedFailures)
	}
	if n := flushes.Load(); n != 1 {
		t.Fatalf("flushed %d times, want once per invocation", n)
	}
	// One result line per record, with the result the daemon would give.
	results := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSpace(r.logs.Bytes()), []byte("\n")) {
		var l struct{ Result string }
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		results[l.Result]++
	}
	want := map[string]int{"SUCCEEDED": 2, "FAILED": 5, "RETRIED": 1, "SKIPPED": 1, "EXPIRED": 1, "IGNORED": 1}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Fatalf("result lines %v, want %v", results, want)
	}
}

func TestInvokeWarmUpReturnsAtOnce(t *testing.T) {
	r := newRig(t)
	var flushes atomic.Int32
	h := fxlambda.NewHandler(r.dec, r.disp, fxlambda.Options{Flush: []func(context.Context) error{
		func(context.Context) error { flushes.Add(1); return nil },
	}})
	for _, ev := range []events.SQSEvent{{}, {Records: []events.SQSMessage{}}} {
		resp, err := h.Invoke(t.Context(), ev)
		if err != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("empty event: %+v, %v; want no failures", resp, err)
		}
	}
	if flushes.Load() != 0 || r.logs.Len() != 0 {
		t.Fatalf("an empty event did work: %d flushes, logs %q", flushes.Load(), r.logs.String())
	}
}

// On a FIFO queue, after the first failure of a group the group's later records are reported
// without running; other groups go on.
func TestInvokeFIFOGroupStopsAtFirstFailure(t *testing.T) {
	const fifoARN = "arn:aws:sqs:us-east-1:000000000000:notes.fifo"
	group := func(g string) map[string]string {
		return map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": g}
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		record("a1", body("a1", nil), fifoARN, group("a")),
		record("b1", body("b1", nil), fifoARN, group("b")),
		record("a2", body("fail", nil), fifoARN, group("a")),
		record("b2", body("b2", nil), fifoARN, group("b")),
		record("a3", body("a3", nil), fifoARN, group("a")),
		record("a4", body("a4", nil), fifoARN, group("a")),
	}}
	for _, conc := range []int{1, 4} {
		r := newRig(t)
		h := fxlambda.NewHandler(r.dec, r.disp, fxlambda.Options{Concurrency: conc})
		resp, err := h.Invoke(t.Context(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := failures(resp), []string{"a2", "a3", "a4"}; !slices.Equal(got, want) {
			t.Fatalf("concurrency %d: batchItemFailures %v, want %v", conc, got, want)
		}
		for _, text := range []string{"a3", "a4"} {
			if _, ran := r.ran.Load(text); ran {
				t.Fatalf("concurrency %d: %s ran after a failure earlier in its group", conc, text)
			}
		}
		for _, text := range []string{"a1", "b1", "b2"} {
			if _, ran := r.ran.Load(text); !ran {
				t.Fatalf("concurrency %d: %s did not run", conc, text)
			}
		}
	}
}

// Near the deadline no record starts; the unstarted are reported.
func TestInvokeStopsStartingNearTheDeadline(t *testing.T) {
	r := newRig(t)
	const margin = 9 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	h := fxlambda.NewHandler(r.dec, r.disp, fxlambda.Options{DeadlineMargin: margin})
	// The first handler holds its record until the margin is reached.
	go func() {
		<-time.After(time.Until(deadline) - margin + 50*time.Millisecond)
		close(r.block)
	}()
	resp, err := h.Invoke(ctx, events.SQSEvent{Records: []events.SQSMessage{
		record("first", body("block", nil), queueARN, nil),
		record("second", body("second", nil), queueARN, nil),
		record("third", body("third", nil), queueARN, nil),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failures(resp), []string{"second", "third"}; !slices.Equal(got, want) {
		t.Fatalf("batchItemFailures %v, want %v", got, want)
	}
	if _, ran := r.ran.Load("second"); ran {
		t.Fatal("a record started inside the deadline margin")
	}
}
