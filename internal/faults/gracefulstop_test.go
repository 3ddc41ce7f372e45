package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// envHelper makes the test binary run helperDaemon as a child daemon instead of its tests (see
// TestMain).
const envHelper = "PUBSUB_FAULTS_HELPER"

// helperDaemon runs, in a child process (envHelper=1), a daemon like examples/simple, built by
// fxpubsub.Main, whose handler prints "START key", takes PUBSUB_FAULTS_HANDLE (default 1.5 s, cut
// short if its context ends) and whose result hook prints "RESULT key". The arguments after "--"
// go to fxpubsub.Main; it returns Main's exit code.
func helperDaemon() int {
	delay, err := time.ParseDuration(os.Getenv("PUBSUB_FAULTS_HANDLE"))
	if err != nil {
		delay = 1500 * time.Millisecond
	}
	var args []string
	for i, a := range os.Args {
		if a == "--" {
			args = os.Args[i+1:]
		}
	}
	var mu sync.Mutex
	println := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", a...)
	}
	return fxpubsub.Main("faults-helper", args,
		fxpubsub.AsHandlerFunc[item](itemMT, func(ctx context.Context, it *item) error {
			println("START %s", it.Key)
			select {
			case <-time.After(delay):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}),
		fxpubsub.AsResultHook(func() fxpubsub.ResultHook {
			return func(_ context.Context, m *fxpubsub.Message, r fxpubsub.Result) {
				if it, ok := fxpubsub.ContentAs[item](m); ok {
					println("%s %s", r.Type, it.Key)
				}
			}
		}),
	)
}

// TestGracefulStopUnderLoad (issue 6, item 4): a daemon process (fxpubsub.Main with a 1.5 s
// handler, 8 workers, 2 receivers, default 20 s long polls and 10 s drain timeout) gets SIGTERM
// while all 8 workers are busy and 100 messages wait in a queue whose visibility timeout is 30 s.
// It proves: the process exits 0 well within the drain deadline; every handler that was running
// finished and its message was deleted (none of the handled messages is ever delivered again);
// nothing else was held: right after exit every unhandled message is visible again at once (not
// after the 30 s visibility timeout), nothing is in flight.
func TestGracefulStopUnderLoad(t *testing.T) {
	tg := awstest.Fauxqs(t)
	pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "stop", VisibilityTimeout: 30})
	reg := newRegistry(t)
	topics, _ := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
	producer := fxpubsub.NewProducer(newSNS(t, tg.Endpoint, clientOptions{RequestTimeout: 10 * time.Second}), reg, topics, fxpubsub.ProducerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 100
	expected := keys("stop", n)
	if bad := publishAll(ctx, producer, expected, 2); len(bad) > 0 {
		t.Fatalf("publish: %v", bad)
	}
	if !waitFor(10*time.Second, func() bool { v, _, err := queueDepth(ctx, tg.SQS, pipe.QueueURL); return err == nil && v == n }) {
		t.Fatal("messages did not arrive in the queue")
	}

	var (
		mu        sync.Mutex
		started   = map[string]bool{}
		succeeded = map[string]int{}
		other     []string
	)
	inFlight := func() int {
		mu.Lock()
		defer mu.Unlock()
		busy := 0
		for k := range started {
			if succeeded[k] == 0 {
				busy++
			}
		}
		return busy
	}
	onLine := func(line string) {
		kind, key, _ := strings.Cut(line, " ")
		mu.Lock()
		defer mu.Unlock()
		switch kind {
		case "START":
			started[key] = true
		case "SUCCEEDED":
			succeeded[key]++
		default:
			other = append(other, line)
		}
	}
	dir := t.TempDir()
	stderr := filepath.Join(dir, "helper.stderr")
	keepLog(t, stderr)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--", "--sqs-queue-url", pipe.QueueURL,
		"--set", "sqs_consumer.endpoint_url=" + tg.Endpoint, "--set", "sns_producer.endpoint_url=" + tg.Endpoint,
		"--set", "sqs_consumer.concurrency=8", "--set", "sqs_consumer.receivers=2"}
	env := []string{envHelper + "=1", "AWS_REGION=" + awstest.Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"}
	child, err := StartChild(self, args, env, stderr, onLine)
	if err != nil {
		t.Fatal(err)
	}
	// The second wave of 8 is running: the pool is full; 300 ms into it, stop.
	if !waitFor(30*time.Second, func() bool {
		mu.Lock()
		s := len(started)
		mu.Unlock()
		return s >= 16 && inFlight() == 8
	}) {
		_ = child.Kill()
		t.Fatalf("the worker pool never filled: %d started, %d in flight", len(started), inFlight())
	}
	<-time.After(300 * time.Millisecond)
	busy := inFlight()
	mu.Lock()
	startedAtTerm := len(started)
	mu.Unlock()
	took, err := child.Terminate(15 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	code := child.ExitCode()
	v, inflight, qerr := queueDepth(ctx, tg.SQS, pipe.QueueURL)
	if qerr != nil {
		t.Fatal(qerr)
	}
	mu.Lock()
	handled := len(succeeded)
	unfinished := []string{}
	for k := range started {
		if succeeded[k] == 0 {
			unfinished = append(unfinished, k)
		}
	}
	mu.Unlock()
	t.Logf("item 4: SIGTERM with %d of 8 workers busy (%d started): exit %d in %s; %d handled, %d unfinished; right after exit: %d visible, %d in flight",
		busy, startedAtTerm, code, took.Round(time.Millisecond), handled, len(unfinished), v, inflight)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if took > 10*time.Second {
		t.Errorf("exit took %s, beyond the 10 s drain deadline", took)
	}
	if busy != 8 {
		t.Errorf("the pool was not full at SIGTERM: %d busy", busy)
	}
	if len(unfinished) > 0 {
		t.Errorf("handlers running at SIGTERM did not finish: %v", unfinished)
	}
	if inflight != 0 || v != n-handled {
		t.Errorf("after exit: %d visible, %d in flight; want %d visible (every unhandled message returned at once) and 0 in flight", v, inflight, n-handled)
	}
	if len(other) > 0 {
		t.Errorf("unexpected output lines: %q", other)
	}

	// Everything left is delivered; none of it was handled before (no redelivery of a handled
	// message beyond the at-least-once minimum, which here is zero).
	rest := map[string]int{}
	for len(rest) < n-handled && ctx.Err() == nil {
		out, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(pipe.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			key := extractKey(aws.ToString(m.Body))
			rest[key]++
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := tg.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(pipe.QueueURL), Entries: del}); err != nil {
				t.Fatal(err)
			}
		}
	}
	redelivered := 0
	mu.Lock()
	for k := range rest {
		if succeeded[k] > 0 {
			redelivered++
		}
	}
	mu.Unlock()
	t.Logf("after the stop: %d remaining messages received, %d of them had been handled", len(rest), redelivered)
	if redelivered > 0 || len(rest)+handled != n {
		t.Errorf("%d handled messages were redelivered; %d remaining + %d handled != %d published", redelivered, len(rest), handled, n)
	}
}

// extractKey finds "key":"…" in a message body (the SNS envelope's Message is JSON in a string,
// so the quotes may be escaped).
func extractKey(body string) string {
	body = strings.ReplaceAll(body, `\"`, `"`)
	i := strings.Index(body, `"key":"`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`"key":"`):]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}
