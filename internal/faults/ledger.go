package faults

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Ledger counts how often each message key was handled, to report losses and duplicates.
type Ledger struct {
	mu     sync.Mutex
	counts map[string]int
	total  int64
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{counts: map[string]int{}} }

// Handled records one handling of key.
func (l *Ledger) Handled(key string) {
	l.mu.Lock()
	l.counts[key]++
	l.total++
	l.mu.Unlock()
}

// Count returns how often key was handled.
func (l *Ledger) Count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}

// Total is the number of handlings, duplicates included.
func (l *Ledger) Total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Distinct is the number of distinct keys handled.
func (l *Ledger) Distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.counts)
}

// Report compares the ledger with the keys that were published.
type Report struct {
	Published  int      // keys expected
	Handled    int64    // handlings, duplicates included
	Duplicates int64    // handlings beyond the first of a key
	DupKeys    int      // keys handled more than once
	Lost       []string // expected keys never handled (sorted, at most 20 listed)
	LostCount  int
	Unexpected int // handled keys that were not expected
}

func (r Report) String() string {
	return fmt.Sprintf("published %d, handled %d (distinct %d), duplicates %d (%d keys), lost %d, unexpected %d",
		r.Published, r.Handled, r.Published-r.LostCount, r.Duplicates, r.DupKeys, r.LostCount, r.Unexpected)
}

// Check reports losses and duplicates against expected.
func (l *Ledger) Check(expected []string) Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := Report{Published: len(expected), Handled: l.total}
	want := make(map[string]bool, len(expected))
	for _, k := range expected {
		want[k] = true
		n := l.counts[k]
		switch {
		case n == 0:
			r.LostCount++
			if len(r.Lost) < 20 {
				r.Lost = append(r.Lost, k)
			}
		case n > 1:
			r.Duplicates += int64(n - 1)
			r.DupKeys++
		}
	}
	for k, n := range l.counts {
		if !want[k] {
			r.Unexpected += n
		}
	}
	sort.Strings(r.Lost)
	return r
}

// WaitAll waits until every expected key was handled at least once, or done is closed; it reports
// whether all were. It checks every 20 ms.
func (l *Ledger) WaitAll(expected []string, done <-chan struct{}) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if l.Check(expected).LostCount == 0 {
			return true
		}
		select {
		case <-tick.C:
		case <-done:
			return l.Check(expected).LostCount == 0
		}
	}
}
