package fxpubsub_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// receiveAll receives until ErrEndOfInput, failing on any other error.
func receiveAll(t *testing.T, r *fxpubsub.ReplayReader, limit int32) []sqstypes.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var all []sqstypes.Message
	for {
		out, err := r.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{MaxNumberOfMessages: limit})
		if errors.Is(err, fxpubsub.ErrEndOfInput) {
			return all
		}
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 || len(out.Messages) > int(max(limit, 1)) {
			t.Fatalf("ReceiveMessage returned %d messages, want 1..%d", len(out.Messages), max(limit, 1))
		}
		all = append(all, out.Messages...)
	}
}

func TestReplayReaderLines(t *testing.T) {
	input := strings.Join([]string{
		`{"mediaType":"application/vnd.globality.pubsub.simple","message":"flat"}`,
		``,
		`   `,
		`{"Body":"{\"mediaType\":\"x\"}","MessageId":"given-id","ReceiptHandle":"given-rh","Attributes":{"ApproximateReceiveCount":"7","SentTimestamp":"1000"},"MessageAttributes":{"media_type":{"DataType":"String","StringValue":"x"}}}`,
		`not json at all`,
		`{"Body":42}`,
		`{"Message":"an SNS notification is a body too","Type":"Notification"}` + "\r",
	}, "\n") // no trailing newline: the last line still counts
	r := fxpubsub.NewReplayReader(strings.NewReader(input), "test")
	msgs := receiveAll(t, r, 10)

	want := []struct{ id, rh, body string }{
		{"replay-1", "replay-rh-1", `{"mediaType":"application/vnd.globality.pubsub.simple","message":"flat"}`},
		{"given-id", "given-rh", `{"mediaType":"x"}`},
		{"replay-5", "replay-rh-5", `not json at all`},
		{"replay-6", "replay-rh-6", `{"Body":42}`},
		{"replay-7", "replay-rh-7", `{"Message":"an SNS notification is a body too","Type":"Notification"}`},
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d: %+v", len(msgs), len(want), msgs)
	}
	for i, w := range want {
		m := msgs[i]
		if got := aws.ToString(m.MessageId); got != w.id {
			t.Errorf("message %d: id %q, want %q", i, got, w.id)
		}
		if got := aws.ToString(m.ReceiptHandle); got != w.rh {
			t.Errorf("message %d: receipt handle %q, want %q", i, got, w.rh)
		}
		if got := aws.ToString(m.Body); got != w.body {
			t.Errorf("message %d: body %q, want %q", i, got, w.body)
		}
		if got := m.Attributes["ApproximateReceiveCount"]; got != "1" {
			t.Errorf("message %d: ApproximateReceiveCount %q, want 1 (a replay is a first delivery)", i, got)
		}
		if m.Attributes["SentTimestamp"] == "" {
			t.Errorf("message %d: no SentTimestamp", i)
		}
	}
	if got := msgs[1].Attributes["SentTimestamp"]; got != "1000" {
		t.Errorf("record's SentTimestamp %q, want it kept (1000)", got)
	}
	if got := aws.ToString(msgs[1].MessageAttributes["media_type"].StringValue); got != "x" {
		t.Errorf("record's media_type attribute %q, want x", got)
	}
	if s := r.Stats(); s.Lines != 5 || s.Messages != 5 || s.Oversize != 0 {
		t.Errorf("stats %+v, want 5 lines, 5 messages", s)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err() = %v, want nil at EOF", err)
	}
	// Exhausted input stays exhausted.
	if _, err := r.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{}); !errors.Is(err, fxpubsub.ErrEndOfInput) {
		t.Fatalf("receive after the end: %v, want ErrEndOfInput", err)
	}
}

func TestReplayReaderBatchLimit(t *testing.T) {
	lines := strings.Repeat(`{"mediaType":"application/json"}`+"\n", 25)
	for _, limit := range []int32{0, 1, 3, 10, 50} {
		r := fxpubsub.NewReplayReader(strings.NewReader(lines), "batch")
		if got := len(receiveAll(t, r, limit)); got != 25 {
			t.Errorf("limit %d: got %d messages, want 25", limit, got)
		}
	}
}

func TestReplayReaderEmptyInput(t *testing.T) {
	r := fxpubsub.NewReplayReader(strings.NewReader("\n\n  \n"), "empty")
	if msgs := receiveAll(t, r, 10); len(msgs) != 0 {
		t.Fatalf("got %d messages from blank input", len(msgs))
	}
}

func TestReplayReaderOversizeLine(t *testing.T) {
	huge := `{"mediaType":"x","pad":"` + strings.Repeat("a", fxpubsub.MaxReplayLineSize+100) + `"}`
	exact := strings.Repeat("b", fxpubsub.MaxReplayLineSize)
	input := "first\n" + huge + "\n" + exact + "\r\nlast\n"
	r := fxpubsub.NewReplayReader(strings.NewReader(input), "big")
	msgs := receiveAll(t, r, 10)
	if len(msgs) != 4 {
		t.Fatalf("got %d messages, want 4 (an oversize line must not stop the replay)", len(msgs))
	}
	if got := len(aws.ToString(msgs[1].Body)); got != fxpubsub.MaxReplayLineSize {
		t.Errorf("oversize line handed out with %d bytes, want it cut to %d", got, fxpubsub.MaxReplayLineSize)
	}
	if got := aws.ToString(msgs[2].Body); got != exact {
		t.Errorf("a line of exactly MaxReplayLineSize bytes was changed (len %d)", len(got))
	}
	if got := aws.ToString(msgs[3].Body); got != "last" {
		t.Errorf("line after the oversize one: %q, want last", got)
	}
	if s := r.Stats(); s.Oversize != 1 {
		t.Errorf("stats %+v, want 1 oversize line", s)
	}
}

type failingReader struct {
	data io.Reader
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

func TestReplayReaderReadErrorEndsInput(t *testing.T) {
	boom := errors.New("disk on fire")
	r := fxpubsub.NewReplayReader(&failingReader{data: strings.NewReader("one\ntwo\n"), err: boom}, "bad")
	if msgs := receiveAll(t, r, 10); len(msgs) != 2 {
		t.Fatalf("got %d messages, want the 2 read before the error", len(msgs))
	}
	if err := r.Err(); !errors.Is(err, boom) {
		t.Fatalf("Err() = %v, want %v", err, boom)
	}
}

func TestReplayReaderHonoursContext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r := fxpubsub.NewReplayReader(pr, "pipe")
	defer r.Close()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{MaxNumberOfMessages: 10})
		errc <- err
	}()
	cancel() // nothing was written: the receive must give up
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("receive returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReceiveMessage ignored its context")
	}

	// Lines written later are still delivered, then the writer's close ends the input.
	go func() {
		_, _ = io.WriteString(pw, "later\n")
		_ = pw.Close()
	}()
	msgs := receiveAll(t, r, 10)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "later" {
		t.Fatalf("got %+v, want the one line written later", msgs)
	}
}

func TestReplayReaderCloseEndsInput(t *testing.T) {
	pr, pw := io.Pipe()
	r := fxpubsub.NewReplayReader(pr, "pipe")
	errc := make(chan error, 1)
	go func() {
		_, err := r.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{})
		errc <- err
	}()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_ = r.Close() // idempotent
	select {
	case err := <-errc:
		if !errors.Is(err, fxpubsub.ErrEndOfInput) {
			t.Fatalf("receive after Close: %v, want ErrEndOfInput", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a waiting receive")
	}
	_ = pw.Close() // unblocks the reader goroutine's Read
}

func TestReplayReaderSettlesAndDescribesQueue(t *testing.T) {
	ctx := context.Background()
	r := fxpubsub.NewReplayReader(strings.NewReader(""), "q")
	url := r.QueueURL()
	if url != "replay://q" {
		t.Fatalf("QueueURL %q", url)
	}
	gu, err := r.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("anything")})
	if err != nil || aws.ToString(gu.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v", gu, err)
	}
	ga, err := r.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url})
	if err != nil || ga.Attributes["VisibilityTimeout"] != "30" {
		t.Fatalf("GetQueueAttributes = %v, %v", ga, err)
	}
	if _, err := r.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	db, err := r.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: aws.String("b")}, {Id: aws.String("2"), ReceiptHandle: aws.String("c")},
	}})
	if err != nil || len(db.Successful) != 2 || len(db.Failed) != 0 || aws.ToString(db.Successful[1].Id) != "2" {
		t.Fatalf("DeleteMessageBatch = %+v, %v", db, err)
	}
	if _, err := r.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	cb, err := r.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: []sqstypes.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: aws.String("e")},
	}})
	if err != nil || len(cb.Successful) != 1 {
		t.Fatalf("ChangeMessageVisibilityBatch = %+v, %v", cb, err)
	}
	if s := r.Stats(); s.Deleted != 3 || s.VisibilityChanges != 2 {
		t.Fatalf("stats %+v, want 3 deleted and 2 visibility changes", s)
	}
}

// TestReplayThroughDaemon runs the real consumer, dispatcher and daemon over a replay: every line
// is handled once, bad lines are FAILED, and the daemon stops by itself at the end.
func TestReplayThroughDaemon(t *testing.T) {
	lines := []string{
		`{"mediaType":"` + orderMT + `","uri":"https://orders/1","order_id":"1"}`,
		`{"Body":"{\"mediaType\":\"` + orderMT + `\",\"uri\":\"https://orders/2\",\"order_id\":\"2\"}"}`,
		`{"mediaType":"` + orderMT + `","uri":"https://orders/3"`, // cut short
	}
	r := fxpubsub.NewReplayReader(strings.NewReader(strings.Join(lines, "\n")+"\n"), "orders.jsonl")
	reg := mustReg(t, orderMT, func(context.Context, *orderCreated) error { return nil })
	handlers, err := fxpubsub.NewHandlerRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	registry, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT))
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := fxpubsub.NewConsumer(r, registry, r.QueueURL(), fxpubsub.ConsumerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan fxpubsub.ResultType, len(lines))
	dispatcher := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{Hooks: []fxpubsub.ResultHook{
		func(_ context.Context, _ *fxpubsub.Message, res fxpubsub.Result) { results <- res.Type },
	}})
	stopped := make(chan error, 1)
	d := fxpubsub.NewDaemon(consumer, dispatcher, fxpubsub.DaemonOptions{Receivers: 1, OnStopped: func(err error) { stopped <- err }})
	ctx := context.Background()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("daemon stopped with %v, want nil at the end of input", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not stop at the end of input: %+v", d.Stats())
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	close(results)
	count := map[fxpubsub.ResultType]int{}
	for rt := range results {
		count[rt]++
	}
	if count[fxpubsub.Succeeded] != 2 || count[fxpubsub.Failed] != 1 {
		t.Fatalf("results %v, want 2 SUCCEEDED and 1 FAILED", count)
	}
	if s := r.Stats(); s.Deleted != 2 || s.VisibilityChanges != 1 {
		t.Fatalf("replay stats %+v, want 2 deleted, 1 visibility change", s)
	}
}
