package faults

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// firstTimeFailure fails a batch entry the first time its key is seen when pick(key) says so
// (server fault: retryable), and always when senderFault(key) says so (not retryable).
type firstTimeFailure struct {
	mu          sync.Mutex
	seen        map[string]bool
	pick        func(key string) bool
	senderFault func(key string) bool
}

func (f *firstTimeFailure) rule(_ string, key string) (bool, bool) {
	if f.senderFault != nil && f.senderFault(key) {
		return true, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	if f.seen[key] {
		return false, false
	}
	f.seen[key] = true
	return f.pick(key), false
}

// bucket hashes s into [0, 100).
func bucket(s string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return int(h.Sum32() % 100)
}

// TestPartialBatchFailures (issue 6, item 5): a proxy fails chosen entries of PublishBatch,
// DeleteMessageBatch and ChangeMessageVisibilityBatch (it strips them from the request, so fauxqs
// never applies them, and lists them under Failed in the response). It proves only the failed
// entries are retried (the proxy sees every other entry exactly once), server-fault entries are
// retried until they land, and sender-fault entries are not retried but reported (an error in the
// publish result; a settle failure and a log line for a delete, whose message then comes back and
// is handled again) — none silently dropped.
func TestPartialBatchFailures(t *testing.T) {
	tg := awstest.Fauxqs(t)
	reg := newRegistry(t)

	t.Run("PublishBatch", func(t *testing.T) {
		pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "pb", VisibilityTimeout: 30})
		proxy, err := NewProxy(tg.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		defer proxy.Close()
		rule := &firstTimeFailure{
			pick:        func(body string) bool { return bucket(extractKey(body)) < 30 },
			senderFault: func(body string) bool { return bucket(extractKey(body)) >= 97 },
		}
		proxy.SetEntryFailure(rule.rule)
		topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
		producer := fxpubsub.NewProducer(newSNS(t, proxy.URL(), clientOptions{RequestTimeout: 10 * time.Second}), reg, topics, fxpubsub.ProducerOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		all := keys("pb", 500)
		failed := publishAll(ctx, producer, all, 4)
		var published, senderFaulted []string
		for _, k := range all {
			if bucket(k) >= 97 {
				senderFaulted = append(senderFaulted, k)
				var be *fxpubsub.BatchEntryError
				if err := failed[k]; !errors.As(err, &be) || !be.SenderFault {
					t.Errorf("%s: sender-fault entry: publish result %v, want a *BatchEntryError with SenderFault", k, err)
				}
				continue
			}
			if err := failed[k]; err != nil {
				t.Errorf("%s: publish failed: %v", k, err)
			}
			published = append(published, k)
		}
		applied, bad := proxy.EntryCounts("PublishBatch")
		retried, dupApplied := 0, 0
		for body, n := range applied {
			if n > 1 {
				dupApplied++
				t.Errorf("entry forwarded %d times (a successful entry was sent again): %.80s", n, body)
			}
		}
		for body, n := range bad {
			k := extractKey(body)
			switch {
			case bucket(k) >= 97:
				if n != 1 || applied[body] != 0 {
					t.Errorf("sender-fault entry %s: failed %d times, applied %d; want 1 and 0 (never retried)", k, n, applied[body])
				}
			case applied[body] != 1:
				t.Errorf("server-fault entry %s: applied %d times after failing, want 1", k, applied[body])
			default:
				retried++
			}
		}
		ledger := NewLedger()
		d, _ := newDaemon(t, tg.SQS, reg, pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second}, fxpubsub.DaemonOptions{}, ledger, nil)
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer stopDaemon(t, d)
		if !ledger.WaitAll(published, ctx.Done()) {
			t.Fatalf("not delivered: %s", ledger.Check(published))
		}
		r := ledger.Check(published)
		t.Logf("PublishBatch: %d entries failed by the proxy (%d server faults retried alone and landed once, %d sender faults reported, not retried); %d entries forwarded twice; delivery: %s",
			len(bad), retried, len(senderFaulted), dupApplied, r)
		if r.Duplicates > 0 || r.Unexpected > 0 {
			t.Errorf("duplicates %d, unexpected %d (a sender-fault entry was published?)", r.Duplicates, r.Unexpected)
		}
	})

	t.Run("DeleteMessageBatch", func(t *testing.T) {
		pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "db", VisibilityTimeout: 2})
		proxy, err := NewProxy(tg.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		defer proxy.Close()
		rule := &firstTimeFailure{
			pick:        func(rh string) bool { return bucket(rh) < 30 },
			senderFault: func(rh string) bool { return bucket(rh+"s") < 3 },
		}
		proxy.SetEntryFailure(rule.rule)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
		producer := fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{})
		all := keys("db", 500)
		if bad := publishAll(ctx, producer, all, 4); len(bad) > 0 {
			t.Fatal(bad)
		}
		ledger := NewLedger()
		d, logs := newDaemon(t, newSQS(t, proxy.URL(), clientOptions{}), reg, pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second}, fxpubsub.DaemonOptions{}, ledger, nil)
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer stopDaemon(t, d)
		if !ledger.WaitAll(all, ctx.Done()) {
			t.Fatalf("not handled: %s", ledger.Check(all))
		}
		if !waitFor(20*time.Second, func() bool {
			v, inflight, err := queueDepth(ctx, tg.SQS, pipe.QueueURL)
			return err == nil && v == 0 && inflight == 0 && d.Stats().PendingDeletes == 0
		}) {
			v, inflight, _ := queueDepth(ctx, tg.SQS, pipe.QueueURL)
			t.Fatalf("queue not drained: %d visible, %d in flight (a failed delete entry was dropped?); stats %+v", v, inflight, d.Stats())
		}
		applied, bad := proxy.EntryCounts("DeleteMessageBatch")
		var server, sender int
		for rh, n := range bad {
			if bucket(rh+"s") < 3 {
				sender++
				if applied[rh] != 0 || n != 1 {
					t.Errorf("sender-fault delete: failed %d, applied %d; want 1 and 0", n, applied[rh])
				}
				continue
			}
			server++
			if applied[rh] != 1 {
				t.Errorf("server-fault delete applied %d times after failing, want 1", applied[rh])
			}
		}
		for rh, n := range applied {
			if n > 1 {
				t.Errorf("delete entry forwarded %d times: %.40s", n, rh)
			}
		}
		st := d.Stats()
		r := ledger.Check(all)
		logged := logs.FilterMessage("settle entry failed").Len()
		t.Logf("DeleteMessageBatch: %d entries failed (%d server faults retried alone, each applied once; %d sender faults reported: settle failures %d, %d log lines); delivery: %s",
			len(bad), server, sender, st.SettleFailures, logged, r)
		if st.SettleFailures != int64(sender) || logged != sender {
			t.Errorf("sender-fault deletes: %d, but settle failures %d and %d log lines", sender, st.SettleFailures, logged)
		}
		if r.Duplicates != int64(sender) {
			t.Errorf("duplicates %d; want exactly the %d messages whose delete was refused (they come back after the visibility timeout)", r.Duplicates, sender)
		}
	})

	t.Run("ChangeMessageVisibilityBatch", func(t *testing.T) {
		// Visibility timeout 30 s: a dropped visibility change would hide its message past the
		// deadline.
		pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "cv", VisibilityTimeout: 30})
		proxy, err := NewProxy(tg.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		defer proxy.Close()
		rule := &firstTimeFailure{pick: func(rh string) bool { return bucket(rh) < 30 }}
		proxy.SetEntryFailure(rule.rule)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
		producer := fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{})
		all := keys("cv", 300)
		if bad := publishAll(ctx, producer, all, 4); len(bad) > 0 {
			t.Fatal(bad)
		}
		var mu sync.Mutex
		nacked := map[string]bool{}
		ledger := NewLedger()
		// Every message is nacked (visible again at once) on its first delivery.
		d, _ := newDaemon(t, newSQS(t, proxy.URL(), clientOptions{}), reg, pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second},
			fxpubsub.DaemonOptions{DisableHeartbeat: true}, ledger, func(_ context.Context, it *item) error {
				mu.Lock()
				defer mu.Unlock()
				if !nacked[it.Key] {
					nacked[it.Key] = true
					return &fxpubsub.Nack{Reason: "first delivery"}
				}
				return nil
			})
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer stopDaemon(t, d)
		deadline, dcancel := context.WithTimeout(ctx, 20*time.Second)
		defer dcancel()
		if !ledger.WaitAll(all, deadline.Done()) {
			r := ledger.Check(all)
			t.Fatalf("nacked messages did not come back at once (a failed visibility change was dropped?): %s, e.g. %v", r, r.Lost)
		}
		applied, bad := proxy.EntryCounts("ChangeMessageVisibilityBatch")
		for rh, n := range applied {
			if n > 1 {
				t.Errorf("visibility entry forwarded %d times: %.40s", n, rh)
			}
		}
		for rh, n := range bad {
			if applied[rh] != 1 {
				t.Errorf("failed visibility entry applied %d times after failing %d, want 1: %s", applied[rh], n, rh)
			}
		}
		r := ledger.Check(all)
		t.Logf("ChangeMessageVisibilityBatch: %d of %d visibility changes failed once and were retried alone (each applied once); delivery after the nack: %s; settle failures %d",
			len(bad), len(applied), r, d.Stats().SettleFailures)
		if d.Stats().SettleFailures != 0 {
			t.Errorf("settle failures %d, want 0", d.Stats().SettleFailures)
		}
	})
}
