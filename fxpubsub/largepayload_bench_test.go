package fxpubsub_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// reportCPU reports process CPU (this process is the client and, on memory, the server too) per MB.
func reportCPU(b *testing.B, start time.Duration, bytesPerOp int) {
	mb := float64(b.N) * float64(bytesPerOp) / 1e6
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/mb, "cpu-ms/MB")
}

// Publishing 1 MiB messages through S3 on the in-memory backend: MB/s and CPU per MB.
func BenchmarkLargePayloadPublish1MiB(b *testing.B) {
	tg := awstest.Memory(b)
	r := newLargeRig(&testing.T{}, tg, true, fxpubsub.PayloadStoreOptions{DeleteOnAck: true})
	data := payload(1<<20, "bench")
	ctx := context.Background()
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := r.producer.Produce(ctx, blobMT, blobCreated{URI: "https://b/1", Data: data}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_, _ = tg.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(r.pipe.QueueURL)})
		b.StartTimer()
	}
	reportCPU(b, start, 1<<20)
}

// Consuming (receive, fetch, decode, ack) 1 MiB messages published through S3.
func BenchmarkLargePayloadConsume1MiB(b *testing.B) {
	tg := awstest.Memory(b)
	r := newLargeRig(&testing.T{}, tg, true, fxpubsub.PayloadStoreOptions{})
	data := payload(1<<20, "bench")
	ctx := context.Background()
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		if _, err := r.producer.Produce(ctx, blobMT, blobCreated{URI: "https://b/1", Data: data}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime()
		msgs, err := r.consumer.Consume(ctx)
		if err != nil || len(msgs) != 1 || msgs[0].Err != nil {
			b.Fatalf("consume: %v, %d messages", err, len(msgs))
		}
		if err := msgs[0].Ack(ctx); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(cpu.Milliseconds())/(float64(b.N)*(1<<20)/1e6), "cpu-ms/MB")
}

// A message under the threshold costs the same with offloading configured as without it.
func BenchmarkProduceUnderThreshold(b *testing.B) {
	for _, offload := range []bool{false, true} {
		name := "plain"
		if offload {
			name = "offload-configured"
		}
		b.Run(name, func(b *testing.B) {
			tg := awstest.Memory(b)
			r := newLargeRig(&testing.T{}, tg, true, fxpubsub.PayloadStoreOptions{})
			p := r.producer
			if !offload {
				p = fxpubsub.NewProducer(tg.SNS, r.producer.Registry(), mustTopics(&testing.T{}, r.pipe.TopicARN), fxpubsub.ProducerOptions{})
			}
			ctx := context.Background()
			content := blobCreated{URI: "https://b/1", Data: payload(1000, "small")}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := p.Produce(ctx, blobMT, content); err != nil {
					b.Fatal(err)
				}
				if n++; n%1000 == 0 {
					b.StopTimer()
					_, _ = tg.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(r.pipe.QueueURL)})
					b.StartTimer()
				}
			}
		})
	}
}

// Peak heap while publishing and consuming one 20 MiB payload stays a small multiple of it.
func TestLargePayloadPeakMemory(t *testing.T) {
	tg := awstest.Memory(t)
	r := newLargeRig(t, tg, false, fxpubsub.PayloadStoreOptions{DeleteOnAck: true})
	const size = 20 << 20
	data := payload(size, "peak")
	ctx := context.Background()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- max
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > max {
					max = ms.HeapInuse
				}
			}
		}
	}()
	if _, err := r.producer.Produce(ctx, blobMT, blobCreated{URI: "https://b/1", Data: data}); err != nil {
		t.Fatal(err)
	}
	m := r.consumeN(t, 1, 30*time.Second)[0]
	if m.Err != nil {
		t.Fatal(m.Err)
	}
	if err := m.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	p := <-peak
	// Live at once at worst: the caller's data, the encoded body, the stored object (in-memory S3),
	// the fetched copy, the decoded content, and encoder/decoder buffers.
	ratio := float64(p-min(p, before.HeapInuse)) / size
	t.Logf("peak heap above baseline: %.1f MiB for a 20 MiB payload (%.1fx)", float64(p-min(p, before.HeapInuse))/(1<<20), ratio)
	if ratio > 8 {
		t.Fatalf("peak heap %.1fx the payload, want at most 8x", ratio)
	}
}
