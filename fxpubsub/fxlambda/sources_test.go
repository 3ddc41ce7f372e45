package fxlambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/fxlambda"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// resultLines returns the result lines in logs without what differs per delivery (time, caller,
// elapsed time, message id, receipt handle, stack), sorted.
func resultLines(t *testing.T, logs []byte) []string {
	t.Helper()
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace(logs), []byte("\n")) {
		var l map[string]any
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if !strings.HasPrefix(l["msg"].(string), "Result for media type") {
			continue
		}
		for _, k := range []string{"ts", "caller", "elapsed_time", "stacktrace"} {
			delete(l, k)
		}
		if o, ok := l["opaque"].(map[string]any); ok {
			delete(o, "message_id")
			delete(o, "receipt_handle")
		}
		b, _ := json.Marshal(l)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// waitHandled waits for n results.
func waitHandled(t *testing.T, r *rig, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for range n {
		select {
		case <-r.handled:
		case <-timeout:
			t.Fatalf("results did not arrive; logs:\n%s", r.logs.String())
		}
	}
}

// The same messages through the SQS daemon (in-memory queue), a replay and Lambda give the same
// result lines.
func TestDaemonReplayAndLambdaGiveTheSameResultLines(t *testing.T) {
	ev := mixedEvent()
	n := len(ev.Records)
	ctx := t.Context()

	// Lambda.
	lam := newRig(t)
	if _, err := fxlambda.NewHandler(lam.dec, lam.disp, fxlambda.Options{}).Invoke(ctx, ev); err != nil {
		t.Fatal(err)
	}
	want := resultLines(t, lam.logs.Bytes())
	if len(want) != n {
		t.Fatalf("lambda wrote %d result lines for %d records", len(want), n)
	}

	// Replay: one line per record, as SQS records.
	rep := newRig(t)
	var input strings.Builder
	for _, rec := range ev.Records {
		line, _ := json.Marshal(map[string]any{"MessageId": rec.MessageId, "Body": rec.Body})
		input.Write(append(line, '\n'))
	}
	replay := fxpubsub.NewReplayReader(strings.NewReader(input.String()), "mixed.jsonl")
	stopped := make(chan error, 1)
	d := fxpubsub.NewSourceDaemon(replay.Source(rep.dec), rep.disp, fxpubsub.DaemonOptions{Receivers: 1, OnStopped: func(err error) { stopped <- err }})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("replay did not end")
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultLines(t, rep.logs.Bytes()); !slices.Equal(got, want) {
		t.Fatalf("replay result lines differ from lambda's:\nreplay: %s\nlambda: %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The SQS daemon on the in-memory backend.
	dae := newRig(t)
	mem := pubsubmem.New()
	defer mem.Close()
	q, err := mem.SQS().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("mixed")})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range ev.Records {
		if _, err := mem.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(rec.Body)}); err != nil {
			t.Fatal(err)
		}
	}
	registry, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[note](noteMT))
	if err != nil {
		t.Fatal(err)
	}
	consumer, err := fxpubsub.NewConsumer(mem.SQS(), registry, aws.ToString(q.QueueUrl), fxpubsub.ConsumerOptions{Backoff: dae.dec.Options().Backoff, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	daemon := fxpubsub.NewDaemon(consumer, dae.disp, fxpubsub.DaemonOptions{Receivers: 1, VisibilityTimeout: 30 * time.Second})
	if err := daemon.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitHandled(t, dae, n)
	if err := daemon.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultLines(t, dae.logs.Bytes()); !slices.Equal(got, want) {
		t.Fatalf("daemon result lines differ from lambda's:\ndaemon: %s\nlambda: %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInvoke10 measures a 10-record invocation of good records (raw delivery, a no-op
// handler, the JSON result line encoded and discarded), as BenchmarkDaemonMemory does for the
// daemon. One op is one invocation; cpu-µs/msg is the figure to compare.
func BenchmarkInvoke10(b *testing.B) {
	r := newRig(b)
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel))
	handlers, err := fxpubsub.NewHandlerRegistry(mustNoteHandler(b))
	if err != nil {
		b.Fatal(err)
	}
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{EnableTTL: true, Logger: logger})
	h := fxlambda.NewHandler(r.dec, disp, fxlambda.Options{})
	ev := events.SQSEvent{}
	for i := range 10 {
		ev.Records = append(ev.Records, record("m"+string(rune('0'+i)), body("hello", map[string]string{"x-request-id": "4f3e", "x-request-published": "1700000000.123456"}), queueARN, nil))
	}
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		resp, err := h.Invoke(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatalf("%+v %v", resp, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*10), "cpu-µs/msg")
}

func mustNoteHandler(tb testing.TB) fxpubsub.Registration {
	tb.Helper()
	reg, err := fxpubsub.NewRegistration[note](noteMT, fxpubsub.HandlerFunc[note](func(context.Context, *note) error { return nil }))
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}
