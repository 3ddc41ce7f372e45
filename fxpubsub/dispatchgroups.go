package fxpubsub

import (
	"context"
	"sync"
)

// GroupOptions configure [Dispatcher.DispatchGroups]; zero values mean defaults.
type GroupOptions struct {
	// FIFO applies the FIFO group rules: a message group's messages run one after another in the
	// order given, and once one of them is not deleted (RETRIED or FAILED) the group's later
	// messages are not dispatched. Messages without a group are independent.
	FIFO bool
	// Concurrency bounds the messages (or FIFO groups) handled at once (default 1: in order, on
	// the calling goroutine).
	Concurrency int
	// Start, when set, is asked before each message is dispatched; false leaves the message
	// undispatched (for example when a deadline is near).
	Start func(m *Message) bool
}

// DispatchGroups dispatches msgs, a batch from one receive, and returns each message's result
// at its index. A message left undispatched (by the FIFO rule or Start) has a zero Result (Type
// 0) and is not settled: settle it as the source requires. It returns when every dispatch it
// started has returned.
func (d *Dispatcher) DispatchGroups(ctx context.Context, msgs []*Message, opts GroupOptions) []Result {
	results := make([]Result, len(msgs))
	index := make(map[*Message]int, len(msgs))
	for i, m := range msgs {
		index[m] = i
	}
	var chains [][]*Message
	if opts.FIFO {
		chains = fifoChains(msgs)
	} else {
		chains = make([][]*Message, len(msgs))
		for i := range msgs {
			chains[i] = msgs[i : i+1 : i+1]
		}
	}
	run := func(chain []*Message) {
		for _, m := range chain {
			if opts.Start != nil && !opts.Start(m) {
				return
			}
			r := d.Dispatch(ctx, m)
			results[index[m]] = r
			if opts.FIFO && !r.Type.Deletes() {
				return
			}
		}
	}
	workers := min(max(opts.Concurrency, 1), len(chains))
	if workers <= 1 {
		for _, c := range chains {
			run(c)
		}
		return results
	}
	work := make(chan []*Message)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				run(c)
			}
		}()
	}
	for _, c := range chains {
		work <- c
	}
	close(work)
	wg.Wait()
	return results
}
