package faults

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// writeInit writes a fauxqs init file: topic, queue (visibility timeout vt) and the SNS
// subscription (envelope delivery); it returns the path. fauxqs applies it right after it starts
// listening, with no await in between, so no request sees the server without the resources.
func writeInit(t testing.TB, topic, queue string, vt int) string {
	t.Helper()
	init := map[string]any{
		"queues":        []any{map[string]any{"name": queue, "attributes": map[string]string{"VisibilityTimeout": itoa(vt)}}},
		"topics":        []any{map[string]any{"name": topic}},
		"subscriptions": []any{map[string]any{"topic": topic, "queue": queue}},
	}
	b, err := json.Marshal(init)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "init.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEmulatorRestart (issue 6, item 2): the emulator process is killed (SIGKILL) while the daemon
// long-polls it with default settings (4 receivers, 20 s long polls) and handlers hold messages,
// stays down for 3 s, and is started again on the same port. It proves the daemon:
//
//   - logs the failures and backs off: its request rate stays bounded while the emulator is down
//     (counted at a pass-through proxy in front of the emulator);
//   - finishes the handlers that were running (their deletes fail and are reported, not lost
//     silently; the emulator lost those messages anyway);
//   - does not stop, and resumes by itself: every message published after the restart is handled;
//   - a publish while the emulator is down returns an error (never a silent success).
//
// fauxqs loses all state on restart; the restarted process re-creates the topic, queue and
// subscription with the same names from an init file before it serves a request (same ARNs and
// queue URL). A queue that really vanishes stays fatal by design (QueueDoesNotExist stops the
// daemon with exit code 1: on AWS a deleted queue does not come back by itself).
func TestEmulatorRestart(t *testing.T) {
	topicName, queueName := awstest.UniqueName("restart"), awstest.UniqueName("restart")
	fq := startFauxqs(t, writeInit(t, topicName, queueName, 2))
	proxy, err := NewProxy(fq.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	admin := awstest.NewSQSClient(fq.Endpoint(), "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	queueURL := queueURLOf(ctx, t, admin, queueName)
	topicARN := "arn:aws:sns:us-east-1:000000000000:" + topicName

	reg := newRegistry(t)
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": topicARN})
	if err != nil {
		t.Fatal(err)
	}
	producer := fxpubsub.NewProducer(newSNS(t, proxy.URL(), clientOptions{RequestTimeout: 10 * time.Second}), reg, topics, fxpubsub.ProducerOptions{})
	ledger := NewLedger()
	var (
		gateOnce sync.Once
		gate     = make(chan struct{})
		holding  = make(chan string, 100)
	)
	hold := func(ctx context.Context, it *item) error {
		if len(it.Key) > 5 && it.Key[:5] == "held-" {
			holding <- it.Key
			<-gate
		}
		return nil
	}
	d, logs := newDaemon(t, newSQS(t, proxy.URL(), clientOptions{}), reg, queueURL, fxpubsub.ConsumerOptions{}, fxpubsub.DaemonOptions{}, ledger, hold)
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer stopDaemon(t, d)
	defer gateOnce.Do(func() { close(gate) })

	before := keys("before", 300)
	if bad := publishAll(ctx, producer, before, 4); len(bad) > 0 {
		t.Fatalf("publish: %v", bad)
	}
	if !ledger.WaitAll(before, ctx.Done()) {
		t.Fatalf("before the restart: %s", ledger.Check(before))
	}

	// Handlers hold 5 messages when the emulator dies.
	held := keys("held", 5)
	if bad := publishAll(ctx, producer, held, 1); len(bad) > 0 {
		t.Fatalf("publish: %v", bad)
	}
	for range held {
		select {
		case <-holding:
		case <-ctx.Done():
			t.Fatal("held messages never reached their handlers")
		}
	}
	if err := fq.Kill(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	gateOnce.Do(func() { close(gate) }) // handlers finish while the emulator is down
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	_, perr := producer.Produce(pctx, itemMT, item{Key: "while-down"})
	pcancel()
	if perr == nil {
		t.Error("a publish while the emulator was down reported success")
	}
	<-time.After(3*time.Second - time.Since(down))
	up := time.Now()
	during := proxy.RequestsBetween(down, up)
	peak := proxy.MaxRate(down, up, time.Second)
	if err := fq.Start(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator down for %s: %d requests reached the proxy (peak %d in any 1 s), publish while down: %v",
		up.Sub(down).Round(time.Millisecond), during, peak, perr)
	// Callers: 4 receivers, the settle batcher (the held messages' deletes) and one publish, each
	// with up to 5 SDK attempts per call and backoff between calls; a hot loop would be thousands.
	if peak > 100 {
		t.Errorf("hot loop while the emulator was down: %d requests in one second (want ≤ 100)", peak)
	}
	if got := queueURLOf(ctx, t, admin, queueName); got != queueURL {
		t.Fatalf("queue URL changed across the restart: %s, was %s", got, queueURL)
	}

	after := keys("after", 300)
	if bad := publishAll(ctx, producer, after, 4); len(bad) > 0 {
		t.Fatalf("publish after the restart: %v", bad)
	}
	if !ledger.WaitAll(after, ctx.Done()) {
		t.Fatalf("daemon did not resume after the restart: %s; daemon err %v, stats %+v", ledger.Check(after), d.Err(), d.Stats())
	}
	resumed := time.Since(up)
	if err := d.Err(); err != nil {
		t.Errorf("daemon stopped on %v", err)
	}
	if !waitFor(10*time.Second, func() bool { return d.Healthy() == nil }) {
		t.Errorf("daemon unhealthy after the restart: %v", d.Healthy())
	}
	st := d.Stats()
	all := append(append(append([]string{}, before...), held...), after...)
	r := ledger.Check(all)
	backoffLogs := logs.FilterMessage("receive failed; backing off").Len()
	settleLogs := logs.FilterMessage("settle batch failed; messages will be redelivered after their visibility timeout").Len()
	t.Logf("item 2: %s; resumed within %s of the restart; receive errors %d (%d backoff log lines), settle failures %d (%d log lines)",
		r, resumed.Round(time.Millisecond), st.ReceiveErrors, backoffLogs, st.SettleFailures, settleLogs)
	if r.LostCount > 0 {
		t.Errorf("LOST %d messages: %v", r.LostCount, r.Lost)
	}
	if st.ReceiveErrors == 0 || backoffLogs == 0 {
		t.Errorf("no receive failure was reported while the emulator was down (errors %d, log lines %d)", st.ReceiveErrors, backoffLogs)
	}
}

func queueURLOf(ctx context.Context, t testing.TB, admin awstest.SQSAdmin, name string) string {
	t.Helper()
	out, err := admin.GetQueueUrl(ctx, &sqsGetQueueURLInput{QueueName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return *out.QueueUrl
}
