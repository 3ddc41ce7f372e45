package faults

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// TestScaleOutTwoProcesses (issue 13, goal 4): SQS spreads the work of one queue over replicas.
// Two processes of the example daemon (examples/simple, built with go build, default settings)
// consume one fauxqs queue while 3,000 messages are published through SNS. Every message is
// handled exactly once (0 lost, 0 duplicates), both processes handle a share (at least 10% each),
// the queue ends empty, and both stop on SIGTERM with exit code 0.
func TestScaleOutTwoProcesses(t *testing.T) {
	tg := awstest.Fauxqs(t)
	pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "scaleout"})
	dir := t.TempDir()
	bin, err := BuildExample(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[simpleMsg](simpleMT))
	if err != nil {
		t.Fatal(err)
	}
	topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
	producer := fxpubsub.NewProducer(newSNS(t, tg.Endpoint, clientOptions{RequestTimeout: 10 * time.Second}), reg, topics, fxpubsub.ProducerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ledger := NewLedger()
	var (
		mu      sync.Mutex
		badLine []string
		shares  [2]atomic.Int64
	)
	args := []string{"--sqs-queue-url", pipe.QueueURL, "--set", "sqs_consumer.endpoint_url=" + tg.Endpoint, "--set", "sns_producer.endpoint_url=" + tg.Endpoint}
	env := []string{"AWS_REGION=" + awstest.Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"}
	var children [2]*Child
	for i := range children {
		stderr := filepath.Join(dir, fmt.Sprintf("daemon%d.stderr", i))
		keepLog(t, stderr)
		child, err := StartChild(bin, args, env, stderr, func(line string) {
			m := resultLineRe.FindStringSubmatch(line)
			if m == nil || m[1] != "SUCCEEDED" {
				mu.Lock()
				badLine = append(badLine, line)
				mu.Unlock()
				return
			}
			shares[i].Add(1)
			ledger.Handled(m[3])
		})
		if err != nil {
			t.Fatal(err)
		}
		children[i] = child
		defer func() {
			select {
			case <-child.Done():
			default:
				_ = child.Kill()
			}
		}()
	}

	var expected []string
	publish := func(n int) {
		msgs := make([]fxpubsub.Outgoing, 0, n)
		for range n {
			k := fmt.Sprintf("scaleout-%05d", len(expected))
			expected = append(expected, k)
			msgs = append(msgs, fxpubsub.Outgoing{MediaType: simpleMT, Content: simpleMsg{Message: k, Timestamp: float64(time.Now().UnixMicro()) / 1e6}})
		}
		if _, err := producer.ProduceBatch(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	// Both processes are polling once each has handled a message: until then, a batch at a time.
	for shares[0].Load() == 0 || shares[1].Load() == 0 {
		if ctx.Err() != nil || len(expected) >= 1000 {
			t.Fatalf("after %d messages, the processes handled %d and %d: one is not consuming", len(expected), shares[0].Load(), shares[1].Load())
		}
		publish(10)
		waitFor(2*time.Second, func() bool { return ledger.Distinct() == len(expected) })
	}
	warmup := len(expected)
	publish(3000 - warmup)
	if !ledger.WaitAll(expected, ctx.Done()) {
		r := ledger.Check(expected)
		t.Fatalf("not every message was handled: %s; e.g. lost %v", r, r.Lost)
	}
	if !waitFor(30*time.Second, func() bool {
		v, inflight, err := queueDepth(ctx, tg.SQS, pipe.QueueURL)
		return err == nil && v == 0 && inflight == 0
	}) {
		v, inflight, _ := queueDepth(ctx, tg.SQS, pipe.QueueURL)
		t.Errorf("queue not empty after everything was handled: %d visible, %d in flight", v, inflight)
	}
	for i, child := range children {
		took, err := child.Terminate(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code := child.ExitCode(); code != 0 {
			t.Errorf("process %d: exit code %d after SIGTERM, want 0", i, code)
		}
		t.Logf("process %d: handled %d, SIGTERM exit in %s", i, shares[i].Load(), took.Round(time.Millisecond))
	}
	r := ledger.Check(expected)
	t.Logf("%s (the first %d published a batch at a time until both processes had handled one)", r, warmup)
	if r.LostCount > 0 || r.Duplicates > 0 || r.Unexpected > 0 {
		t.Errorf("want 0 lost, 0 duplicates, 0 unexpected: %s", r)
	}
	for i := range shares {
		if s := shares[i].Load(); s < int64(len(expected))/10 {
			t.Errorf("process %d handled %d of %d, want at least 10%%", i, s, len(expected))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(badLine) > 0 {
		t.Errorf("%d unexpected result lines, e.g. %q", len(badLine), badLine[0])
	}
}
