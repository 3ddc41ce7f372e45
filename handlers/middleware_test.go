package handlers_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/handlers"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

type note struct {
	URI string `json:"uri"`
}

var noteCreated = fxpubsub.Created("Note")

// noteHandler records calls and returns the queued results in turn (nil when none are left).
type noteHandler struct {
	mu      sync.Mutex
	calls   int
	results []error
}

func (h *noteHandler) Handle(ctx context.Context, n *note) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if len(h.results) == 0 {
		return nil
	}
	err := h.results[0]
	h.results = h.results[1:]
	return err
}

func (h *noteHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func TestWrapOrderAndName(t *testing.T) {
	var trace []string
	mw := func(name string) handlers.Middleware[note] {
		return func(next fxpubsub.Handler[note]) fxpubsub.Handler[note] {
			return fxpubsub.HandlerFunc[note](func(ctx context.Context, n *note) error {
				trace = append(trace, name)
				return next.Handle(ctx, n)
			})
		}
	}
	h := handlers.Wrap[note](fxpubsub.HandlerFunc[note](func(context.Context, *note) error {
		trace = append(trace, "handler")
		return nil
	}), mw("outer"), mw("inner"))
	if err := h.Handle(context.Background(), &note{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(trace, ","); got != "outer,inner,handler" {
		t.Fatalf("order %s", got)
	}

	wrapped := handlers.Wrap[note](&noteHandler{}, handlers.Logging[note](nil), handlers.Timeout[note](time.Second))
	if got := handlers.NameOf(wrapped); got != "Note Handler" {
		t.Fatalf("wrapped handler named %q, want the inner handler's name", got)
	}
}

func TestLogging(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	inner := &noteHandler{results: []error{nil, &fxpubsub.Nack{Timeout: time.Second, Reason: "later"}, errors.New("boom")}}
	h := handlers.Wrap[note](inner, handlers.Logging[note](zap.New(core)))
	for range 3 {
		_ = h.Handle(context.Background(), &note{})
	}
	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Level.String()+" "+e.Message)
		if e.ContextMap()["handler"] != "Note Handler" {
			t.Errorf("entry %q has handler %v", e.Message, e.ContextMap()["handler"])
		}
	}
	// All at debug: the dispatcher's result line reports an outcome or failure once.
	want := "debug handling|debug handled|debug handling|debug handled with outcome|debug handling|debug handler failed"
	if strings.Join(got, "|") != want {
		t.Fatalf("logs:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
	}
}

func TestLoggingUsesDispatcherLogger(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := handlers.Wrap[note](&noteHandler{}, handlers.Logging[note](nil))
	reg, _ := fxpubsub.NewRegistration[note](noteCreated, h)
	hr, _ := fxpubsub.NewHandlerRegistry(reg)
	d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{Logger: zap.New(core)})
	d.Handle(context.Background(), &fxpubsub.Message{MediaType: noteCreated, Content: &note{}, MessageID: "m-7", Opaque: fxpubsub.Opaque{"x-request-id": "r-7"}})
	entries := logs.FilterMessage("handled").All()
	if len(entries) != 1 {
		t.Fatalf("got %d 'handled' entries", len(entries))
	}
	opaque, _ := entries[0].ContextMap()["opaque"].(map[string]any)
	if opaque["x-request-id"] != "r-7" || opaque["message_id"] != "m-7" {
		t.Fatalf("entry lacks the message's opaque fields: %v", entries[0].ContextMap())
	}
}

func TestTimeout(t *testing.T) {
	blocking := fxpubsub.HandlerFunc[note](func(ctx context.Context, _ *note) error {
		<-ctx.Done()
		return ctx.Err()
	})
	h := handlers.Wrap[note](blocking, handlers.Timeout[note](20*time.Millisecond))
	r := dispatch(t, noteCreated, h, &note{}, nil)
	var te *handlers.TimeoutError
	if r.Type != fxpubsub.Failed || !errors.As(r.Err, &te) || te.After != 20*time.Millisecond || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("result %s, err %v", r.Type, r.Err)
	}

	// Outcomes and successes pass through untouched.
	nack := handlers.Wrap[note](fxpubsub.HandlerFunc[note](func(ctx context.Context, _ *note) error {
		<-ctx.Done()
		return &fxpubsub.Nack{Timeout: time.Second, Reason: "slow upstream"}
	}), handlers.Timeout[note](time.Millisecond))
	if r := dispatch(t, noteCreated, nack, &note{}, nil); r.Type != fxpubsub.Retried {
		t.Fatalf("nack after deadline: %s", r.Type)
	}
	fast := handlers.Wrap[note](&noteHandler{}, handlers.Timeout[note](time.Minute))
	if r := dispatch(t, noteCreated, fast, &note{}, nil); r.Type != fxpubsub.Succeeded {
		t.Fatalf("fast handler: %s", r.Type)
	}
}

func TestIdempotent(t *testing.T) {
	clk := newClock()
	store := handlers.NewMemoryStore(handlers.MemoryStoreOptions{Now: clk.Now})
	inner := &noteHandler{results: []error{errors.New("first attempt fails"), nil}}
	h := handlers.Wrap[note](inner, handlers.Idempotent(handlers.IdempotencyOptions[note]{Store: store, Keep: time.Hour}))

	// dispatch always uses message id msg-1: these are redeliveries of one message.
	if r := dispatch(t, noteCreated, h, &note{}, nil); r.Type != fxpubsub.Failed {
		t.Fatalf("first: %s", r.Type)
	}
	if r := dispatch(t, noteCreated, h, &note{}, nil); r.Type != fxpubsub.Succeeded {
		t.Fatalf("retry after failure: %s (the failure must release the claim)", r.Type)
	}
	r := dispatch(t, noteCreated, h, &note{}, nil)
	if r.Type != fxpubsub.Skipped || !strings.Contains(r.Reason, "duplicate") {
		t.Fatalf("redelivery after success: %s %q", r.Type, r.Reason)
	}
	if inner.count() != 2 {
		t.Fatalf("handler ran %d times, want 2", inner.count())
	}
	clk.Advance(time.Hour) // forgotten after Keep
	if r := dispatch(t, noteCreated, h, &note{}, nil); r.Type != fxpubsub.Succeeded || inner.count() != 3 {
		t.Fatalf("after Keep: %s, %d calls", r.Type, inner.count())
	}
}

func TestIdempotentConcurrentDelivery(t *testing.T) {
	store := handlers.NewMemoryStore(handlers.MemoryStoreOptions{})
	entered, release := make(chan struct{}), make(chan struct{})
	slow := fxpubsub.HandlerFunc[note](func(ctx context.Context, _ *note) error {
		close(entered)
		<-release
		return nil
	})
	h := handlers.Wrap[note](slow, handlers.Idempotent(handlers.IdempotencyOptions[note]{Store: store, RetryAfter: 7 * time.Second}))
	done := make(chan fxpubsub.Result)
	go func() { done <- dispatch(t, noteCreated, h, &note{}, nil) }()
	<-entered
	r := dispatch(t, noteCreated, h, &note{}, nil) // same message id while the first is running
	if r.Type != fxpubsub.Retried || r.Retry != 7*time.Second {
		t.Fatalf("concurrent duplicate: %s after %v", r.Type, r.Retry)
	}
	close(release)
	if r := <-done; r.Type != fxpubsub.Succeeded {
		t.Fatalf("first delivery: %s", r.Type)
	}
}

func TestIdempotentKeyAndSkipOutcome(t *testing.T) {
	inner := &noteHandler{results: []error{&fxpubsub.SkipMessage{Reason: "not mine"}}}
	h := handlers.Wrap[note](inner, handlers.Idempotent(handlers.IdempotencyOptions[note]{
		Key: func(_ context.Context, n *note) string { return n.URI },
	}))
	ctx := context.Background()
	if err := h.Handle(ctx, &note{URI: "a"}); err == nil {
		t.Fatal("want the SkipMessage")
	}
	var skip *fxpubsub.SkipMessage
	if err := h.Handle(ctx, &note{URI: "a"}); !errors.As(err, &skip) || !strings.Contains(skip.Reason, "duplicate") {
		t.Fatalf("a skipped message counts as handled: %v", err)
	}
	if err := h.Handle(ctx, &note{URI: ""}); err != nil { // no key: no deduplication
		t.Fatal(err)
	}
	if err := h.Handle(ctx, &note{URI: ""}); err != nil {
		t.Fatal(err)
	}
	if inner.count() != 3 {
		t.Fatalf("calls %d, want 3", inner.count())
	}
}

func TestMemoryStoreBounds(t *testing.T) {
	clk := newClock()
	s := handlers.NewMemoryStore(handlers.MemoryStoreOptions{MaxEntries: 10, Now: clk.Now})
	ctx := context.Background()
	for i := range 10 {
		k := string(rune('a' + i))
		if st, err := s.Claim(ctx, k, time.Minute); err != nil || st != handlers.Claimed {
			t.Fatal(st, err)
		}
	}
	if _, err := s.Claim(ctx, "z", time.Minute); err == nil {
		t.Fatal("a store full of live claims accepted another")
	}
	for i := range 5 {
		_ = s.Complete(ctx, string(rune('a'+i)), time.Hour)
	}
	if st, err := s.Claim(ctx, "z", time.Minute); err != nil || st != handlers.Claimed {
		t.Fatalf("completed entries were not evicted: %v %v", st, err)
	}
	if st, _ := s.Claim(ctx, "f", time.Minute); st != handlers.InProgress {
		t.Fatalf("live claim f: %v", st)
	}
	clk.Advance(2 * time.Minute) // claims expire: a crashed worker's message runs again
	if st, _ := s.Claim(ctx, "f", time.Minute); st != handlers.Claimed {
		t.Fatalf("expired claim f: %v", st)
	}
}

// TestMemoryStoreFullDropsOneLeastRecentlyUsed: a claim in a store full of completed keys drops
// exactly one, the least recently used; a key just seen as a duplicate stays remembered.
func TestMemoryStoreFullDropsOneLeastRecentlyUsed(t *testing.T) {
	s := handlers.NewMemoryStore(handlers.MemoryStoreOptions{MaxEntries: 10})
	ctx := context.Background()
	for i := range 10 {
		k := string(rune('a' + i))
		_, _ = s.Claim(ctx, k, time.Minute)
		_ = s.Complete(ctx, k, time.Hour)
	}
	if st, _ := s.Claim(ctx, "a", time.Minute); st != handlers.Done {
		t.Fatalf("a: %v", st)
	}
	if st, err := s.Claim(ctx, "z", time.Minute); err != nil || st != handlers.Claimed {
		t.Fatalf("z: %v %v", st, err)
	}
	if s.Len() != 10 {
		t.Fatalf("Len %d, want 10: one entry dropped to make room", s.Len())
	}
	for _, k := range []string{"a", "c", "d", "e", "f", "g", "h", "i", "j"} {
		if st, _ := s.Claim(ctx, k, time.Minute); st != handlers.Done {
			t.Fatalf("%s: %v, want still done", k, st)
		}
	}
	if st, _ := s.Claim(ctx, "b", time.Minute); st != handlers.Claimed {
		t.Fatalf("b, the least recently used: %v, want forgotten", st)
	}
}

func TestSteps(t *testing.T) {
	parse := handlers.Step[*note, int](func(_ context.Context, n *note) (int, error) { return len(n.URI), nil })
	check := handlers.Step[int, string](func(_ context.Context, l int) (string, error) {
		if l == 0 {
			return "", &fxpubsub.SkipMessage{Reason: "empty uri"}
		}
		return strings.Repeat("x", l), nil
	})
	var out string
	store := handlers.Step[string, struct{}](func(_ context.Context, s string) (struct{}, error) { out = s; return struct{}{}, nil })
	h := handlers.FromStep(handlers.Then(handlers.Then(parse, check), store))

	if r := dispatch(t, noteCreated, h, &note{URI: "abc"}, nil); r.Type != fxpubsub.Succeeded || out != "xxx" {
		t.Fatalf("%s %q", r.Type, out)
	}
	out = ""
	if r := dispatch(t, noteCreated, h, &note{}, nil); r.Type != fxpubsub.Skipped || out != "" {
		t.Fatalf("a failing step must stop the chain: %s %q", r.Type, out)
	}

	var ran []int
	seq := handlers.Sequence(
		func(context.Context, *note) error { ran = append(ran, 1); return nil },
		func(context.Context, *note) error { ran = append(ran, 2); return errors.New("stop") },
		func(context.Context, *note) error { ran = append(ran, 3); return nil },
	)
	if err := seq.Handle(context.Background(), &note{}); err == nil || len(ran) != 2 {
		t.Fatalf("Sequence: %v %v", err, ran)
	}
}

// BenchmarkMemoryStoreFull: a store at capacity with completed keys; each iteration claims and
// completes a new key, so every claim needs room.
func BenchmarkMemoryStoreFull(b *testing.B) {
	for _, size := range []int{1_000, 100_000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			s := handlers.NewMemoryStore(handlers.MemoryStoreOptions{MaxEntries: size})
			ctx := context.Background()
			for i := range size {
				k := "warm-" + strconv.Itoa(i)
				_, _ = s.Claim(ctx, k, time.Minute)
				_ = s.Complete(ctx, k, time.Hour)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var slowest time.Duration
			for i := range b.N {
				k := "k-" + strconv.Itoa(i)
				start := time.Now()
				if _, err := s.Claim(ctx, k, time.Minute); err != nil {
					b.Fatal(err)
				}
				slowest = max(slowest, time.Since(start))
				_ = s.Complete(ctx, k, time.Hour)
			}
			b.ReportMetric(float64(slowest.Microseconds()), "max-claim-µs")
		})
	}
}
