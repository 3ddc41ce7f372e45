package fxpubsub_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// rawSource is r's source decoding with the raw envelope (any JSON body).
func rawSource(t *testing.T, r *fxpubsub.ReplayReader) fxpubsub.MessageSource {
	t.Helper()
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := fxpubsub.NewDecoder(reg, fxpubsub.DecoderOptions{Envelope: fxpubsub.EnvelopeRaw})
	if err != nil {
		t.Fatal(err)
	}
	return r.Source(dec)
}

// receiveAll receives until the end of input, failing on any error.
func receiveAll(t *testing.T, r *fxpubsub.ReplayReader, limit int) []*fxpubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src := rawSource(t, r)
	var all []*fxpubsub.Message
	for {
		msgs, err := src.Receive(ctx, limit)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if len(msgs) == 0 {
			if !src.EndOfInput() {
				t.Fatal("Receive returned no messages before the end of input")
			}
			return all
		}
		if src.EndOfInput() {
			t.Fatal("EndOfInput before the last message was handed out")
		}
		if len(msgs) > min(max(limit, 1), 10) {
			t.Fatalf("Receive returned %d messages, want 1..%d", len(msgs), max(limit, 1))
		}
		all = append(all, msgs...)
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
		if got := m.MessageID; got != w.id {
			t.Errorf("message %d: id %q, want %q", i, got, w.id)
		}
		if got := m.ReceiptHandle; got != w.rh {
			t.Errorf("message %d: receipt handle %q, want %q", i, got, w.rh)
		}
		if got := string(m.Body); got != w.body {
			t.Errorf("message %d: body %q, want %q", i, got, w.body)
		}
		if got := m.ReceiveCount; got != 1 {
			t.Errorf("message %d: ReceiveCount %d, want 1 (a replay is a first delivery)", i, got)
		}
		if m.SentAt.IsZero() {
			t.Errorf("message %d: no SentAt", i)
		}
	}
	if got := msgs[1].SentAt.UnixMilli(); got != 1000 {
		t.Errorf("record's SentTimestamp %d, want it kept (1000)", got)
	}
	if msgs[2].Err == nil || msgs[0].Err != nil {
		t.Errorf("decode errors %v, %v: want only the line that is not JSON to fail", msgs[0].Err, msgs[2].Err)
	}
	if s := r.Stats(); s.Lines != 5 || s.Messages != 5 || s.Oversize != 0 {
		t.Errorf("stats %+v, want 5 lines, 5 messages", s)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err() = %v, want nil at EOF", err)
	}
	// Exhausted input stays exhausted.
	src := rawSource(t, r)
	if msgs, err := src.Receive(context.Background(), 10); err != nil || len(msgs) != 0 || !src.EndOfInput() {
		t.Fatalf("receive after the end: %d messages, %v, end %v; want none, nil, true", len(msgs), err, src.EndOfInput())
	}
}

func TestReplayReaderBatchLimit(t *testing.T) {
	lines := strings.Repeat(`{"mediaType":"application/json"}`+"\n", 25)
	for _, limit := range []int{0, 1, 3, 10, 50} {
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
	if got := len(msgs[1].Body); got != fxpubsub.MaxReplayLineSize {
		t.Errorf("oversize line handed out with %d bytes, want it cut to %d", got, fxpubsub.MaxReplayLineSize)
	}
	if got := string(msgs[2].Body); got != exact {
		t.Errorf("a line of exactly MaxReplayLineSize bytes was changed (len %d)", len(got))
	}
	if got := string(msgs[3].Body); got != "last" {
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
		_, err := rawSource(t, r).Receive(ctx, 10)
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
	if len(msgs) != 1 || string(msgs[0].Body) != "later" {
		t.Fatalf("got %+v, want the one line written later", msgs)
	}
}

func TestReplayReaderCloseEndsInput(t *testing.T) {
	pr, pw := io.Pipe()
	r := fxpubsub.NewReplayReader(pr, "pipe")
	src := rawSource(t, r)
	errc := make(chan error, 1)
	go func() {
		msgs, err := src.Receive(context.Background(), 10)
		if err == nil && (len(msgs) != 0 || !src.EndOfInput()) {
			err = errors.New("messages or no end of input after Close")
		}
		errc <- err
	}()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_ = r.Close() // idempotent
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("receive after Close: %v, want the end of input", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a waiting receive")
	}
	_ = pw.Close() // unblocks the reader goroutine's Read
}

func TestReplayReaderSettles(t *testing.T) {
	ctx := context.Background()
	r := fxpubsub.NewReplayReader(strings.NewReader(`{"a":1}`+"\n"+`{"b":2}`+"\n"), "q")
	if url := r.QueueURL(); url != "replay://q" {
		t.Fatalf("QueueURL %q", url)
	}
	msgs := receiveAll(t, r, 10)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages", len(msgs))
	}
	if err := errors.Join(msgs[0].Ack(ctx), msgs[1].Nack(ctx, time.Second), msgs[1].Extend(ctx, time.Second), msgs[1].NackBackoff(ctx)); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Deleted != 1 || s.VisibilityChanges != 3 {
		t.Fatalf("stats %+v, want 1 deleted and 3 visibility changes", s)
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
	dec, err := fxpubsub.NewDecoder(registry, fxpubsub.DecoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan fxpubsub.ResultType, len(lines))
	dispatcher := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{Hooks: []fxpubsub.ResultHook{
		func(_ context.Context, _ *fxpubsub.Message, res fxpubsub.Result) { results <- res.Type },
	}})
	stopped := make(chan error, 1)
	d := fxpubsub.NewSourceDaemon(r.Source(dec), dispatcher, fxpubsub.DaemonOptions{Receivers: 1, OnStopped: func(err error) { stopped <- err }})
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
