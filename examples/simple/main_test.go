package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }

// syncBuffer is an io.Writer the daemon's workers and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sortedLines returns the non-empty lines of s, sorted (handlers run concurrently, so the order of
// result lines is not fixed).
func sortedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// runWithin runs the example with a deadline and returns its exit code and output.
func runWithin(t *testing.T, within time.Duration, args []string, stdin string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var out, errOut syncBuffer
	code = run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	if ctx.Err() != nil {
		t.Fatalf("run only returned because the test's deadline passed; stdout:\n%s", out.String())
	}
	return code, out.String(), errOut.String()
}

var resultLine = regexp.MustCompile(`^SUCCEEDED [0-9a-f-]{36} "Hello, world! \((\d) of 5\)"$`)

// TestDemo is `go run ./examples/simple`: publish five messages on the in-memory backend, print
// one result line for each, exit 0.
func TestDemo(t *testing.T) {
	code, stdout, stderr := runWithin(t, 30*time.Second, nil, "")
	if code != fxpubsub.ExitOK || stderr != fallbackNote+"\n" {
		t.Fatalf("exit %d, stderr %q; want 0 and only the note that this is the in-memory demo", code, stderr)
	}
	lines := sortedLines(stdout)
	if len(lines) != demoMessages {
		t.Fatalf("got %d result lines, want %d:\n%s", len(lines), demoMessages, stdout)
	}
	seen := map[string]int{}
	for _, l := range lines {
		m := resultLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q, want SUCCEEDED <message id> \"Hello, world! (n of 5)\"", l)
			continue
		}
		seen[m[1]]++
	}
	for i := 1; i <= demoMessages; i++ {
		if seen[fmt.Sprint(i)] != 1 {
			t.Errorf("message %d of 5 printed %d times, want once:\n%s", i, seen[fmt.Sprint(i)], stdout)
		}
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runWithin(t, 10*time.Second, []string{"--help"}, "")
	if code != fxpubsub.ExitOK || !strings.Contains(stdout, "Usage: example [flags]") {
		t.Fatalf("exit %d, stdout:\n%s", code, stdout)
	}
}

// TestStdinReplay replays JSON lines: good messages SUCCEEDED, a malformed line and an invalid
// message FAILED, and the daemon exits 0 at the end of the input.
func TestStdinReplay(t *testing.T) {
	input := strings.Join([]string{
		`{"mediaType":"application/vnd.globality.pubsub.simple","message":"one","timestamp":1.5}`,
		`{"Body":"{\"mediaType\":\"application/vnd.globality.pubsub.simple\",\"message\":\"two\",\"timestamp\":2}","MessageId":"m-2"}`,
		`{"mediaType":"application/vnd.globality.pubsub.simple","message":`,
		`{"mediaType":"application/vnd.globality.pubsub.simple","message":"no timestamp"}`,
	}, "\n")
	code, stdout, stderr := runWithin(t, 30*time.Second, []string{"--stdin", "--set", "logging.level=error"}, input)
	if code != fxpubsub.ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	lines := sortedLines(stdout)
	want := []string{
		`FAILED    replay-3 decode message: malformed JSON`,
		`FAILED    replay-4 decode message "application/vnd.globality.pubsub.simple": field "timestamp"`,
		`SUCCEEDED m-2 "two"`,
		`SUCCEEDED replay-1 "one"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d result lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %q, want it to start with %q", lines[i], want[i])
		}
	}
}

// TestFauxqs runs the example as a real daemon against the fauxqs emulator: messages published to
// SNS arrive through an SQS subscription (SNS envelope), are handled, and cancelling the context
// (the in-process SIGTERM) drains and exits 0.
func TestFauxqs(t *testing.T) {
	tg := awstest.Fauxqs(t)
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "example"})
	ctx := context.Background()

	registry, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[SimpleSchema](SimpleMediaType))
	if err != nil {
		t.Fatal(err)
	}
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": p.TopicARN})
	if err != nil {
		t.Fatal(err)
	}
	producer := fxpubsub.NewProducer(tg.SNS, registry, topics, fxpubsub.ProducerOptions{})
	for i := range 3 {
		if _, err := producer.Produce(ctx, SimpleMediaType, SimpleSchema{Message: fmt.Sprintf("from sns %d", i), Timestamp: 1}); err != nil {
			t.Fatal(err)
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{
			"--sqs-queue-url", p.QueueURL,
			"--set", "sqs_consumer.endpoint_url=" + tg.Endpoint,
			"--set", "sns_producer.endpoint_url=" + tg.Endpoint,
			"--set", "sns_topic_arns.default=" + p.TopicARN,
			"--set", "logging.level=warn",
		}, strings.NewReader(""), &out, &errOut)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(out.String(), "SUCCEEDED") < 3 {
		select {
		case code := <-done:
			t.Fatalf("daemon exited early with %d; stderr %q, stdout:\n%s", code, errOut.String(), out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all messages handled; stdout:\n%s", out.String())
		}
	}
	stop()
	select {
	case code := <-done:
		if code != fxpubsub.ExitOK || errOut.String() != "" {
			t.Fatalf("exit %d, stderr %q; want 0 after the stop", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop after its context was cancelled")
	}
	lines := sortedLines(out.String())
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (each message once):\n%s", len(lines), out.String())
	}
	for i := range 3 {
		want := fmt.Sprintf("%q", fmt.Sprintf("from sns %d", i))
		if n := strings.Count(out.String(), want+"\n"); n != 1 {
			t.Errorf("message %s handled %d times, want once:\n%s", want, n, out.String())
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "SUCCEEDED ") {
			t.Errorf("line %q, want SUCCEEDED", l)
		}
	}
}

func TestSimpleHandlerUsesCollaborator(t *testing.T) {
	c := NewCollaborator()
	h := NewSimpleHandler(c)
	if err := h.Handle(context.Background(), &SimpleSchema{Message: "hi", Timestamp: 1}); err != nil {
		t.Fatal(err)
	}
	if got := c.Seen(); len(got) != 1 || got[0] != "hi" {
		t.Fatalf("collaborator saw %v, want [hi]", got)
	}
}

func TestQueueGiven(t *testing.T) {
	tests := []struct {
		give    []string
		environ []string
		want    bool
	}{
		{give: nil, want: false},
		{give: []string{"--debug", "--health-addr", "127.0.0.1:0"}, want: false},
		{give: []string{"--set", "logging.level=debug"}, want: false},
		{give: []string{"--sqs-queue-url", "q"}, want: true},
		{give: []string{"-sqs-queue-url=q"}, want: true},
		{give: []string{"--stdin"}, want: true},
		{give: []string{"--config", "x.yaml"}, want: true},
		{give: []string{"--set", "sqs_consumer.sqs_queue_url=q"}, want: true},
		{give: []string{"--set=sqs_consumer.sqs_queue_url=q"}, want: true},
		{environ: []string{"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL=q"}, want: true},
		{environ: []string{"EXAMPLE__SETTINGS=/etc/example.yaml"}, want: true},
		{environ: []string{"EXAMPLE__SQS_CONSUMER__SQS_QUEUE_URL="}, want: false},
		{give: []string{"--", "--stdin"}, want: false},
	}
	for _, tt := range tests {
		if got := queueGiven(tt.give, tt.environ); got != tt.want {
			t.Errorf("queueGiven(%q, %q) = %v, want %v", tt.give, tt.environ, got, tt.want)
		}
	}
}
