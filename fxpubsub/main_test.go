package fxpubsub_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/fx"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// TestMain checks for leaked goroutines. Outside scripts/test.sh it sets what that script exports
// (where unset): a region, the emulators' dummy credentials, and the AWS SDK kept off the instance
// metadata service (169.254.169.254, not loopback). Tests of missing credentials or of the metadata
// path set their own (a loopback metadata server).
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		if _, set := os.LookupEnv(k); !set {
			_ = os.Setenv(k, v)
		}
	}
	goleak.VerifyTestMain(m, awstest.GoleakOptions()...)
}

// mainRun is one in-process run of fxpubsub.MainContext.
type mainRun struct {
	code           int
	stdout, stderr string
}

// runMain runs MainContext to completion with ctx, stdin and opts.
func runMain(ctx context.Context, t *testing.T, args []string, stdin string, opts ...fx.Option) mainRun {
	t.Helper()
	var stdout, stderr strings.Builder
	code := fxpubsub.MainContext(ctx, "maintest", args, strings.NewReader(stdin), &stdout, &stderr, opts...)
	return mainRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// startMain runs MainContext in the background and returns a func that cancels its context (the
// in-process SIGTERM) and waits for its result.
func startMain(t *testing.T, args []string, opts ...fx.Option) (stop func() mainRun, done <-chan mainRun) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan mainRun, 1)
	go func() { ch <- runMain(ctx, t, args, "", opts...) }()
	var once sync.Once
	var res mainRun
	stop = func() mainRun {
		once.Do(func() {
			cancel()
			select {
			case res = <-ch:
			case <-time.After(30 * time.Second):
				t.Fatal("MainContext did not return after its context was cancelled")
			}
		})
		return res
	}
	t.Cleanup(func() { stop() })
	return stop, ch
}

// onStart returns an option whose OnStart hook (after the daemon's and the health server's) sends
// on a channel.
func onStart() (fx.Option, <-chan struct{}) {
	ch := make(chan struct{})
	return fx.Invoke(func(lc fx.Lifecycle) {
		lc.Append(fx.StartHook(func() { close(ch) }))
	}), ch
}

// mainResults collects results by message id.
type mainResults struct {
	mu      sync.Mutex
	results map[string]fxpubsub.Result
}

func (l *mainResults) option() fx.Option {
	return fxpubsub.AsResultHook(func() fxpubsub.ResultHook {
		return func(_ context.Context, m *fxpubsub.Message, r fxpubsub.Result) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.results == nil {
				l.results = map[string]fxpubsub.Result{}
			}
			l.results[m.MessageID] = r
		}
	})
}

func (l *mainResults) types() map[string]fxpubsub.ResultType {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]fxpubsub.ResultType{}
	for id, r := range l.results {
		out[id] = r.Type
	}
	return out
}

func expectOneLine(t *testing.T, stderr string, wants ...string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not one line: %q", stderr)
	}
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
}

func TestMainUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "maintest: unknown flag --bogus\n"},
		{"positional argument", []string{"--testing", "queue"}, `maintest: unexpected argument "queue"`},
		{"missing value", []string{"--sqs-queue-url"}, "flag needs an argument: -sqs-queue-url"},
		{"bad envelope", []string{"--envelope", "xml"}, `--envelope: unknown envelope "xml": want codec, raw or naive`},
		{"stdin and queue", []string{"--stdin", "--sqs-queue-url", "q"}, "--stdin and --sqs-queue-url are mutually exclusive"},
		{"bad health address", []string{"--health-addr", "8080"}, "--health-addr: address 8080: missing port in address"},
		{"bad set", []string{"--set", "novalue"}, `want key=value, got "novalue"`},
		{"bad bool", []string{"--testing=maybe"}, "invalid boolean value"},
		{"no processes", []string{"--processes", "0"}, "--processes: must be at least 1, got 0"},
		{"bad healthcheck port", []string{"--healthcheck-port", "70000"}, "--healthcheck-port: must be between 1 and 65535, got 70000"},
		{"two health addresses", []string{"--health-addr", ":8080", "--healthcheck-port", "8081"}, "--health-addr and --healthcheck-host/--healthcheck-port are two spellings of one address"},
		{"bad heartbeat threshold", []string{"--heartbeat-threshold-seconds", "-2"}, "--heartbeat-threshold-seconds: must be -1 (no bound) or more, got -2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(context.Background(), t, tt.args, "")
			if r.code != fxpubsub.ExitUsage {
				t.Fatalf("exit code %d, want %d; stderr %q", r.code, fxpubsub.ExitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.HasSuffix(r.stderr, "Run 'maintest --help' for usage.\n") {
				t.Fatalf("stderr %q, want %q and a pointer to --help", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Fatalf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestMainHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		r := runMain(context.Background(), t, []string{arg}, "")
		if r.code != fxpubsub.ExitOK || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q; want 0 and nothing on stderr", arg, r.code, r.stderr)
		}
		for _, want := range []string{"Usage: maintest [flags]", "--sqs-queue-url queue", "--stdin", "--envelope name",
			"--health-addr addr", "--config path", "--set key=value", "--debug", "--testing", "MAINTEST__<SECTION>__<KEY>"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.stdout)
			}
		}
	}
}

func TestMainStartFailures(t *testing.T) {
	t.Setenv("MAINTEST__SQS_CONSUMER__SQS_QUEUE_URL", "") // empty: ignored
	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"no queue", nil, []string{"maintest: sqs_consumer.sqs_queue_url: is required", "pass --sqs-queue-url"}},
		{"bad config value", []string{"--testing", "--set", "sqs_consumer.limit=ten"}, []string{"maintest: ", `sqs_consumer.limit: cannot convert "ten" to int`}},
		{"missing config file", []string{"--testing", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, []string{"maintest: ", "nope.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(context.Background(), t, tt.args, "")
			if r.code != fxpubsub.ExitFailure {
				t.Fatalf("exit code %d, want 1; stderr %q", r.code, r.stderr)
			}
			expectOneLine(t, r.stderr, tt.wants...)
		})
	}
}

func TestMainStopsOnCancelWithExitZero(t *testing.T) {
	for _, args := range [][]string{{"--testing"}, {"--testing", "--debug", "--sqs-queue-url", "main-debug"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			started, ch := onStart()
			stop, done := startMain(t, args, started)
			select {
			case <-ch:
			case r := <-done:
				t.Fatalf("Main returned early: %+v", r)
			case <-time.After(20 * time.Second):
				t.Fatal("app never started")
			}
			r := stop()
			if r.code != fxpubsub.ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
		})
	}
}

func TestMainConsumesOnMemoryBackend(t *testing.T) {
	var (
		producer *fxpubsub.Producer
		log      mainResults
	)
	handled := make(chan string, 3)
	started, ch := onStart()
	stop, _ := startMain(t, []string{"--testing", "--sqs-queue-url", "main-orders"},
		fxpubsub.AsHandlerFunc(orderMT, func(_ context.Context, c *orderCreated) error {
			handled <- c.OrderID
			return nil
		}),
		log.option(),
		fx.Populate(&producer),
		started,
	)
	<-ch
	for i := range 3 {
		if _, err := producer.Produce(context.Background(), orderMT, orderCreated{URI: "https://orders", OrderID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		select {
		case <-handled:
		case <-time.After(20 * time.Second):
			t.Fatalf("not all messages handled: %v", log.types())
		}
	}
	if r := stop(); r.code != fxpubsub.ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

var replayLines = []string{
	`{"mediaType":"` + orderMT + `","uri":"https://orders/1","order_id":"1"}`,
	`{"Body":"{\"mediaType\":\"` + orderMT + `\",\"uri\":\"https://orders/2\",\"order_id\":\"2\"}","MessageId":"record-2"}`,
	`{"mediaType":"` + orderMT + `","uri":"https://orders/3"`,
	``,
	`{"mediaType":"application/vnd.globality.pubsub._.created.nobody_handles","uri":"https://x"}`,
}

// replayWant: line 3 is cut short (FAILED); line 5 has no handler (IGNORED); line 4 is blank.
var replayWant = map[string]fxpubsub.ResultType{
	"replay-1": fxpubsub.Succeeded, "record-2": fxpubsub.Succeeded, "replay-3": fxpubsub.Failed, "replay-5": fxpubsub.Ignored,
}

func checkResults(t *testing.T, got, want map[string]fxpubsub.ResultType) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("message %s: %v, want %v (all: %v)", id, got[id], w, got)
		}
	}
}

func TestMainReplaysStdin(t *testing.T) {
	for _, args := range [][]string{{"--stdin", "--testing"}, {"--stdin", "--testing", "--envelope", "CodecSQSEnvelope"}, {"--stdin"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var log mainResults
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := runMain(ctx, t, args, strings.Join(replayLines, "\n")+"\n",
				fxpubsub.AsHandlerFunc(orderMT, func(context.Context, *orderCreated) error { return nil }),
				log.option(),
			)
			if r.code != fxpubsub.ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 at the end of input", r.code, r.stderr)
			}
			if ctx.Err() != nil {
				t.Fatal("Main only returned because the test's deadline passed")
			}
			checkResults(t, log.types(), replayWant)
		})
	}
}

func TestMainReplaysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(replayLines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var log mainResults
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// No --testing: a replay needs no AWS (the SNS client is built but never called).
	r := runMain(ctx, t, []string{"--sqs-queue-url", path}, "",
		fxpubsub.AsHandlerFunc(orderMT, func(context.Context, *orderCreated) error { return nil }),
		log.option(),
	)
	if r.code != fxpubsub.ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 at the end of the file", r.code, r.stderr)
	}
	checkResults(t, log.types(), replayWant)
}

// TestMainRawEnvelopeReplay: with --envelope raw every line is any JSON, of media type
// application/json, with no schema; a handler registered with T = any receives it.
func TestMainRawEnvelopeReplay(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{}
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := runMain(ctx, t, []string{"--stdin", "--testing", "--envelope", "raw"}, "[1,2]\n{\"a\":\"b\"}\n",
		fxpubsub.AsHandlerFunc(fxpubsub.RawMediaType, func(ctx context.Context, c *any) error {
			m := fxpubsub.MessageFrom(ctx)
			mu.Lock()
			defer mu.Unlock()
			seen[m.MessageID] = fmt.Sprintf("%s %v", m.MediaType, *c)
			return nil
		}),
	)
	if r.code != fxpubsub.ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{"replay-1": "application/json [1 2]", "replay-2": "application/json map[a:b]"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("saw %v, want %v", seen, want)
	}
}

func TestMainServesHealth(t *testing.T) {
	var hs *fxpubsub.HealthServer
	started, ch := onStart()
	stop, _ := startMain(t, []string{"--testing", "--health-addr", "127.0.0.1:0"}, fx.Populate(&hs), started)
	<-ch
	url := "http://" + hs.Addr() + fxpubsub.HealthPath
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, 10*time.Second, "GET /health to answer 200", func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if r := getHealth(t, client, url); r.Status != "ok" {
		t.Fatalf("health %+v", r)
	}
	if r := stop(); r.code != fxpubsub.ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := client.Get(url); err == nil {
		t.Fatal("health endpoint still answers after Main returned")
	}
}

func TestMainHealthAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r := runMain(context.Background(), t, []string{"--testing", "--health-addr", busy.Addr().String()}, "")
	if r.code != fxpubsub.ExitFailure {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	expectOneLine(t, r.stderr, "maintest: start: health endpoint:", busy.Addr().String())
}

// TestMainNonexistentQueue: a queue that does not exist is fatal: the daemon shuts the app down
// and Main says why, in one line, with exit code 1.
func TestMainNonexistentQueue(t *testing.T) {
	tg := awstest.Fauxqs(t)
	name := awstest.UniqueName("main-missing")
	for _, queue := range []string{name, tg.Endpoint + "/000000000000/" + name} {
		t.Run(queue, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r := runMain(ctx, t, []string{"--sqs-queue-url", queue,
				"--set", "sqs_consumer.endpoint_url=" + tg.Endpoint, "--set", "sns_producer.endpoint_url=" + tg.Endpoint}, "")
			if ctx.Err() != nil {
				t.Fatal("Main did not stop by itself")
			}
			if r.code != fxpubsub.ExitFailure {
				t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			expectOneLine(t, r.stderr, "maintest: ", name)
			t.Logf("stderr: %s", r.stderr)
			if !strings.Contains(strings.ToLower(r.stderr), "does not exist") && !strings.Contains(r.stderr, "NonExistentQueue") {
				t.Errorf("stderr %q does not say the queue does not exist", r.stderr)
			}
		})
	}
}

// TestMainLogsStartBeforeResults: "consumer started" comes before any result line, also when a
// short replay is handled at once.
func TestMainLogsStartBeforeResults(t *testing.T) {
	var out bytes.Buffer
	var logger *zap.Logger
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := runMain(ctx, t, []string{"--stdin", "--testing"}, strings.Join(replayLines, "\n")+"\n",
		fxpubsub.AsHandlerFunc(orderMT, func(context.Context, *orderCreated) error { return nil }),
		// The shipped logger, writing to out instead of stderr.
		fx.Decorate(func(s *fxconfig.Settings) (*zap.Logger, error) {
			l, err := fxconfig.NewLoggerTo(s, zapcore.Lock(zapcore.AddSync(&out)))
			logger = l
			return l, err
		}),
	)
	if r.code != fxpubsub.ExitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	_ = logger.Sync()
	log := out.String()
	started := strings.Index(log, `"consumer started"`)
	result := strings.Index(log, `"Result for media type: `)
	if started < 0 || result < 0 {
		t.Fatalf("want a start line and result lines; log:\n%s", log)
	}
	if result < started {
		t.Errorf("a result line comes before \"consumer started\"; log:\n%s", log)
	}
}
