package bench

import (
	"context"
	"encoding/json"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// drainMessages is the size of the pre-loaded queue (issue 3).
const drainMessages = 20_000

// drainDeadline bounds one drain; fauxqs drains 20,000 in seconds even on a busy machine.
const drainDeadline = 3 * time.Minute

// sqsActions are the SQS actions reported for every variant, zero or not.
var sqsActions = []string{"ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch", "GetQueueAttributes"}

// drainResult is what one drain reports; elapsed and the counters end when the last delete landed.
type drainResult struct {
	elapsed          time.Duration
	cpu, emuCPU      time.Duration
	calls            map[string]int64
	attempts         int64
	received         int64 // messages received (duplicates included)
	peakPending      int64 // library only (the baseline deletes before it receives again)
	extra            map[string]float64
	receiveBatchSize float64
}

// BenchmarkDrainFauxqs drains a queue pre-loaded with 20,000 messages (raw-delivery bodies encoded
// by the library) on fauxqs, with a hand-rolled aws-sdk-go-v2 loop (baseline: 8 receivers ×
// ReceiveMessage(10, wait 1 s) → json.Unmarshal → DeleteMessageBatch) and with the library daemon at
// default settings (library). One op is one drain of 20,000 messages; preloading is not timed.
//
// Both variants use SQS clients built the same way (fxpubsub.LoadAWSConfig, the production
// configuration) with a middleware counting calls by operation. Peak RSS is VmHWM after a reset
// (clear_refs) at the start of the drain; run each variant in its own process for a clean figure
// (scripts/bench.sh does, alternating their order).
func BenchmarkDrainFauxqs(b *testing.B) {
	b.Run("baseline", func(b *testing.B) { benchDrain(b, drainBaseline) })
	b.Run("library", func(b *testing.B) { benchDrain(b, drainLibrary) })
}

type drainFunc func(b *testing.B, client *sqs.Client, counter *callCounter, url string, n int) drainResult

func benchDrain(b *testing.B, drain drainFunc) {
	tg := fauxqsTarget(b)
	reg := newRegistry(b)
	body := encodedBody(b, reg)
	var (
		total      drainResult
		hwm        int64
		hwmReset   = true
		loadSample float64
	)
	total.calls = map[string]int64{}
	total.extra = map[string]float64{}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		url, _ := tg.Queue(b, "bench-drain", map[string]string{"VisibilityTimeout": "30"})
		preload(b, tg.SQS, url, body, drainMessages)
		if got := queueDepth(b, tg.SQS, url); got != drainMessages {
			b.Fatalf("preloaded queue holds %d messages, want %d", got, drainMessages)
		}
		counter := newCallCounter()
		client := newSQSClient(b, tg.Endpoint, counter)
		hwmReset = quiesce() && hwmReset
		b.StartTimer()
		stopProfile := startDrainProfile(b)
		r := drain(b, client, counter, url, drainMessages)
		stopProfile()
		b.StopTimer()
		counter.logFailures(b)
		hwm = max(hwm, vmHWM())
		loadSample = max(loadSample, load1())
		total.elapsed += r.elapsed
		total.cpu += r.cpu
		total.emuCPU += r.emuCPU
		total.attempts += r.attempts
		total.received += r.received
		total.peakPending = max(total.peakPending, r.peakPending)
		total.receiveBatchSize += r.receiveBatchSize / float64(b.N)
		for k, v := range r.calls {
			total.calls[k] += v
		}
		for k, v := range r.extra {
			total.extra[k] += v / float64(b.N)
		}
	}
	msgs := int64(b.N) * drainMessages
	b.ReportMetric(float64(msgs)/total.elapsed.Seconds(), "msg/s")
	b.ReportMetric(total.cpu.Seconds()/float64(msgs)*1000, "cpu-s/1k-msg")
	if emulatorPID() > 0 {
		b.ReportMetric(total.emuCPU.Seconds()/float64(msgs)*1000, "emu-cpu-s/1k-msg")
	}
	reportCalls(b, "", total.calls, msgs, sqsActions...)
	var calls int64
	for _, v := range total.calls {
		calls += v
	}
	if total.attempts != calls {
		b.ReportMetric(float64(total.attempts)/float64(msgs), "http-attempts/msg")
	}
	b.ReportMetric(total.receiveBatchSize, "msgs/receive")
	b.ReportMetric(float64(total.received-msgs)/float64(msgs), "dup-receives/msg")
	b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(total.peakPending), "peak-pending-deletes")
	for k, v := range total.extra {
		b.ReportMetric(v, k)
	}
	b.ReportMetric(loadSample, "load1")
	if !hwmReset {
		b.Logf("peak RSS could not be reset (/proc/self/clear_refs): it is the whole process's peak")
	}
}

// startDrainProfile starts a CPU profile of the drain alone (preloading left out) when
// PUBSUB_BENCH_CPUPROFILE names a file, and returns what stops it; compare variants with
// `go tool pprof -top` (scripts/bench.sh leaves it unset). BenchmarkPublishFauxqs profiles its
// publish runs alone the same way.
func startDrainProfile(b *testing.B) (stop func()) {
	path := os.Getenv("PUBSUB_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// drainBaseline is the hand-rolled loop: 8 receivers, each ReceiveMessage(10, wait 1 s), decode
// every body into a map, DeleteMessageBatch, repeat; done when n deletes succeeded.
func drainBaseline(b *testing.B, client *sqs.Client, counter *callCounter, url string, n int) drainResult {
	const receivers = 8
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		deleted, received, receives, empty, failed, badBodies atomic.Int64
		once                                                  sync.Once
		wg                                                    sync.WaitGroup
	)
	done := make(chan struct{})
	cpu0, emu0 := cpuTime(), procCPU(emulatorPID())
	start := time.Now()
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, 10)
			for ctx.Err() == nil {
				out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					continue // cancelled at the end, or retried by the next round
				}
				if len(out.Messages) == 0 {
					empty.Add(1)
					continue
				}
				receives.Add(1)
				received.Add(int64(len(out.Messages)))
				entries = entries[:0]
				for i, m := range out.Messages {
					var v map[string]any
					if json.Unmarshal([]byte(aws.ToString(m.Body)), &v) != nil {
						badBodies.Add(1)
					}
					entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				dout, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
				if err != nil {
					failed.Add(int64(len(entries)))
					continue
				}
				failed.Add(int64(len(dout.Failed)))
				if deleted.Add(int64(len(dout.Successful))) >= int64(n) {
					once.Do(func() { close(done) })
				}
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(drainDeadline):
		b.Fatalf("baseline: %d of %d deleted after %s", deleted.Load(), n, drainDeadline)
	}
	r := drainResult{elapsed: time.Since(start), cpu: cpuTime() - cpu0, emuCPU: procCPU(emulatorPID()) - emu0}
	b.StopTimer()
	r.calls, r.attempts = counter.snapshot()
	r.received = received.Load()
	r.receiveBatchSize = float64(received.Load()) / float64(receives.Load())
	r.extra = map[string]float64{"empty-receives/msg": float64(empty.Load()) / float64(n)}
	cancel()
	wg.Wait()
	if f, bad := failed.Load(), badBodies.Load(); f > 0 || bad > 0 {
		b.Errorf("baseline: %d failed delete entries, %d undecodable bodies", f, bad)
	}
	return r
}

// drainLibrary runs fxpubsub's daemon at default options with a no-op handler; done when the
// handler ran n times and every delete landed (DeleteEntries ≥ n, nothing pending).
func drainLibrary(b *testing.B, client *sqs.Client, counter *callCounter, url string, n int) drainResult {
	var handled atomic.Int64
	allHandled := make(chan struct{})
	d := libraryDaemon(b, client, newRegistry(b), url, experimentOptions(b), func(context.Context, *benchOrder) error {
		if handled.Add(1) == int64(n) {
			close(allHandled)
		}
		return nil
	})
	cpu0, emu0 := cpuTime(), procCPU(emulatorPID())
	start := time.Now()
	if err := d.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			b.Errorf("stop: %v", err)
		}
	}()
	select {
	case <-allHandled:
	case <-time.After(drainDeadline):
		b.Fatalf("library: handled %d of %d after %s; stats %+v", handled.Load(), n, drainDeadline, d.Stats())
	}
	if !waitUntil(drainDeadline, func() bool {
		st := d.Stats()
		return st.DeleteEntries >= int64(n) && st.PendingDeletes == 0
	}) {
		b.Fatalf("library: deletes did not land; stats %+v", d.Stats())
	}
	r := drainResult{elapsed: time.Since(start), cpu: cpuTime() - cpu0, emuCPU: procCPU(emulatorPID()) - emu0}
	b.StopTimer()
	r.calls, r.attempts = counter.snapshot()
	st := d.Stats()
	r.received = st.Received
	r.peakPending = st.PeakPendingDeletes
	r.receiveBatchSize = float64(st.Received) / float64(st.ReceiveCalls-st.EmptyReceives)
	r.extra = map[string]float64{"empty-receives/msg": float64(st.EmptyReceives) / float64(n)}
	if st.SettleFailures > 0 || st.ReceiveErrors > 0 {
		b.Errorf("library: %d settle failures, %d receive errors", st.SettleFailures, st.ReceiveErrors)
	}
	return r
}

// experimentOptions are the daemon options for the library variant: the defaults, unless
// PUBSUB_BENCH_RECEIVERS or PUBSUB_BENCH_CONCURRENCY is set to try another default (for reports
// on proposed changes only; the published figures leave both unset).
func experimentOptions(b *testing.B) fxpubsub.DaemonOptions {
	var o fxpubsub.DaemonOptions
	if v, err := strconv.Atoi(os.Getenv("PUBSUB_BENCH_RECEIVERS")); err == nil && v > 0 {
		o.Receivers = v
	}
	if v, err := strconv.Atoi(os.Getenv("PUBSUB_BENCH_CONCURRENCY")); err == nil && v > 0 {
		o.Concurrency = v
	}
	if o.Receivers != 0 || o.Concurrency != 0 {
		b.Logf("NOT the defaults: receivers=%d concurrency=%d (0 = default)", o.Receivers, o.Concurrency)
	}
	return o
}
