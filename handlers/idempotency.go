package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/zap"
)

// ClaimState is the answer of [IdempotencyStore.Claim].
type ClaimState int

const (
	// Claimed: the key was free; the caller now holds it until Complete, Release or the lease ends.
	Claimed ClaimState = iota + 1
	// InProgress: another caller holds an unexpired claim on the key.
	InProgress
	// Done: the key was completed and is still remembered.
	Done
)

func (s ClaimState) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case InProgress:
		return "in progress"
	case Done:
		return "done"
	}
	return fmt.Sprintf("ClaimState(%d)", int(s))
}

// IdempotencyStore remembers which messages were handled, for [Idempotent]. Implementations must
// be safe for concurrent use; share one across processes (Redis, DynamoDB, a SQL table with a
// unique key) to deduplicate across a fleet. [MemoryStore] is the in-process one.
type IdempotencyStore interface {
	// Claim atomically claims key for lease, unless it is claimed (InProgress) or completed (Done).
	Claim(ctx context.Context, key string, lease time.Duration) (ClaimState, error)
	// Complete marks key done and remembers it for keep.
	Complete(ctx context.Context, key string, keep time.Duration) error
	// Release drops the claim on key, so that a redelivery runs again.
	Release(ctx context.Context, key string) error
}

// IdempotencyOptions configure [Idempotent]; zero values mean defaults.
type IdempotencyOptions[T any] struct {
	// Store remembers handled keys (default: a new [MemoryStore], which deduplicates within one
	// process only).
	Store IdempotencyStore
	// Key returns the deduplication key of a message; "" handles the message without
	// deduplication. Default: the handler's name and the SQS message id, which is stable across
	// redeliveries of one message from one queue (a message published twice gets two ids).
	Key func(ctx context.Context, content *T) string
	// Lease is how long a claim protects a message being handled; keep it above the handler's
	// longest run (default 5 min).
	Lease time.Duration
	// Keep is how long a handled key is remembered (default 1 h).
	Keep time.Duration
	// RetryAfter is the nack timeout for a message that another worker is handling right now
	// (default 5 s).
	RetryAfter time.Duration
}

// Idempotent runs the handler at most once per key (by default, per SQS message id): a
// redelivery of a message that was already handled is SKIPPED with reason "duplicate message:
// already handled", and one that another worker is handling right now is RETRIED after
// RetryAfter. The key is completed when the handler returns nil or an outcome that deletes the
// message (SkipMessage, IgnoreMessage, TTLExpired), and released when it fails or nacks, so the
// retry runs the handler again. A store error on Claim fails the message (it is retried); errors
// completing or releasing are logged, not returned, so the handler's result stands.
func Idempotent[T any](opts IdempotencyOptions[T]) Middleware[T] {
	if opts.Store == nil {
		opts.Store = NewMemoryStore(MemoryStoreOptions{})
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Minute
	}
	if opts.Keep <= 0 {
		opts.Keep = time.Hour
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Second
	}
	return func(next fxpubsub.Handler[T]) fxpubsub.Handler[T] {
		name := NameOf(next)
		key := opts.Key
		if key == nil {
			key = func(ctx context.Context, _ *T) string {
				if m := fxpubsub.MessageFrom(ctx); m != nil && m.MessageID != "" {
					return name + ":" + m.MessageID
				}
				return ""
			}
		}
		return wrap(next, func(ctx context.Context, content *T) error {
			k := key(ctx, content)
			if k == "" {
				return next.Handle(ctx, content)
			}
			state, err := opts.Store.Claim(ctx, k, opts.Lease)
			if err != nil {
				return fmt.Errorf("idempotency claim %q: %w", k, err)
			}
			switch state {
			case Done:
				return &fxpubsub.SkipMessage{Reason: "duplicate message: already handled", Extra: map[string]any{"idempotency_key": k}}
			case InProgress:
				return &fxpubsub.Nack{Timeout: opts.RetryAfter, Reason: "duplicate message: being handled", Extra: map[string]any{"idempotency_key": k}}
			}
			herr := next.Handle(ctx, content)
			// Settle the claim even when the handler's context is done.
			sctx := context.WithoutCancel(ctx)
			if deletes(herr) {
				err = opts.Store.Complete(sctx, k, opts.Keep)
			} else {
				err = opts.Store.Release(sctx, k)
			}
			if err != nil {
				fxpubsub.LoggerFrom(ctx).Warn("idempotency store", zap.String("idempotency_key", k), zap.Error(err))
			}
			return herr
		})
	}
}

// MemoryStoreOptions configure a [MemoryStore]; zero values mean defaults.
type MemoryStoreOptions struct {
	// MaxEntries bounds the store, claims and completed keys together (default 100,000). When it is
	// full, a new claim makes room by dropping the least recently used completed key, else the
	// oldest claim if its lease has ended; a store full of live claims refuses new ones with an
	// error.
	MaxEntries int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// MemoryStore is the in-process [IdempotencyStore]: two LRUs (github.com/hashicorp/golang-lru/v2)
// guarded by a mutex, one of claims in claim order and one of completed keys, so every operation,
// making room included, takes constant time. It deduplicates within one process; use a shared
// store to deduplicate across processes.
type MemoryStore struct {
	opts MemoryStoreOptions

	mu     sync.Mutex
	claims *simplelru.LRU[string, time.Time] // key -> lease end, oldest claim first
	done   *simplelru.LRU[string, time.Time] // key -> forget after, least recently used first
}

var _ IdempotencyStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Each LRU could hold every entry; the store keeps their sum within MaxEntries.
	claims, _ := simplelru.NewLRU[string, time.Time](opts.MaxEntries, nil)
	done, _ := simplelru.NewLRU[string, time.Time](opts.MaxEntries, nil)
	return &MemoryStore{opts: opts, claims: claims, done: done}
}

// Claim claims key unless a live entry exists.
func (s *MemoryStore) Claim(_ context.Context, key string, lease time.Duration) (ClaimState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if until, ok := s.done.Get(key); ok {
		if now.Before(until) {
			return Done, nil
		}
		s.done.Remove(key)
	}
	if until, ok := s.claims.Peek(key); ok {
		if now.Before(until) {
			return InProgress, nil
		}
		s.claims.Remove(key)
	}
	if !s.makeRoomLocked(now) {
		return 0, fmt.Errorf("memory idempotency store full: %d messages in progress", s.claims.Len())
	}
	s.claims.Add(key, now.Add(lease))
	return Claimed, nil
}

// Complete marks key done for keep.
func (s *MemoryStore) Complete(_ context.Context, key string, keep time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if !s.claims.Remove(key) && !s.done.Contains(key) && s.claims.Len()+s.done.Len() >= s.opts.MaxEntries {
		s.done.RemoveOldest() // completed without a claim: keep the bound
	}
	s.done.Add(key, now.Add(keep))
	return nil
}

// Release forgets key.
func (s *MemoryStore) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims.Remove(key)
	s.done.Remove(key)
	return nil
}

// Len returns the number of entries, expired ones included until they are evicted.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims.Len() + s.done.Len()
}

// makeRoomLocked makes room for one more entry: it drops the least recently used completed key,
// else the oldest claim if its lease has ended. It reports whether there is room.
func (s *MemoryStore) makeRoomLocked(now time.Time) bool {
	if s.claims.Len()+s.done.Len() < s.opts.MaxEntries {
		return true
	}
	if _, _, ok := s.done.RemoveOldest(); ok {
		return true
	}
	if key, until, ok := s.claims.GetOldest(); ok && !now.Before(until) {
		s.claims.Remove(key)
		return true
	}
	return false
}
