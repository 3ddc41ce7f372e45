package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/zap"
)

// BenchmarkResultLine dispatches one decoded message to a no-op handler from 32 goroutines (the
// daemon's default concurrency), once with a logger that writes nothing and once with the logger
// the library ships (productionLogger: JSON, caller, buffered, to a file). The difference between
// the two is what the result line costs. One op is one message.
func BenchmarkResultLine(b *testing.B) {
	b.Run("logger=nop", func(b *testing.B) { benchResultLine(b, zap.NewNop()) })
	b.Run("logger=shipped", func(b *testing.B) { benchResultLine(b, productionLogger(b)) })
}

func benchResultLine(b *testing.B, logger *zap.Logger) {
	reg := newRegistry(b)
	dec, err := fxpubsub.NewDecoder(reg, fxpubsub.DecoderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	regn, err := fxpubsub.NewRegistration[benchOrder](benchMT, fxpubsub.HandlerFunc[benchOrder](func(context.Context, *benchOrder) error { return nil }))
	if err != nil {
		b.Fatal(err)
	}
	handlers, err := fxpubsub.NewHandlerRegistry(regn)
	if err != nil {
		b.Fatal(err)
	}
	cfg := fxpubsub.DefaultConfig()
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{
		EnableTTL: cfg.MessageContext.EnableTTL, InitialTTL: cfg.MessageContext.InitialTTL, Logger: logger,
	})
	ctx := context.Background()
	var acks countingSettler
	m := dec.Decode(ctx, fxpubsub.Record{
		MessageID: "m1", ReceiptHandle: "r1", Body: []byte(encodedBody(b, reg)), Attributes: map[string]string{"ApproximateReceiveCount": "1"},
	}, &acks)
	if m.Err != nil {
		b.Fatal(m.Err)
	}
	b.ReportAllocs()
	b.SetParallelism(16) // 16 × GOMAXPROCS (2 here): 32 goroutines
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := disp.Dispatch(ctx, m); r.Type != fxpubsub.Succeeded {
				b.Errorf("result %v: %v", r.Type, r.Err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/msg")
	if n := acks.acks.Load(); n != int64(b.N) {
		b.Errorf("%d acks for %d messages", n, b.N)
	}
}

// countingSettler counts acks and refuses the rest.
type countingSettler struct{ acks atomic.Int64 }

func (s *countingSettler) Ack(context.Context, *fxpubsub.Message) error { s.acks.Add(1); return nil }

func (s *countingSettler) Nack(context.Context, *fxpubsub.Message, time.Duration) error {
	return errors.New("nack")
}

func (s *countingSettler) Extend(context.Context, *fxpubsub.Message, time.Duration) error {
	return errors.New("extend")
}
