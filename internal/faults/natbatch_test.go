package faults

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// TestNaturalBatchingEntryFailure (issue 13, goal 2): 64 goroutines call Produce, so their
// messages share PublishBatch requests; the proxy fails chosen entries of those requests (server
// faults the first time, retried; sender faults always, not retried). Each failure reaches exactly
// its own caller: a sender-faulted key's Produce returns a *BatchEntryError, every other call
// returns its own message id, and every other message is delivered exactly once.
func TestNaturalBatchingEntryFailure(t *testing.T) {
	tg := awstest.Fauxqs(t)
	reg := newRegistry(t)
	pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "nbf", VisibilityTimeout: 30})
	proxy, err := NewProxy(tg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	rule := &firstTimeFailure{
		pick:        func(body string) bool { return bucket(extractKey(body)) < 20 },
		senderFault: func(body string) bool { return bucket(extractKey(body)) >= 97 },
	}
	proxy.SetEntryFailure(rule.rule)
	topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
	producer := fxpubsub.NewProducer(newSNS(t, proxy.URL(), clientOptions{RequestTimeout: 10 * time.Second}), reg, topics, fxpubsub.ProducerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	all := keys("nbf", 1000)
	var (
		mu      sync.Mutex
		results = map[string]error{}
		ids     = map[string]string{}
		wg      sync.WaitGroup
		next    = make(chan string)
	)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				id, err := producer.Produce(ctx, itemMT, item{Key: k})
				mu.Lock()
				results[k], ids[k] = err, id
				mu.Unlock()
			}
		}()
	}
	for _, k := range all {
		next <- k
	}
	close(next)
	wg.Wait()

	seen := map[string]string{}
	var published []string
	senderFaulted := 0
	for _, k := range all {
		err := results[k]
		if bucket(k) >= 97 {
			senderFaulted++
			var be *fxpubsub.BatchEntryError
			if !errors.As(err, &be) || !be.SenderFault || ids[k] != "" {
				t.Errorf("%s: sender-faulted entry: Produce = %q, %v; want \"\" and a *BatchEntryError with SenderFault", k, ids[k], err)
			}
			continue
		}
		if err != nil || ids[k] == "" {
			t.Errorf("%s: Produce = %q, %v; want its message id", k, ids[k], err)
			continue
		}
		if other, dup := seen[ids[k]]; dup {
			t.Errorf("%s and %s got the same message id %s", k, other, ids[k])
		}
		seen[ids[k]] = k
		published = append(published, k)
	}
	applied, bad := proxy.EntryCounts("PublishBatch")
	for body, n := range applied {
		if n > 1 {
			t.Errorf("entry forwarded %d times: %.80s", n, body)
		}
	}
	st := proxy.Stats()
	calls := st.ByOp["PublishBatch"] + st.ByOp["Publish"]
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
	t.Logf("%d Produce calls from 64 goroutines in %d requests; %d entries failed by the proxy (%d sender faults reported to their callers); delivery: %s",
		len(all), calls, len(bad), senderFaulted, r)
	if r.Duplicates > 0 || r.Unexpected > 0 {
		t.Errorf("duplicates %d, unexpected %d (a sender-faulted entry was published?)", r.Duplicates, r.Unexpected)
	}
	if senderFaulted == 0 || len(bad) <= senderFaulted {
		t.Errorf("the proxy failed %d entries, %d of them sender faults: the test exercised nothing", len(bad), senderFaulted)
	}
}
