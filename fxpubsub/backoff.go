package fxpubsub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// MaxVisibilityTimeout is the SQS maximum (12 hours); no backoff exceeds it.
const MaxVisibilityTimeout = 43200 * time.Second

// BackoffPolicy chooses how long a failed message stays invisible before SQS redelivers it.
type BackoffPolicy interface {
	// Backoff returns the visibility timeout for a message received receiveCount times.
	Backoff(receiveCount int) time.Duration
}

// NaiveBackoff always waits Timeout (section sqs_consumer, key
// message_retry_visibility_timeout_seconds, default 5 s).
type NaiveBackoff struct {
	Timeout time.Duration
}

// Backoff returns the fixed timeout.
func (b NaiveBackoff) Backoff(int) time.Duration { return clampVisibility(b.Timeout) }

// ExponentialBackoff waits a uniformly random whole number of seconds in [0, 2^receiveCount − 1]
// ("full jitter"), capped at Max (default and upper limit [MaxVisibilityTimeout]).
type ExponentialBackoff struct {
	Max time.Duration
}

// Backoff returns the jittered timeout.
func (b ExponentialBackoff) Backoff(receiveCount int) time.Duration {
	limit := b.Max
	if limit <= 0 || limit > MaxVisibilityTimeout {
		limit = MaxVisibilityTimeout
	}
	if receiveCount < 1 {
		receiveCount = 1
	}
	upper := int64(limit / time.Second)
	if receiveCount < 62 {
		if u := int64(1)<<receiveCount - 1; u < upper {
			upper = u
		}
	}
	return time.Duration(rand.Int64N(upper+1)) * time.Second
}

// NewBackoffPolicy returns the policy named by sqs_consumer.backoff_policy: "naive" (default) or
// "exponential"; the original's class names are accepted too.
func NewBackoffPolicy(name string, retryTimeout time.Duration) (BackoffPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "naive", "naivebackoffpolicy":
		return NaiveBackoff{Timeout: retryTimeout}, nil
	case "exponential", "exponentialbackoffpolicy":
		return ExponentialBackoff{}, nil
	}
	return nil, fmt.Errorf("unknown backoff policy %q: want naive or exponential", name)
}

func clampVisibility(d time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d > MaxVisibilityTimeout:
		return MaxVisibilityTimeout
	}
	return d
}

// visibilitySeconds rounds d up to whole seconds within SQS's range.
func visibilitySeconds(d time.Duration) int32 {
	d = clampVisibility(d)
	return int32((d + time.Second - 1) / time.Second)
}

// retryDelay is full-jitter exponential backoff: up to 100 ms × 2^attempt, capped at 5 s.
func retryDelay(attempt int) time.Duration {
	upper := 100 * time.Millisecond << min(attempt, 6)
	upper = min(upper, 5*time.Second)
	return time.Duration(rand.Int64N(int64(upper))) + 10*time.Millisecond
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// receiveBackoff is full-jitter exponential backoff for failing receives: up to 200 ms × 2^n,
// capped at 30 s, so a broken backend sees a bounded request rate, never a hot loop.
func receiveBackoff(failures int) time.Duration {
	upper := 200 * time.Millisecond << min(failures, 8)
	upper = min(upper, 30*time.Second)
	return upper/2 + time.Duration(randInt64N(int64(upper/2)))
}

// randInt64N is rand.Int64N that returns 0 for n <= 0.
func randInt64N(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}
