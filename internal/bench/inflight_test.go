package bench

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// inFlight is the number of messages held at once (issue 3: "peak memory with 1,000 in flight").
const inFlight = 1000

// BenchmarkInFlight1000 measures memory with 1,000 messages in flight: the daemon runs with
// Concurrency 1000 (other options default) over a queue pre-loaded with 1,000 messages, and the
// handler blocks until all 1,000 are being handled at once, then releases them. Reported: the Go
// heap in use (HeapInuse) and goroutine stacks at that moment, the growth over the idle heap before
// start per in-flight message, and the process's peak RSS (VmHWM, reset before start). On memory
// the in-memory backend's copy of the queue is in the same heap; fauxqs gives the client-only
// figure.
func BenchmarkInFlight1000(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		tg := awstest.Memory(b)
		benchInFlight(b, func() (fxpubsub.SQSClient, string) {
			url, _ := tg.Queue(b, "bench-inflight", map[string]string{"VisibilityTimeout": "30"})
			preload(b, tg.SQS, url, encodedBody(b, newRegistry(b)), inFlight)
			return tg.SQS, url
		})
	})
	b.Run("fauxqs", func(b *testing.B) {
		tg := fauxqsTarget(b)
		benchInFlight(b, func() (fxpubsub.SQSClient, string) {
			url, _ := tg.Queue(b, "bench-inflight", map[string]string{"VisibilityTimeout": "30"})
			preload(b, tg.SQS, url, encodedBody(b, newRegistry(b)), inFlight)
			return newSQSClient(b, tg.Endpoint, nil), url
		})
	})
}

func benchInFlight(b *testing.B, setup func() (fxpubsub.SQSClient, string)) {
	var heapPeak, heapBase, stackPeak, goroutines, hwm uint64
	var fill time.Duration
	for range b.N {
		b.StopTimer()
		client, url := setup()
		if sq, ok := client.(interface {
			GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
		}); ok {
			if got := queueDepth(b, sq, url); got != inFlight {
				b.Fatalf("preloaded queue holds %d messages, want %d", got, inFlight)
			}
		}
		var (
			entered, handled atomic.Int64
			peak             runtime.MemStats
			peakGoroutines   int
		)
		release := make(chan struct{})
		done := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		d := libraryDaemon(b, client, newRegistry(b), url, fxpubsub.DaemonOptions{Concurrency: inFlight}, func(hctx context.Context, _ *benchOrder) error {
			if entered.Add(1) == inFlight {
				runtime.ReadMemStats(&peak)
				peakGoroutines = runtime.NumGoroutine()
				close(release)
			}
			select {
			case <-release:
			case <-hctx.Done():
			case <-ctx.Done():
			}
			if handled.Add(1) == inFlight {
				close(done)
			}
			return nil
		})
		quiesce()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		b.StartTimer()
		start := time.Now()
		if err := d.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		select {
		case <-release:
			fill += time.Since(start)
		case <-time.After(2 * time.Minute):
			cancel()
			b.Fatalf("only %d of %d messages in flight after 2 minutes; stats %+v", entered.Load(), inFlight, d.Stats())
		}
		<-done
		if !waitUntil(time.Minute, func() bool {
			st := d.Stats()
			return st.DeleteEntries >= inFlight && st.PendingDeletes == 0
		}) {
			b.Errorf("deletes did not land; stats %+v", d.Stats())
		}
		b.StopTimer()
		hwm = max(hwm, uint64(vmHWM()))
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := d.Stop(sctx); err != nil {
			b.Errorf("stop: %v", err)
		}
		scancel()
		cancel()
		heapPeak = max(heapPeak, peak.HeapInuse)
		heapBase = max(heapBase, base.HeapInuse)
		stackPeak = max(stackPeak, peak.StackInuse)
		goroutines = max(goroutines, uint64(peakGoroutines))
	}
	const mb = 1 << 20
	b.ReportMetric(float64(heapPeak)/mb, "heap-inuse-MB")
	b.ReportMetric(float64(heapPeak-min(heapBase, heapPeak))/inFlight/1024, "heap-KB/in-flight-msg")
	b.ReportMetric(float64(stackPeak)/mb, "stack-inuse-MB")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64(hwm)/mb, "peak-RSS-MB")
	b.ReportMetric(fill.Seconds()/float64(b.N)*1000, "ms-to-1000-in-flight")
	b.ReportMetric(load1(), "load1")
}
