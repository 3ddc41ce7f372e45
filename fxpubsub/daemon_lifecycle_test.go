package fxpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

func TestDaemonHeartbeatPreventsRedelivery(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true, VisibilityTimeout: 2})
		ctx := context.Background()
		var calls atomic.Int32
		release := make(chan struct{})
		reg := mustReg(t, orderMT, func(ctx context.Context, c *orderCreated) error {
			calls.Add(1)
			<-release
			return nil
		})
		d := newDaemon(t, r, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Receivers: 1, Concurrency: 2})
		if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/slow", OrderID: "slow"}); err != nil {
			t.Fatal(err)
		}
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// Hold the handler for longer than two visibility timeouts: only the heartbeat keeps the
		// message invisible to the second worker.
		waitFor(t, 20*time.Second, "three visibility extensions", func() bool { return d.Stats().Extensions >= 3 })
		close(release)
		waitFor(t, 10*time.Second, "the delete", func() bool { return d.Stats().DeleteEntries >= 1 })
		if err := d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("handler ran %d times, want 1 (duplicate delivery)", n)
		}
		r.expectEmpty(t)
	})
}

func TestDaemonGracefulStopLosesNothing(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		n := 50
		if tg.Caps.Slow {
			n = 20
		}
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true, VisibilityTimeout: 3})
		ctx := context.Background()
		for i := range n {
			if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/g", OrderID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu      sync.Mutex
			handled = map[string]int{}
		)
		gate := make(chan struct{})
		started := make(chan struct{}, 2*n) // never blocks a handler: duplicates would fail the test anyway
		reg := mustReg(t, orderMT, func(ctx context.Context, c *orderCreated) error {
			started <- struct{}{}
			<-gate
			mu.Lock()
			handled[c.OrderID]++
			mu.Unlock()
			return nil
		})
		d := newDaemon(t, r, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Receivers: 2, Concurrency: 16, DrainTimeout: 10 * time.Second})
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for range 16 {
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatal("workers did not fill up")
			}
		}
		stopped := make(chan error, 1)
		go func() { stopped <- d.Stop(ctx) }()
		close(gate) // the 16 in-flight handlers finish while the daemon drains
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		first := len(handled)
		mu.Unlock()
		if first < 16 {
			t.Fatalf("handled %d before stop, want the 16 in flight", first)
		}
		// A restarted daemon handles the rest; nothing handled before comes back, nothing is lost.
		r2 := *r
		d2 := newDaemon(t, &r2, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Receivers: 2, Concurrency: 16})
		if err := d2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "all messages handled", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(handled) == n
		})
		if err := d2.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		dups := 0
		for _, c := range handled {
			dups += c - 1
		}
		// Emulators may hand one message to the long poll cancelled at stop (emulators.md §6.4):
		// it comes back after the visibility timeout, so it is never a duplicate of a handled one.
		if dups != 0 {
			t.Fatalf("%d messages handled twice: a handled message was not deleted before stop", dups)
		}
		r.expectEmpty(t)
	})
}

// flakySQS fails every call while failing is set, counting calls: a real backend with faults in
// front, to prove the daemon backs off and loses nothing.
type flakySQS struct {
	fxpubsub.SQSClient
	failing atomic.Bool
	calls   atomic.Int64
}

var errThrottled = errors.New("injected: RequestThrottled")

func (f *flakySQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, o ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	if f.failing.Load() {
		f.calls.Add(1)
		return nil, errThrottled
	}
	return f.SQSClient.ReceiveMessage(ctx, in, o...)
}

func (f *flakySQS) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if f.failing.Load() {
		f.calls.Add(1)
		return nil, errThrottled
	}
	return f.SQSClient.DeleteMessageBatch(ctx, in, o...)
}

func TestDaemonBacksOffAndRecovers(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) { testBackoffAndRecovery(t, tg) })
}

func testBackoffAndRecovery(t *testing.T, tg awstest.Target) {
	r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
	flaky := &flakySQS{SQSClient: tg.SQS}
	flaky.failing.Store(true)
	cons, err := fxpubsub.NewConsumer(flaky, r.producer.Registry(), r.pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.consumer = cons
	ctx := context.Background()
	n := 30
	if tg.Caps.Slow {
		n = 12
	}
	for i := range n {
		if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/f", OrderID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var handled sync.Map
	reg := mustReg(t, orderMT, func(ctx context.Context, c *orderCreated) error { handled.Store(c.OrderID, true); return nil })
	d := newDaemon(t, r, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Receivers: 4, Concurrency: 8})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "receive errors", func() bool { return d.Stats().ReceiveErrors >= 8 })
	if err := d.Healthy(); err != nil {
		t.Fatalf("a receiver failing for seconds is still healthy, got %v", err)
	}
	// Four receivers failing for 1.5 s make a bounded number of calls, not a hot loop.
	before := flaky.calls.Load()
	start := time.Now()
	waitFor(t, 5*time.Second, "1.5 s of failures", func() bool { return time.Since(start) > 1500*time.Millisecond })
	if calls := flaky.calls.Load() - before; calls > 40 {
		t.Fatalf("%d failing calls in 1.5 s by 4 receivers: hot loop", calls)
	}
	flaky.failing.Store(false)
	waitFor(t, 60*time.Second, "all handled after recovery", func() bool {
		count := 0
		handled.Range(func(any, any) bool { count++; return true })
		return count == n
	})
	waitFor(t, 10*time.Second, "deletes", func() bool { return d.Stats().DeleteEntries >= int64(n) })
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r.expectEmpty(t)
}

func TestDaemonStopsOnMissingQueue(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
		cons, err := fxpubsub.NewConsumer(tg.SQS, reg, "no-such-queue-"+awstest.UniqueName("q"), fxpubsub.ConsumerOptions{Wait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		handlers, _ := fxpubsub.NewHandlerRegistry()
		stopped := make(chan error, 1)
		d := fxpubsub.NewDaemon(cons, fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{}), fxpubsub.DaemonOptions{OnStopped: func(err error) { stopped <- err }})
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-stopped:
			if err == nil {
				t.Fatal("want the missing-queue error")
			}
			t.Logf("stopped with: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("daemon kept running against a missing queue")
		}
		if err := d.Healthy(); err == nil {
			t.Fatal("stopped daemon reports healthy")
		}
		if err := d.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// After the drain deadline the daemon cancels the handlers still running and waits (within the
// stop budget) for those that honour it, so their results are settled and nothing it started
// outlives Stop.
func TestDaemonStopWaitsForCancelledHandlers(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
		ctx := context.Background()
		if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/slow", OrderID: "slow"}); err != nil {
			t.Fatal(err)
		}
		started, cancelled, finish := make(chan struct{}), make(chan struct{}), make(chan struct{})
		var once sync.Once
		var returned atomic.Bool
		reg := mustReg(t, orderMT, func(ctx context.Context, c *orderCreated) error {
			once.Do(func() { close(started) })
			<-ctx.Done()
			close(cancelled)
			<-finish // clean-up work after the cancellation, released by the test
			returned.Store(true)
			return ctx.Err()
		})
		// Stop waits up to half the drain timeout after cancelling: 1 s here.
		d := newDaemon(t, r, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Receivers: 1, Concurrency: 4, DrainTimeout: 2 * time.Second})
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("the handler never ran")
		}
		stopped := make(chan error, 1)
		go func() { stopped <- d.Stop(ctx) }()
		select {
		case <-cancelled:
		case <-time.After(30 * time.Second):
			t.Fatal("the handler's context was never cancelled")
		}
		select {
		case err := <-stopped:
			close(finish)
			t.Fatalf("Stop returned (%v) while the cancelled handler was still running", err)
		case <-time.After(100 * time.Millisecond): // well inside the 1 s Stop waits
		}
		close(finish)
		err := <-stopped
		if err != nil {
			t.Errorf("Stop = %v, want nil: the handler returned within the grace period and its message was settled", err)
		}
		if !returned.Load() {
			t.Fatal("Stop returned before the cancelled handler did")
		}
		if st := d.Stats(); st.VisibilityEntries != 1 || st.SettleFailures != 0 {
			t.Errorf("the cancelled handler's nack was not settled: %+v", st)
		}
	})
}

// A handler that ignores its cancelled context past the grace period leaves its message unsettled:
// only then does Stop fail, and it says how many messages it left.
func TestDaemonStopReportsUnsettledMessages(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
		ctx := context.Background()
		for _, id := range []string{"stuck", "quick"} {
			if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}); err != nil {
				t.Fatal(err)
			}
		}
		stuck, quick, finish, returned := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
		reg := mustReg(t, orderMT, func(ctx context.Context, c *orderCreated) error {
			if c.OrderID == "quick" {
				close(quick)
				return nil
			}
			close(stuck)
			defer close(returned)
			<-finish // ignores ctx
			return nil
		})
		d := newDaemon(t, r, []fxpubsub.Registration{reg}, fxpubsub.DaemonOptions{Receivers: 1, Concurrency: 4, DrainTimeout: 400 * time.Millisecond})
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []chan struct{}{stuck, quick} {
			select {
			case <-ch:
			case <-time.After(30 * time.Second):
				t.Fatal("a handler never ran")
			}
		}
		waitFor(t, 10*time.Second, "the quick message's delete", func() bool { return d.Stats().DeleteEntries >= 1 })
		err := d.Stop(ctx)
		close(finish)
		<-returned
		if err == nil || !strings.Contains(err.Error(), "drain: 1 message(s) left unsettled") {
			t.Errorf("Stop = %v, want the count of unsettled messages", err)
		}
	})
}
