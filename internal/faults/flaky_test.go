package faults

import (
	"context"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// flakyMessages is item 1's message count.
const flakyMessages = 10_000

// TestFlakyNetwork (issue 6, item 1): 10,000 messages go publish (SNS PublishBatch) → SNS → SQS →
// daemon → handler, with both SDK clients talking to fauxqs through a fault-injecting proxy that
// answers about 4 % of requests with 500s, 4 % with throttling errors, resets 2 % of connections
// before and 2 % after the emulator applied the call, and holds 0.5 % of responses past the
// clients' 3 s timeout. It proves:
//
//   - every message whose publish succeeded is handled at least once (none lost), and every
//     message is finally deleted (the queue ends empty, nothing in flight);
//   - duplicates happen only where the network made them unavoidable; they are counted and
//     reported (a reset after an applied PublishBatch is retried by the SDK: two copies);
//   - with the backend failing every request for 3 s, the daemon's request rate stays bounded
//     (no hot loop), and it resumes by itself when the backend recovers.
//
// Timings are shortened so the fast form fits CI: queue visibility timeout 2 s, 1 s long polls,
// 3 s per-attempt timeouts (the proxy's delays exceed them).
func TestFlakyNetwork(t *testing.T) {
	tg := awstest.Fauxqs(t)
	pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "flaky", VisibilityTimeout: 2})
	proxy, err := NewProxy(tg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	proxy.Delay = 4 * time.Second
	proxy.SetSchedule(Mix(6, map[Fault]float64{Error500: 0.04, Throttle: 0.04, ResetBefore: 0.02, ResetAfter: 0.02, Delay: 0.005}))

	reg := newRegistry(t)
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
	if err != nil {
		t.Fatal(err)
	}
	snsCalls, sqsCalls := newCallCounter(), newCallCounter()
	snsc := newSNS(t, proxy.URL(), clientOptions{RequestTimeout: 3 * time.Second, Counter: snsCalls})
	sqsc := newSQS(t, proxy.URL(), clientOptions{RequestTimeout: 3 * time.Second, Counter: sqsCalls})
	producer := fxpubsub.NewProducer(snsc, reg, topics, fxpubsub.ProducerOptions{})

	ledger := NewLedger()
	d, logs := newDaemon(t, sqsc, reg, pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second}, fxpubsub.DaemonOptions{}, ledger, nil)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stopDaemon(t, d)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	all := keys("flaky", flakyMessages)
	failedPublish := publishAll(ctx, producer, all, 8)
	published := make([]string, 0, len(all))
	for _, k := range all {
		if _, bad := failedPublish[k]; !bad {
			published = append(published, k)
		}
	}
	t.Logf("published %d of %d in %s (%d publishes failed after every retry)", len(published), len(all), time.Since(start).Round(time.Millisecond), len(failedPublish))
	for k, err := range failedPublish {
		t.Logf("publish of %s failed: %v", k, err)
		break
	}
	if len(failedPublish) > flakyMessages/1000 {
		t.Errorf("%d of %d publishes failed after the producer's retries; want at most 0.1 %%", len(failedPublish), flakyMessages)
	}

	if !ledger.WaitAll(published, ctx.Done()) {
		r := ledger.Check(published)
		t.Fatalf("not every published message was handled within the deadline: %s; lost e.g. %v; daemon %+v", r, r.Lost, d.Stats())
	}
	// Every delete lands eventually: messages whose delete failed come back and are handled again.
	if !waitFor(30*time.Second, func() bool {
		v, inflight, err := queueDepth(ctx, tg.SQS, pipe.QueueURL)
		return err == nil && v == 0 && inflight == 0 && d.Stats().PendingDeletes == 0
	}) {
		v, inflight, _ := queueDepth(ctx, tg.SQS, pipe.QueueURL)
		t.Errorf("queue not drained: %d visible, %d in flight; daemon %+v", v, inflight, d.Stats())
	}
	elapsed := time.Since(start)
	r := ledger.Check(published)
	st := d.Stats()
	ps := proxy.Stats()
	snsFailed, _ := snsCalls.failed()
	sqsFailed, sqsFails := sqsCalls.failed()
	t.Logf("item 1: %s in %s", r, elapsed.Round(time.Millisecond))
	t.Logf("proxy: %d requests, faults %v, by operation %v", ps.Requests, ps.ByFault, ps.ByOp)
	t.Logf("SDK: %d failed SNS attempts, %d failed SQS attempts (retried); daemon: receive errors %d (after the SDK's retries), settle failures %d, stats %+v",
		snsFailed, sqsFailed, st.ReceiveErrors, st.SettleFailures, st)
	for i, f := range sqsFails {
		if i < 3 {
			t.Logf("e.g. %s", f)
		}
	}
	if r.LostCount > 0 {
		t.Errorf("LOST %d messages, e.g. %v", r.LostCount, r.Lost)
	}
	if n := logs.FilterMessage("receive failed; backing off").Len(); st.ReceiveErrors > 0 && n == 0 {
		t.Errorf("%d receive errors but no 'receive failed; backing off' log line", st.ReceiveErrors)
	}

	// Hot-loop check: every request fails for 3 s. Only the receivers are active (nothing is in
	// flight); each makes at most 5 SDK attempts per call with the SDK's backoff, then backs off
	// itself. A hot loop would be thousands of requests a second.
	outage := 3 * time.Second
	proxy.SetSchedule(Always(Error500))
	from := time.Now()
	<-time.After(outage)
	to := time.Now()
	proxy.SetSchedule(nil)
	during := proxy.RequestsBetween(from, to)
	peak := proxy.MaxRate(from, to, time.Second)
	t.Logf("outage of %s: %d requests (%.1f/s), peak %d in any 1 s, %d receivers", outage, during, float64(during)/to.Sub(from).Seconds(), peak, 4)
	if peak > 60 {
		t.Errorf("daemon hot-loops while the backend fails: %d requests in one second (want ≤ 60 for 4 receivers)", peak)
	}
	// ... and resumes by itself.
	more := keys("flaky-after", 100)
	if bad := publishAll(ctx, producer, more, 2); len(bad) > 0 {
		t.Fatalf("publish after the outage failed: %v", bad)
	}
	if !ledger.WaitAll(more, ctx.Done()) {
		t.Fatalf("daemon did not resume after the outage: %s; stats %+v", ledger.Check(more), d.Stats())
	}
	t.Logf("resumed: %d messages published after the outage handled", len(more))
}
