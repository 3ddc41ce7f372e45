package faults

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
)

// TestSoak (issue 6, item 9) pushes messages through the in-memory backend and through fauxqs,
// publish (SNS PublishBatch) → daemon (default settings) → handler, with at most
// PUBSUB_SOAK_INFLIGHT (default 2,000) published but not yet handled. Every run does a short soak
// (50,000 messages in memory, 10,000 on fauxqs, about 16 s under -race); with PUBSUB_SOAK=1
// (scripts/soak.sh sets it, starts its own fauxqs and keeps the output) it is the long one:
// PUBSUB_SOAK_MEMORY (default 1,000,000) and PUBSUB_SOAK_FAUXQS (default 100,000). Every 2 s it
// samples the live heap (after a GC) and the goroutine count. It fails on any lost message, on
// live-heap growth after warm-up (the first 20 % of messages) beyond both 25 % and 16 MiB, or when
// goroutines remain after stop (goleak, with the SDK's idle keep-alive connections ignored as in
// every test of this repository). It reports messages, duplicates, losses, the heap samples and the
// goroutine counts.
func TestSoak(t *testing.T) {
	memory, fauxqs := 50_000, 10_000
	if os.Getenv("PUBSUB_SOAK") == "1" {
		memory, fauxqs = 1_000_000, 100_000
	}
	inflight := envInt("PUBSUB_SOAK_INFLIGHT", 2000)
	t.Run("memory", func(t *testing.T) {
		soak(t, awstest.Memory(t), envInt("PUBSUB_SOAK_MEMORY", memory), inflight)
	})
	t.Run("fauxqs", func(t *testing.T) {
		soak(t, awstest.Fauxqs(t), envInt("PUBSUB_SOAK_FAUXQS", fauxqs), inflight)
	})
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type memSample struct {
	at        time.Duration
	handled   int64
	heapMiB   float64
	goroutine int
}

func soak(t *testing.T, tg awstest.Target, n, maxInFlight int) {
	baseline := goleak.IgnoreCurrent()
	baseGoroutines := runtime.NumGoroutine()
	pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "soak", VisibilityTimeout: 30})
	reg := newRegistry(t)
	topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
	var (
		sqsc    fxpubsub.SQSClient = tg.SQS
		snsc    fxpubsub.SNSClient = tg.SNS
		closers []func()
	)
	if !tg.Caps.InProcess {
		// Production SDK configuration (fxpubsub.LoadAWSConfig), with handles to close idle
		// connections at the end.
		var sqsHC, snsHC *http.Client
		sqsc = newSQS(t, tg.Endpoint, clientOptions{Keep: &sqsHC})
		snsc = newSNS(t, tg.Endpoint, clientOptions{RequestTimeout: 30 * time.Second, Keep: &snsHC})
		closers = append(closers, sqsHC.CloseIdleConnections, snsHC.CloseIdleConnections)
	}
	producer := fxpubsub.NewProducer(snsc, reg, topics, fxpubsub.ProducerOptions{})

	counts := make([]uint8, n) // handlings per message index: no per-message allocation in the ledger
	var handled, dups atomic.Int64
	d, _ := newDaemon(t, sqsc, reg, pipe.QueueURL, fxpubsub.ConsumerOptions{}, fxpubsub.DaemonOptions{}, nil, func(_ context.Context, it *item) error {
		key := it.Key
		i, err := strconv.Atoi(strings.TrimPrefix(key, "s-"))
		if err != nil || i < 0 || i >= n {
			t.Errorf("unexpected key %q", key)
			return nil
		}
		mu := &countMu[i%len(countMu)]
		mu.Lock()
		counts[i]++
		first := counts[i] == 1
		mu.Unlock()
		if first {
			handled.Add(1)
		} else {
			dups.Add(1)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	start := time.Now()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// Sampler.
	var (
		samplesMu sync.Mutex
		samples   []memSample
		stopSamp  = make(chan struct{})
		sampDone  = make(chan struct{})
	)
	go func() {
		defer close(sampDone)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopSamp:
				return
			case <-tick.C:
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				samplesMu.Lock()
				samples = append(samples, memSample{at: time.Since(start), handled: handled.Load(), heapMiB: float64(ms.HeapAlloc) / (1 << 20), goroutine: runtime.NumGoroutine()})
				samplesMu.Unlock()
			}
		}
	}()

	// Publisher: batches of 10, 4 at a time, never more than maxInFlight published-not-handled.
	var published atomic.Int64
	var failed atomic.Int64
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msgs := make([]fxpubsub.Outgoing, 0, 10)
			for ctx.Err() == nil {
				from := next.Add(10) - 10
				if from >= int64(n) {
					return
				}
				for published.Load()-handled.Load() > int64(maxInFlight) && ctx.Err() == nil {
					<-time.After(time.Millisecond)
				}
				msgs = msgs[:0]
				for i := from; i < min(from+10, int64(n)); i++ {
					msgs = append(msgs, fxpubsub.Outgoing{MediaType: itemMT, Content: item{Key: "s-" + strconv.FormatInt(i, 10)}})
				}
				results, _ := producer.ProduceBatch(ctx, msgs)
				for _, r := range results {
					if r.Err != nil {
						failed.Add(1)
						t.Errorf("publish: %v", r.Err)
					}
				}
				published.Add(int64(len(msgs)))
			}
		}()
	}
	wg.Wait()
	if !waitFor(5*time.Minute, func() bool { return handled.Load()+failed.Load() >= int64(n) }) {
		t.Errorf("only %d of %d handled", handled.Load(), n)
	}
	elapsed := time.Since(start)
	close(stopSamp)
	<-sampDone
	peak := runtime.NumGoroutine()
	stopDaemon(t, d)
	for _, c := range closers {
		c()
	}
	var lost int
	for _, c := range counts {
		if c == 0 {
			lost++
		}
	}
	if err := goleak.Find(append(awstest.GoleakOptions(), baseline)...); err != nil {
		t.Errorf("goroutines left after stop: %v", err)
	}
	// Connections closed above end their goroutines asynchronously.
	waitFor(5*time.Second, func() bool { return runtime.NumGoroutine() <= baseGoroutines })
	after := runtime.NumGoroutine()
	st := d.Stats()
	t.Logf("%s: %d messages in %s (%.0f msg/s), max in flight %d: handled %d, duplicates %d, lost %d, publish failures %d",
		tg.Name, n, elapsed.Round(time.Second), float64(n)/elapsed.Seconds(), maxInFlight, handled.Load(), dups.Load(), lost, failed.Load())
	t.Logf("%s: daemon receive calls %d (empty %d), delete calls %d, receive errors %d, settle failures %d, peak pending deletes %d",
		tg.Name, st.ReceiveCalls, st.EmptyReceives, st.DeleteBatchCalls, st.ReceiveErrors, st.SettleFailures, st.PeakPendingDeletes)
	t.Logf("%s: goroutines: %d before start, %d while running (end), %d after stop (goleak: no goroutine of the daemon, producer or SDK left)",
		tg.Name, baseGoroutines, peak, after)
	samplesMu.Lock()
	defer samplesMu.Unlock()
	var warm []memSample
	for _, s := range samples {
		if s.handled >= int64(n)/5 {
			warm = append(warm, s)
		}
	}
	var line strings.Builder
	for i, s := range samples {
		if i%max(1, len(samples)/12) == 0 || i == len(samples)-1 {
			line.WriteString(" " + strconv.FormatFloat(s.heapMiB, 'f', 1, 64) + "@" + strconv.Itoa(int(s.handled/1000)) + "k")
		}
	}
	t.Logf("%s: live heap MiB @ messages handled:%s", tg.Name, line.String())
	if lost > 0 {
		t.Errorf("LOST %d messages", lost)
	}
	if len(warm) >= 4 {
		q := len(warm) / 4
		early, late := 0.0, 0.0
		for _, s := range warm[:q] {
			early = max(early, s.heapMiB)
		}
		for _, s := range warm[len(warm)-q:] {
			late = max(late, s.heapMiB)
		}
		t.Logf("%s: live heap after warm-up: first quarter max %.1f MiB, last quarter max %.1f MiB (%d samples)", tg.Name, early, late, len(warm))
		if late > early*1.25 && late-early > 16 {
			t.Errorf("live heap grew after warm-up: %.1f → %.1f MiB", early, late)
		}
	}
}

var countMu [64]sync.Mutex
