package fxpubsub

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestNaiveBackoff(t *testing.T) {
	b, err := NewBackoffPolicy("NaiveBackoffPolicy", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 50} {
		if got := b.Backoff(n); got != 5*time.Second {
			t.Errorf("Backoff(%d) = %v", n, got)
		}
	}
}

func TestExponentialBackoffRange(t *testing.T) {
	b, err := NewBackoffPolicy("exponential", 0)
	if err != nil {
		t.Fatal(err)
	}
	for count, upper := range map[int]time.Duration{1: time.Second, 3: 7 * time.Second, 10: 1023 * time.Second, 20: MaxVisibilityTimeout, 100: MaxVisibilityTimeout} {
		seenHigh := false
		for range 2000 {
			d := b.Backoff(count)
			if d < 0 || d > upper || d%time.Second != 0 {
				t.Fatalf("Backoff(%d) = %v, want whole seconds in [0, %v]", count, d, upper)
			}
			if d > upper/2 {
				seenHigh = true
			}
		}
		if !seenHigh {
			t.Errorf("Backoff(%d) never reached the upper half of [0, %v]: not full jitter", count, upper)
		}
	}
}

func TestBackoffPolicyUnknown(t *testing.T) {
	if _, err := NewBackoffPolicy("linear", 0); err == nil || err.Error() != `unknown backoff policy "linear": want naive or exponential` {
		t.Fatalf("got %v", err)
	}
}

func TestVisibilitySeconds(t *testing.T) {
	tests := map[time.Duration]int32{-time.Second: 0, 0: 0, 1500 * time.Millisecond: 2, 5 * time.Second: 5, 100 * time.Hour: 43200}
	for give, want := range tests {
		if got := visibilitySeconds(give); got != want {
			t.Errorf("visibilitySeconds(%v) = %d, want %d", give, got, want)
		}
	}
}

func TestCallRetryDelaysStayInBounds(t *testing.T) {
	for attempt := 0; attempt < 40; attempt++ {
		if d := retryDelay(attempt); d < 10*time.Millisecond || d > 5*time.Second+10*time.Millisecond {
			t.Errorf("retryDelay(%d) = %v, want within [10ms, 5.01s]", attempt, d)
		}
		upper := min(200*time.Millisecond<<min(attempt, 8), 30*time.Second)
		if d := receiveBackoff(attempt); d < upper/2 || d > upper {
			t.Errorf("receiveBackoff(%d) = %v, want within [%v, %v]", attempt, d, upper/2, upper)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx on a done context = %v, want context.Canceled", err)
	}
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleepCtx(1ms) = %v", err)
	}
}
