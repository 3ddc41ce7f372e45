package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// publishers is the number of goroutines publishing with ProduceBatch (10 messages, one
// PublishBatch call each) while the daemon consumes.
const publishers = 4

// pcMessages is N for the fauxqs end-to-end benchmark.
const pcMessages = 10_000

// pcResult is one end-to-end run.
type pcResult struct {
	elapsed, publishElapsed time.Duration
	cpu                     time.Duration
	stats                   fxpubsub.DaemonStats
}

// publishConsume publishes n messages with ProduceBatch from 4 goroutines while the library daemon
// (default options, no-op handler) consumes the subscribed queue; it returns when the handler ran
// n times and every delete landed. ready is called just before the clock starts.
func publishConsume(b *testing.B, snsc fxpubsub.SNSClient, sqsc fxpubsub.SQSClient, topicARN, queueURL string, n int) pcResult {
	b.Helper()
	reg := newRegistry(b)
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": topicARN})
	if err != nil {
		b.Fatal(err)
	}
	prod := fxpubsub.NewProducer(snsc, reg, topics, fxpubsub.ProducerOptions{})
	var handled atomic.Int64
	allHandled := make(chan struct{})
	d := libraryDaemon(b, sqsc, reg, queueURL, fxpubsub.DaemonOptions{}, func(context.Context, *benchOrder) error {
		if handled.Add(1) == int64(n) {
			close(allHandled)
		}
		return nil
	})
	batch := make([]fxpubsub.Outgoing, 10)
	for i := range batch {
		batch[i] = fxpubsub.Outgoing{MediaType: benchMT, Content: &sampleOrder}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chunks := make(chan int)
	var (
		wg         sync.WaitGroup
		pubErr     atomic.Value
		publishEnd time.Time
	)
	cpu0 := cpuTime()
	start := time.Now()
	if err := d.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		if err := d.Stop(sctx); err != nil {
			b.Errorf("stop: %v", err)
		}
	}()
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for size := range chunks {
				if _, err := prod.ProduceBatch(ctx, batch[:size]); err != nil {
					pubErr.CompareAndSwap(nil, err)
					cancel()
				}
			}
		}()
	}
	for sent := 0; sent < n && ctx.Err() == nil; sent += 10 {
		chunks <- min(10, n-sent)
	}
	close(chunks)
	wg.Wait()
	publishEnd = time.Now()
	if err, _ := pubErr.Load().(error); err != nil {
		b.Fatalf("publish: %v", err)
	}
	deadline := time.Duration(n/100+30) * time.Second
	select {
	case <-allHandled:
	case <-time.After(deadline):
		b.Fatalf("handled %d of %d after %s; stats %+v", handled.Load(), n, deadline, d.Stats())
	}
	if !waitUntil(deadline, func() bool {
		st := d.Stats()
		return st.DeleteEntries >= int64(n) && st.PendingDeletes == 0
	}) {
		b.Fatalf("deletes did not land; stats %+v", d.Stats())
	}
	r := pcResult{elapsed: time.Since(start), publishElapsed: publishEnd.Sub(start), cpu: cpuTime() - cpu0, stats: d.Stats()}
	b.StopTimer()
	if r.stats.SettleFailures > 0 || r.stats.ReceiveErrors > 0 {
		b.Errorf("%d settle failures, %d receive errors", r.stats.SettleFailures, r.stats.ReceiveErrors)
	}
	return r
}

// BenchmarkPublishConsumeFauxqs measures end-to-end publish → consume → ack through SNS → SQS on
// fauxqs: 4 goroutines publish 10,000 messages with ProduceBatch (PublishBatch, 10 per call) to a
// topic with a raw-delivery subscription while the library daemon (default options) consumes the
// queue. One op is 10,000 messages; msg/s counts from the first publish to the last delete.
func BenchmarkPublishConsumeFauxqs(b *testing.B) {
	tg := fauxqsTarget(b)
	var (
		elapsed, pubElapsed, cpu, emu time.Duration
		snsCalls                      = map[string]int64{}
		sqsCalls                      = map[string]int64{}
		peakPending                   int64
		loadSample                    float64
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p := tg.Pipeline(b, awstest.PipelineOptions{Prefix: "bench-pc", Raw: true})
		snsCounter, sqsCounter := newCallCounter(), newCallCounter()
		snsc, sqsc := newSNSClient(b, tg.Endpoint, snsCounter), newSQSClient(b, tg.Endpoint, sqsCounter)
		quiesce()
		emu0 := procCPU(emulatorPID())
		b.StartTimer()
		r := publishConsume(b, snsc, sqsc, p.TopicARN, p.QueueURL, pcMessages)
		b.StopTimer()
		snsCounter.logFailures(b)
		sqsCounter.logFailures(b)
		emu += procCPU(emulatorPID()) - emu0
		elapsed += r.elapsed
		pubElapsed += r.publishElapsed
		cpu += r.cpu
		peakPending = max(peakPending, r.stats.PeakPendingDeletes)
		loadSample = max(loadSample, load1())
		c, _ := snsCounter.snapshot()
		for k, v := range c {
			snsCalls[k] += v
		}
		c, _ = sqsCounter.snapshot()
		for k, v := range c {
			sqsCalls[k] += v
		}
	}
	msgs := int64(b.N) * pcMessages
	b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(msgs)/pubElapsed.Seconds(), "publish-msg/s")
	b.ReportMetric(cpu.Seconds()/float64(msgs)*1000, "cpu-s/1k-msg")
	if emulatorPID() > 0 {
		b.ReportMetric(emu.Seconds()/float64(msgs)*1000, "emu-cpu-s/1k-msg")
	}
	reportCalls(b, "sns-", snsCalls, msgs, "PublishBatch")
	reportCalls(b, "sqs-", sqsCalls, msgs, sqsActions...)
	b.ReportMetric(float64(peakPending), "peak-pending-deletes")
	b.ReportMetric(loadSample, "load1")
}

// BenchmarkPublishConsumeMemory is BenchmarkPublishConsumeFauxqs on the in-memory backend in one
// process (producer, backend and daemon). One op is one message.
func BenchmarkPublishConsumeMemory(b *testing.B) {
	tg := awstest.Memory(b)
	p := tg.Pipeline(b, awstest.PipelineOptions{Prefix: "bench-pc", Raw: true})
	quiesce()
	b.ResetTimer()
	r := publishConsume(b, tg.SNS, tg.SQS, p.TopicARN, p.QueueURL, b.N)
	b.ReportMetric(float64(b.N)/r.elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(r.cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
	b.ReportMetric(float64(r.stats.ReceiveCalls)/float64(b.N), "receives/msg")
	b.ReportMetric(float64(r.stats.DeleteBatchCalls)/float64(b.N), "delete-batches/msg")
	b.ReportMetric(float64(r.stats.PeakPendingDeletes), "peak-pending-deletes")
	b.ReportMetric(load1(), "load1")
}
