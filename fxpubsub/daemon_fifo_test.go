package fxpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// fifoRun records, per message group, the handler calls in the order they started, and whether
// two calls of one group ever overlapped.
type fifoRun struct {
	mu       sync.Mutex
	calls    map[string][]string // group → order ids, one per handler call
	active   map[string]int
	overlap  []string
	groupIDs map[string]string // order id → Message.MessageGroupID seen by the result hook
	done     int
}

// fifoReceivers is how many receivers the FIFO tests run: two, so that concurrent receives are part
// of the test, except where the server itself splits a group between concurrent receives.
func fifoReceivers(tg awstest.Target) int {
	if tg.Caps.FIFOReceiveNotAtomic {
		return 1
	}
	return 2
}

// TestDaemonFIFOKeepsGroupOrder: on a FIFO queue the daemon runs different message groups in
// parallel but one group's messages one at a time, in order; when a message fails, the messages
// of its group received behind it go back unstarted, so it is handled again before any of them.
func TestDaemonFIFOKeepsGroupOrder(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true, FIFO: true})
		ctx := context.Background()
		groups := []string{"a", "b", "c"}
		const perGroup = 15
		const failing = "b-05" // fails on its first attempt
		run := &fifoRun{calls: map[string][]string{}, active: map[string]int{}, groupIDs: map[string]string{}}

		// The first message of every group waits until all groups' first messages are running:
		// groups must run in parallel, or this times out. (A receive may bring 10 messages of one
		// group, which hold 10 worker slots until they are handled: concurrency 32 leaves room for
		// all three groups.)
		firsts := make(chan struct{})
		var firstsStarted atomic.Int32

		handler := func(ctx context.Context, c *orderCreated) error {
			group, seq, _ := strings.Cut(c.OrderID, "-")
			run.mu.Lock()
			run.calls[group] = append(run.calls[group], c.OrderID)
			attempt := 0
			for _, id := range run.calls[group] {
				if id == c.OrderID {
					attempt++
				}
			}
			run.active[group]++
			if run.active[group] > 1 {
				run.overlap = append(run.overlap, c.OrderID)
			}
			run.mu.Unlock()
			defer func() {
				run.mu.Lock()
				run.active[group]--
				run.mu.Unlock()
			}()
			if seq == "00" && attempt == 1 {
				if firstsStarted.Add(1) == int32(len(groups)) {
					close(firsts)
				}
				select {
				case <-firsts:
				case <-time.After(20 * time.Second):
					return errors.New("the other groups' first messages never started: groups are not handled in parallel")
				}
			}
			if c.OrderID == failing && attempt == 1 {
				return errors.New("first attempt fails")
			}
			return nil
		}
		hook := func(_ context.Context, m *fxpubsub.Message, res fxpubsub.Result) {
			c, ok := m.Content.(*orderCreated)
			if !ok {
				return
			}
			run.mu.Lock()
			defer run.mu.Unlock()
			run.groupIDs[c.OrderID] = m.MessageGroupID
			if res.Type == fxpubsub.Succeeded {
				run.done++
			}
		}
		d := newDaemon(t, r, []fxpubsub.Registration{mustReg(t, orderMT, handler)}, fxpubsub.DaemonOptions{Receivers: fifoReceivers(tg), Concurrency: 32}, hook)

		// Interleaved, so one receive holds several messages of several groups.
		for i := range perGroup {
			for _, g := range groups {
				id := fmt.Sprintf("%s-%02d", g, i)
				if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}, fxpubsub.MessageGroupID("group-"+g)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "every message handled", func() bool {
			run.mu.Lock()
			defer run.mu.Unlock()
			return run.done >= len(groups)*perGroup
		})
		if err := d.Stop(ctx); err != nil {
			t.Fatal(err)
		}

		run.mu.Lock()
		defer run.mu.Unlock()
		if len(run.overlap) > 0 {
			t.Errorf("messages handled while another of their group was running: %v", run.overlap)
		}
		for _, g := range groups {
			var want []string
			for i := range perGroup {
				id := fmt.Sprintf("%s-%02d", g, i)
				want = append(want, id)
				if id == failing {
					want = append(want, id) // handled again before anything behind it
				}
			}
			if !slices.Equal(run.calls[g], want) {
				t.Errorf("group %s: handler calls %v, want %v", g, run.calls[g], want)
			}
		}
		for id, gid := range run.groupIDs {
			if want := "group-" + id[:1]; gid != want {
				t.Errorf("%s: Message.MessageGroupID = %q, want %q", id, gid, want)
			}
		}
	})
}

// TestDaemonFIFOStopKeepsGroupOrder: stopping while a FIFO group's message is being handled
// returns the group's unstarted messages to the queue; the next daemon handles them, and the group
// is handled exactly once per message, in order, across both.
func TestDaemonFIFOStopKeepsGroupOrder(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		// A short visibility timeout: emulators may hand a message to the long poll the stopping
		// daemon abandoned, and it comes back only after this.
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true, FIFO: true, VisibilityTimeout: 5})
		ctx := context.Background()
		const n = 10
		var (
			mu        sync.Mutex
			calls     []string
			succeeded int
		)
		entered, unblock := make(chan struct{}), make(chan struct{})
		handler := func(ctx context.Context, c *orderCreated) error {
			mu.Lock()
			calls = append(calls, c.OrderID)
			first := c.OrderID == "g-02" && slices.Index(calls, "g-02") == len(calls)-1
			mu.Unlock()
			if first {
				close(entered)
				<-unblock
			}
			return nil
		}
		hook := func(_ context.Context, _ *fxpubsub.Message, res fxpubsub.Result) {
			if res.Type == fxpubsub.Succeeded {
				mu.Lock()
				succeeded++
				mu.Unlock()
			}
		}
		for i := range n {
			id := fmt.Sprintf("g-%02d", i)
			if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}, fxpubsub.MessageGroupID("g")); err != nil {
				t.Fatal(err)
			}
		}
		regs := []fxpubsub.Registration{mustReg(t, orderMT, handler)}
		first := newDaemon(t, r, regs, fxpubsub.DaemonOptions{Receivers: fifoReceivers(tg), Concurrency: 16}, hook)
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-entered:
		case <-time.After(30 * time.Second):
			t.Fatal("g-02 was never handled")
		}
		stopped := make(chan error, 1)
		go func() { stopped <- first.Stop(ctx) }()
		// Let g-02 finish once the receivers are gone (the daemon is draining).
		waitFor(t, 30*time.Second, "the receivers to stop", func() bool { return first.Healthy() != nil })
		close(unblock)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		t.Logf("first daemon: %+v", first.Stats())

		second := newDaemon(t, r, regs, fxpubsub.DaemonOptions{Receivers: fifoReceivers(tg), Concurrency: 16}, hook)
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "every message handled", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return succeeded >= n
		})
		if err := second.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("g-%02d", i))
		}
		if !slices.Equal(calls, want) {
			t.Errorf("handler calls %v, want %v", calls, want)
		}
	})
}
