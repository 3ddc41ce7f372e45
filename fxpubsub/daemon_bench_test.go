package fxpubsub_test

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardLogger encodes JSON like production but writes nowhere, so the cost of the result line
// is measured without the terminal's.
func discardLogger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.InfoLevel))
}

// preload puts n encoded messages into the queue with SendMessageBatch, as SNS raw delivery would.
func preload(b *testing.B, client awstest.BatchSender, reg *fxpubsub.SchemaRegistry, url string, n int) {
	b.Helper()
	body, err := reg.Encode(orderMT, orderCreated{URI: "https://orders.internal/api/v1/order/7d1c", OrderID: "7d1c"}, nil,
		fxpubsub.Opaque{"x-request-id": "4f3e", "x-request-published": "1700000000.123456"})
	if err != nil {
		b.Fatal(err)
	}
	if err := awstest.SendCopies(context.Background(), client, url, string(body), nil, n, 1); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDaemonMemory measures end-to-end handling through the in-memory backend with a no-op
// handler: receive (10 per call), decode and validate, dispatch, result log (JSON, discarded),
// batched delete. One op is one message.
func BenchmarkDaemonMemory(b *testing.B) {
	for _, conc := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) { benchDaemon(b, conc, nil) })
	}
}

// benchDaemon drains b.N preloaded messages with a daemon of concurrency conc (and telemetry tel,
// which may be nil) and reports msg/s, CPU and calls per message.
func benchDaemon(b *testing.B, conc int, tel *fxpubsub.Telemetry) {
	mem := pubsubmem.New()
	defer mem.Close()
	ctx := context.Background()
	q, err := mem.SQS().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT))
	preload(b, mem.SQS(), reg, url, b.N)
	cons, err := fxpubsub.NewConsumer(mem.SQS(), reg, url, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	var handled atomic.Int64
	done := make(chan struct{})
	n := int64(b.N)
	reg1, _ := fxpubsub.NewRegistration[orderCreated](orderMT, fxpubsub.HandlerFunc[orderCreated](func(context.Context, *orderCreated) error {
		if handled.Add(1) == n {
			close(done)
		}
		return nil
	}))
	handlers, _ := fxpubsub.NewHandlerRegistry(reg1)
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{EnableTTL: true, Logger: discardLogger(), Telemetry: tel})
	receivers := max(1, min(4, conc/10+1))
	d := fxpubsub.NewDaemon(cons, disp, fxpubsub.DaemonOptions{Receivers: receivers, Concurrency: conc, VisibilityTimeout: 30 * time.Second, Telemetry: tel})
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	_ = d.Start(ctx)
	<-done
	elapsed := time.Since(start)
	b.StopTimer()
	if err := d.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	st := d.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
	b.ReportMetric(float64(st.ReceiveCalls)/float64(b.N), "receives/msg")
	b.ReportMetric(float64(st.DeleteBatchCalls)/float64(b.N), "deletes/msg")
}
