package faults

import (
	"context"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// simpleMT and simpleMsg are examples/simple's schema (SimpleSchema), as a publisher outside that
// program sees it.
const simpleMT = "application/vnd.globality.pubsub.simple"

type simpleMsg struct {
	Message   string  `json:"message" validate:"required"`
	Timestamp float64 `json:"timestamp" validate:"required"`
}

// resultLineRe is examples/simple's result line: RESULT MESSAGE-ID "TEXT".
var resultLineRe = regexp.MustCompile(`^(\S+)\s+(\S+) "(.*)"$`)

// TestCrashAndRestart (issue 6, item 3): the example daemon (examples/simple, built with go build)
// runs as a child process against fauxqs with its default settings; 3,000 messages were
// published through SNS. It is killed with SIGKILL twice while its handlers are mid-flight
// (messages handled but not yet deleted, received but not yet handled, long polls open), and
// restarted each time. It proves every published message is eventually handled (duplicates
// allowed and counted: the at-least-once cost of a crash), none lost, the queue ends empty, and
// the last run stops on SIGTERM with exit code 0.
func TestCrashAndRestart(t *testing.T) {
	tg := awstest.Fauxqs(t)
	pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "crash", VisibilityTimeout: 2})
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
	const n = 3000
	expected := keys("crash", n)
	msgs := make([]fxpubsub.Outgoing, 0, 10)
	for i, k := range expected {
		msgs = append(msgs, fxpubsub.Outgoing{MediaType: simpleMT, Content: simpleMsg{Message: k, Timestamp: float64(time.Now().UnixMicro()) / 1e6}})
		if len(msgs) == 10 || i == n-1 {
			if _, err := producer.ProduceBatch(ctx, msgs); err != nil {
				t.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}

	ledger := NewLedger()
	var (
		mu      sync.Mutex
		badLine []string
	)
	onLine := func(line string) {
		m := resultLineRe.FindStringSubmatch(line)
		if m == nil || m[1] != "SUCCEEDED" {
			mu.Lock()
			badLine = append(badLine, line)
			mu.Unlock()
			return
		}
		ledger.Handled(m[3])
	}
	stderr := filepath.Join(dir, "daemon.stderr")
	keepLog(t, stderr)
	args := []string{"--sqs-queue-url", pipe.QueueURL, "--set", "sqs_consumer.endpoint_url=" + tg.Endpoint, "--set", "sns_producer.endpoint_url=" + tg.Endpoint}
	env := []string{"AWS_REGION=" + awstest.Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"}

	// Two crashes: after about a sixth and about half of the messages were handled.
	for run, killAt := range []int{n / 6, n / 2} {
		child, err := StartChild(bin, args, env, stderr, onLine)
		if err != nil {
			t.Fatal(err)
		}
		if !waitFor(time.Minute, func() bool { return ledger.Distinct() >= killAt }) {
			_ = child.Kill()
			t.Fatalf("run %d: only %d messages handled", run+1, ledger.Distinct())
		}
		if err := child.Kill(); err != nil {
			t.Fatal(err)
		}
		sig, ok := child.Signaled()
		t.Logf("run %d: SIGKILL after %d handled (distinct %d): killed by signal %v (%v)", run+1, ledger.Total(), ledger.Distinct(), sig, ok)
		if !ok {
			t.Fatalf("run %d: child exited with %d before the kill", run+1, child.ExitCode())
		}
	}
	child, err := StartChild(bin, args, env, stderr, onLine)
	if err != nil {
		t.Fatal(err)
	}
	if !ledger.WaitAll(expected, ctx.Done()) {
		_ = child.Kill()
		r := ledger.Check(expected)
		t.Fatalf("after two crashes not every message was handled: %s; e.g. lost %v", r, r.Lost)
	}
	if !waitFor(30*time.Second, func() bool {
		v, inflight, err := queueDepth(ctx, tg.SQS, pipe.QueueURL)
		return err == nil && v == 0 && inflight == 0
	}) {
		v, inflight, _ := queueDepth(ctx, tg.SQS, pipe.QueueURL)
		t.Errorf("queue not empty after everything was handled: %d visible, %d in flight", v, inflight)
	}
	took, err := child.Terminate(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code := child.ExitCode(); code != 0 {
		t.Errorf("final run: exit code %d after SIGTERM, want 0", code)
	}
	r := ledger.Check(expected)
	t.Logf("item 3: %s; final SIGTERM exit %d in %s", r, child.ExitCode(), took.Round(time.Millisecond))
	if r.LostCount > 0 || r.Unexpected > 0 {
		t.Errorf("LOST %d (e.g. %v), unexpected %d", r.LostCount, r.Lost, r.Unexpected)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(badLine) > 0 {
		t.Errorf("%d result lines were not SUCCEEDED, e.g. %q", len(badLine), badLine[0])
	}
}
