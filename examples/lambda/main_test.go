package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	if code == 0 {
		if err := goleak.Find(awstest.GoleakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// bootstrap compiles this example once per test binary, as the function's bootstrap.
func bootstrap(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "lambda-example-"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, "bootstrap"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "bootstrap")
}

// rieBinary is the AWS Lambda Runtime Interface Emulator that scripts/test.sh builds
// (scripts/rie-build.sh) and names in PUBSUB_RIE.
func rieBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PUBSUB_RIE")
	if path == "" {
		msg := "PUBSUB_RIE is not set: run the tests with scripts/test.sh, which builds the AWS Lambda Runtime Interface Emulator (scripts/rie-build.sh)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("PUBSUB_RIE=%s: %v (build it with scripts/rie-build.sh)", path, err)
	}
	return path
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// function is the compiled example running under the emulator.
type function struct {
	addr string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startFunction runs the example under the emulator on free loopback ports, with env added to
// the test's environment, and stops it when the test ends.
func startFunction(t *testing.T, env ...string) *function {
	t.Helper()
	rie, boot := rieBinary(t), bootstrap(t)
	f := &function{addr: freePort(t), logs: &syncBuffer{}}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", f.addr, "--runtime-api-address", freePort(t), boot)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f.logs, f.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", f.logs.String())
		}
	})
	if !awstest.Eventually(10*time.Second, 20*time.Millisecond, func() bool {
		c, err := net.Dial("tcp", f.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("the emulator did not listen on %s:\n%s", f.addr, f.logs.String())
	}
	return f
}

// invoke posts ev to the function and returns its partial batch response.
func (f *function) invoke(t *testing.T, ev any) events.SQSEventResponse {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+f.addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: %d %s %v", resp.StatusCode, raw, err)
	}
	var out events.SQSEventResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %s: %v", raw, err)
	}
	if out.BatchItemFailures == nil {
		t.Fatalf("response %s has no batchItemFailures list", raw)
	}
	return out
}

const simpleMT = "application/vnd.globality.pubsub.simple"

func simpleBody(text string, opaque map[string]string) string {
	if opaque == nil {
		opaque = map[string]string{}
	}
	b, _ := json.Marshal(map[string]any{"mediaType": simpleMT, "message": text, "timestamp": 1, "opaqueData": opaque})
	return string(b)
}

func snsBody(inner string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": "0b1f", "TopicArn": "arn:aws:sns:us-east-1:000000000000:simple",
		"Message": inner, "Timestamp": "2026-01-01T00:00:00.000Z",
	})
	return string(b)
}

func rec(id, body, arn string, attrs map[string]string) events.SQSMessage {
	if attrs == nil {
		attrs = map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"}
	}
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body, Attributes: attrs,
		EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: "us-east-1"}
}

func failed(r events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// TestFunctionUnderEmulator invokes the compiled example under the AWS Lambda Runtime Interface
// Emulator, over HTTP, with every kind of record.
func TestFunctionUnderEmulator(t *testing.T) {
	f := startFunction(t, "EXAMPLE__TESTING=true", "EXAMPLE__SQS_MESSAGE_CONTEXT__ENABLE_TTL=true", "EXAMPLE__LOGGING__LEVEL=warn")
	const arn = "arn:aws:sqs:us-east-1:000000000000:simple"

	// The warm-up ping (the original's {"warm": true}) and an empty event do nothing.
	for _, ev := range []any{map[string]bool{"warm": true}, events.SQSEvent{}} {
		if got := failed(f.invoke(t, ev)); len(got) != 0 {
			t.Fatalf("warm-up: failures %v", got)
		}
	}

	got := failed(f.invoke(t, events.SQSEvent{Records: []events.SQSMessage{
		rec("good-raw", simpleBody("hello", nil), arn, nil),
		rec("good-sns", snsBody(simpleBody("hello", nil)), arn, nil),
		rec("fail-raw", simpleBody("fail", nil), arn, nil),
		rec("fail-sns", snsBody(simpleBody("fail", nil)), arn, nil),
		rec("panic", simpleBody("panic", nil), arn, nil),
		rec("retry", simpleBody("retry", nil), arn, nil),
		rec("undecodable", `{"mediaType":"`+simpleMT+`","message":`, arn, nil),
		rec("invalid", `{"mediaType":"`+simpleMT+`","message":"no timestamp"}`, arn, nil),
		rec("expired", simpleBody("loop", map[string]string{"x-request-ttl": "1"}), arn, nil),
		rec("unknown", `{"mediaType":"application/vnd.globality.pubsub._.created.unknown_thing","uri":"https://x/1"}`, arn, nil),
	}}))
	want := []string{"fail-raw", "fail-sns", "panic", "retry", "undecodable", "invalid"}
	if !slices.Equal(got, want) {
		t.Fatalf("batchItemFailures %v, want %v", got, want)
	}

	// FIFO: a group's records after its first failure are reported without running.
	const fifoARN = "arn:aws:sqs:us-east-1:000000000000:simple.fifo"
	g := func(group string) map[string]string {
		return map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": group}
	}
	got = failed(f.invoke(t, events.SQSEvent{Records: []events.SQSMessage{
		rec("a1", simpleBody("a1", nil), fifoARN, g("a")),
		rec("b1", simpleBody("b1", nil), fifoARN, g("b")),
		rec("a2", simpleBody("fail", nil), fifoARN, g("a")),
		rec("b2", simpleBody("b2", nil), fifoARN, g("b")),
		rec("a3", simpleBody("a3", nil), fifoARN, g("a")),
	}}))
	if want := []string{"a2", "a3"}; !slices.Equal(got, want) {
		t.Fatalf("FIFO batchItemFailures %v, want %v", got, want)
	}
}
