package fxpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// resultLog collects results from a ResultHook.
type resultLog struct {
	mu      sync.Mutex
	results []fxpubsub.Result
	byID    map[string][]fxpubsub.ResultType
	opaque  map[string]fxpubsub.Opaque
	changed chan struct{}
}

func newResultLog() *resultLog {
	return &resultLog{byID: map[string][]fxpubsub.ResultType{}, opaque: map[string]fxpubsub.Opaque{}, changed: make(chan struct{}, 1)}
}

func (l *resultLog) hook(ctx context.Context, m *fxpubsub.Message, r fxpubsub.Result) {
	l.mu.Lock()
	l.results = append(l.results, r)
	key := m.MessageID
	if c, ok := m.Content.(*orderCreated); ok {
		key = c.OrderID
	}
	l.byID[key] = append(l.byID[key], r.Type)
	l.opaque[key] = fxpubsub.OpaqueFrom(ctx).Clone()
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !awstest.Eventually(within, 10*time.Millisecond, cond) {
		t.Fatalf("timed out after %s waiting for %s", within, what)
	}
}

func newDaemon(t *testing.T, r *rig, regs []fxpubsub.Registration, opts fxpubsub.DaemonOptions, hooks ...fxpubsub.ResultHook) *fxpubsub.Daemon {
	t.Helper()
	handlers, err := fxpubsub.NewHandlerRegistry(regs...)
	if err != nil {
		t.Fatal(err)
	}
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{EnableTTL: true, Hooks: hooks})
	return fxpubsub.NewDaemon(r.consumer, disp, opts)
}

func mustReg[T any](t *testing.T, mt string, fn func(context.Context, *T) error) fxpubsub.Registration {
	t.Helper()
	reg, err := fxpubsub.NewRegistration[T](mt, fxpubsub.HandlerFunc[T](fn))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestDaemonResults(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		r := newRig(t, tg, awstest.PipelineOptions{Raw: true})
		ctx := context.Background()
		var attempts sync.Map
		handler := func(ctx context.Context, c *orderCreated) error {
			n, _ := attempts.LoadOrStore(c.OrderID, new(atomic.Int32))
			try := n.(*atomic.Int32).Add(1)
			switch c.OrderID {
			case "skip":
				return &fxpubsub.SkipMessage{Reason: "precondition"}
			case "ignore":
				return &fxpubsub.IgnoreMessage{Reason: "not mine"}
			case "nack":
				if try == 1 {
					return &fxpubsub.Nack{Timeout: 0, Reason: "not yet"}
				}
			case "fail":
				if try == 1 {
					return errors.New("downstream unavailable")
				}
			case "panic":
				if try == 1 {
					panic("handler bug")
				}
			}
			return nil
		}
		log := newResultLog()
		d := newDaemon(t, r, []fxpubsub.Registration{mustReg(t, orderMT, handler)}, fxpubsub.DaemonOptions{Receivers: 2, Concurrency: 8}, log.hook)

		for _, id := range []string{"ok", "skip", "ignore", "nack", "fail", "panic"} {
			if _, err := r.producer.Produce(ctx, orderMT, orderCreated{URI: "https://orders/" + id, OrderID: id}); err != nil {
				t.Fatal(err)
			}
		}
		expired := fxpubsub.WithOpaque(ctx, fxpubsub.Opaque{"x-request-ttl": "1"})
		if _, err := r.producer.Produce(expired, orderMT, orderCreated{URI: "https://orders/expired", OrderID: "expired"}); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{`{"mediaType":"application/vnd.globality.pubsub._.created.unhandled","uri":"u","opaqueData":{}}`, `{not json`} {
			if _, err := tg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// 9 messages; nack, fail and panic run twice; the poison message fails forever (backoff 0).
		waitFor(t, 30*time.Second, "all results", func() bool {
			log.mu.Lock()
			defer log.mu.Unlock()
			return len(log.byID["nack"]) >= 2 && len(log.byID["fail"]) >= 2 && len(log.byID["panic"]) >= 2 &&
				len(log.byID["ok"]) >= 1 && len(log.byID["skip"]) >= 1 && len(log.byID["ignore"]) >= 1 && len(log.byID["expired"]) >= 1 && len(log.results) >= 12
		})
		if err := d.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		want := map[string][]fxpubsub.ResultType{
			"ok": {fxpubsub.Succeeded}, "skip": {fxpubsub.Skipped}, "ignore": {fxpubsub.Ignored}, "expired": {fxpubsub.Expired},
			"nack": {fxpubsub.Retried, fxpubsub.Succeeded}, "fail": {fxpubsub.Failed, fxpubsub.Succeeded}, "panic": {fxpubsub.Failed, fxpubsub.Succeeded},
		}
		for id, w := range want {
			if fmt.Sprint(log.byID[id]) != fmt.Sprint(w) {
				t.Errorf("%s: results %v, want %v", id, log.byID[id], w)
			}
		}
		var unhandled, poison int
		for key, types := range log.byID {
			if _, ok := want[key]; ok {
				continue
			}
			switch types[0] {
			case fxpubsub.Ignored:
				unhandled++
			case fxpubsub.Failed:
				poison++
			}
		}
		if unhandled != 1 || poison != 1 {
			t.Errorf("unhandled (IGNORED) = %d, poison (FAILED) = %d; want 1 and 1: %v", unhandled, poison, log.byID)
		}
		if got := log.opaque["ok"]; got.Get("x-request-ttl") != "31" || got.Get("message_id") == "" || got.Get("handler") == "" || got.Get("uri") != "https://orders/ok" {
			t.Errorf("handler opaque = %v", got)
		}
	})
}
