package pubsubtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// feed is a concurrency-safe list that waiters can block on. Entries are reserved in call order
// and become visible when committed, so a message recorded while an earlier call is still in
// flight (the in-memory backend delivers, and a handler publishes, inside the earlier Publish)
// still lands after it. Every commit closes the current changed channel, so waiters wake without
// polling or sleeping.
type feed[T any] struct {
	mu      sync.Mutex
	entries []*entry[T]
	changed chan struct{}
}

type entry[T any] struct {
	v       T
	visible bool
}

// reserve appends an invisible entry holding v.
func (f *feed[T]) reserve(v T) *entry[T] {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &entry[T]{v: v}
	f.entries = append(f.entries, e)
	return e
}

// commit applies update to e's value and makes it visible.
func (f *feed[T]) commit(e *entry[T], update func(*T)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if update != nil {
		update(&e.v)
	}
	e.visible = true
	f.notify()
}

// drop removes an entry that will never be committed.
func (f *feed[T]) drop(e *entry[T]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.entries {
		if x == e {
			f.entries = append(f.entries[:i], f.entries[i+1:]...)
			return
		}
	}
}

func (f *feed[T]) add(v T) { f.commit(f.reserve(v), nil) }

// notify wakes the waiters; f.mu is held.
func (f *feed[T]) notify() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// snapshot returns a copy of the visible items and a channel closed on the next commit.
func (f *feed[T]) snapshot() ([]T, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	out := make([]T, 0, len(f.entries))
	for _, e := range f.entries {
		if e.visible {
			out = append(out, e.v)
		}
	}
	return out, f.changed
}

func (f *feed[T]) all() []T {
	items, _ := f.snapshot()
	return items
}

// reset forgets every entry, including those still in flight.
func (f *feed[T]) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = nil
}

// waitUntil blocks until done(items) holds or ctx is done. It returns the items at that point and
// whether done held.
func (f *feed[T]) waitUntil(ctx context.Context, done func([]T) bool) ([]T, bool) {
	for {
		items, changed := f.snapshot()
		if done(items) {
			return items, true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			items, _ = f.snapshot()
			return items, done(items)
		}
	}
}

// waitTimeout is waitUntil with a timeout.
func (f *feed[T]) waitTimeout(timeout time.Duration, done func([]T) bool) ([]T, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f.waitUntil(ctx, done)
}

// await waits for at least n items or ctx; the error says how many arrived.
func (f *feed[T]) await(ctx context.Context, n int, what string) ([]T, error) {
	items, ok := f.waitUntil(ctx, func(items []T) bool { return len(items) >= n })
	if !ok {
		return items, fmt.Errorf("pubsubtest: waiting for %d %s, got %d: %w", n, what, len(items), context.Cause(ctx))
	}
	return items, nil
}

// waitN waits for at least n items; on timeout it fails t (Fatalf) listing what arrived.
func (f *feed[T]) waitN(t testing.TB, n int, timeout time.Duration, what string, format func(T) string) []T {
	t.Helper()
	items, ok := f.waitTimeout(timeout, func(items []T) bool { return len(items) >= n })
	if !ok {
		t.Fatalf("pubsubtest: waited %v for %d %s, got %d%s", timeout, n, what, len(items), list(items, format))
	}
	return items
}

// waitMatch waits for the first item that match accepts; on timeout it fails t (Fatalf).
func (f *feed[T]) waitMatch(t testing.TB, timeout time.Duration, match func(T) bool, want, what string, format func(T) string) (T, bool) {
	t.Helper()
	var found T
	var ok bool
	items, _ := f.waitTimeout(timeout, func(items []T) bool {
		for _, it := range items {
			if match(it) {
				found, ok = it, true
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("pubsubtest: waited %v for %s %s; none of %d matched%s", timeout, what, want, len(items), list(items, format))
	}
	return found, ok
}

// list renders items one per line, numbered from 1, for failure messages.
func list[T any](items []T, format func(T) string) string {
	if len(items) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(":")
	for i, it := range items {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, format(it))
	}
	return b.String()
}
