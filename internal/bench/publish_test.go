package bench

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// publishMessages is one op of BenchmarkPublishFauxqs.
const publishMessages = 10_000

// snsActions are the SNS actions reported for every publish variant, zero or not.
var snsActions = []string{"Publish", "PublishBatch"}

// publishFunc publishes n messages through client to topic from its goroutines and returns the
// number that failed.
type publishFunc func(b *testing.B, client *sns.Client, topic string, n int) int64

// BenchmarkPublishFauxqs publishes 10,000 messages to a fauxqs topic with a raw-delivery SQS
// subscription (issue 13, goal 2), side by side with a hand-tuned aws-sdk-go-v2 loop:
//
//   - loop: 8 goroutines, each json.Marshal-ing 10 messages (content, media type, opaque data) into
//     one PublishBatch with the media_type attribute;
//   - produce8: 8 goroutines calling Producer.Produce, one message per call (natural batching);
//   - producebatch8: 8 goroutines calling Producer.ProduceBatch with 10 messages;
//   - produce64: 64 goroutines calling Producer.Produce (a daemon's handlers producing follow-ups).
//
// The producers run at default options with the production JSON logger (caller on) writing to
// /dev/null. One op is one run of 10,000 messages; the topic and queue are new for each op.
func BenchmarkPublishFauxqs(b *testing.B) {
	b.Run("loop", func(b *testing.B) { benchPublish(b, publishLoop) })
	b.Run("produce8", func(b *testing.B) { benchPublish(b, produceFrom(8, 1)) })
	b.Run("producebatch8", func(b *testing.B) { benchPublish(b, produceFrom(8, 10)) })
	b.Run("produce64", func(b *testing.B) { benchPublish(b, produceFrom(64, 1)) })
}

func benchPublish(b *testing.B, publish publishFunc) {
	tg := fauxqsTarget(b)
	var (
		elapsed, cpu, emuCPU time.Duration
		calls                = map[string]int64{}
		failed               int64
		load                 float64
	)
	for range b.N {
		b.StopTimer()
		pipe := tg.Pipeline(b, awstest.PipelineOptions{Prefix: "bench-pub", Raw: true})
		counter := newCallCounter()
		client := newSNSClient(b, tg.Endpoint, counter)
		quiesce()
		b.StartTimer()
		stopProfile := startDrainProfile(b)
		cpu0, emu0, start := cpuTime(), procCPU(emulatorPID()), time.Now()
		failed += publish(b, client, pipe.TopicARN, publishMessages)
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		stopProfile()
		emuCPU += procCPU(emulatorPID()) - emu0
		b.StopTimer()
		got, _ := counter.snapshot()
		for k, v := range got {
			calls[k] += v
		}
		load = max(load, load1())
		if depth := waitDepth(b, tg, pipe.QueueURL, publishMessages); depth != publishMessages {
			b.Errorf("queue holds %d messages after the run, want %d", depth, publishMessages)
		}
	}
	msgs := int64(b.N) * publishMessages
	if failed > 0 {
		b.Errorf("%d of %d publishes failed", failed, msgs)
	}
	b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(cpu.Seconds()/float64(msgs)*1e6, "cpu-µs/msg")
	if emulatorPID() > 0 {
		b.ReportMetric(emuCPU.Seconds()/float64(msgs)*1e6, "emu-cpu-µs/msg")
	}
	reportCalls(b, "", calls, msgs, snsActions...)
	b.ReportMetric(load, "load1")
}

// waitDepth waits until the queue holds want messages (fauxqs delivers after Publish returns) or
// 30 s pass, and returns the depth last seen.
func waitDepth(b *testing.B, tg awstest.Target, url string, want int) int {
	depth := 0
	waitUntil(30*time.Second, func() bool { depth = queueDepth(b, tg.SQS, url); return depth >= want })
	return depth
}

// loopMessage is what the hand-tuned loop encodes: the library's wire format, minus validation.
type loopMessage struct {
	MediaType string `json:"mediaType"`
	benchOrder
	OpaqueData map[string]string `json:"opaqueData"`
}

// publishLoop is the hand-tuned loop: 8 goroutines, each encoding 10 messages and sending them
// in one PublishBatch, until n are sent.
func publishLoop(b *testing.B, client *sns.Client, topic string, n int) int64 {
	const goroutines = 8
	var (
		next, failed atomic.Int64
		wg           sync.WaitGroup
	)
	attrs := map[string]snstypes.MessageAttributeValue{
		fxpubsub.MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(benchMT)},
	}
	ids := make([]*string, 10)
	for i := range ids {
		ids[i] = aws.String(strconv.Itoa(i))
	}
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries := make([]snstypes.PublishBatchRequestEntry, 0, 10)
			for {
				first := next.Add(10) - 10
				if first >= int64(n) {
					return
				}
				entries = entries[:0]
				for i := range min(10, int64(n)-first) {
					body, err := json.Marshal(loopMessage{MediaType: benchMT, benchOrder: sampleOrder, OpaqueData: map[string]string{
						"x-request-id": "4f3e9a2b", "x-request-published": strconv.FormatFloat(float64(time.Now().UnixMicro())/1e6, 'f', 6, 64),
					}})
					if err != nil {
						b.Error(err)
						return
					}
					entries = append(entries, snstypes.PublishBatchRequestEntry{Id: ids[i], Message: aws.String(string(body)), MessageAttributes: attrs})
				}
				out, err := client.PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: entries})
				if err != nil {
					failed.Add(int64(len(entries)))
					continue
				}
				failed.Add(int64(len(out.Failed)))
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

// produceFrom returns a publishFunc with goroutines calling Produce (per == 1) or ProduceBatch
// with per messages, on a producer at default options.
func produceFrom(goroutines, per int) publishFunc {
	return func(b *testing.B, client *sns.Client, topic string, n int) int64 {
		topics, err := fxpubsub.NewTopicMap(map[string]any{"default": topic})
		if err != nil {
			b.Fatal(err)
		}
		prod := fxpubsub.NewProducer(client, newRegistry(b), topics, fxpubsub.ProducerOptions{Logger: shippedLogger(b)})
		batch := make([]fxpubsub.Outgoing, per)
		for i := range batch {
			batch[i] = fxpubsub.Outgoing{MediaType: benchMT, Content: &sampleOrder}
		}
		ctx := context.Background()
		var (
			next, failed atomic.Int64
			wg           sync.WaitGroup
		)
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					first := next.Add(int64(per)) - int64(per)
					if first >= int64(n) {
						return
					}
					if per == 1 {
						if _, err := prod.Produce(ctx, benchMT, &sampleOrder); err != nil {
							failed.Add(1)
						}
						continue
					}
					results, _ := prod.ProduceBatch(ctx, batch[:min(int64(per), int64(n)-first)])
					for _, r := range results {
						if r.Err != nil {
							failed.Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		return failed.Load()
	}
}

// shippedLogger is the production logger as fxconfig builds it (JSON, caller on, info level),
// writing to /dev/null, a real file descriptor.
func shippedLogger(b *testing.B) *zap.Logger {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(f), zapcore.InfoLevel), zap.AddCaller())
}
