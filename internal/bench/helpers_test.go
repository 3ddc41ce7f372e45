package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benchMT is the media type of the benchmark's small typed schema.
const benchMT = "application/vnd.globality.pubsub._.created.bench_order"

// benchOrder is the benchmark's schema: three validated fields, like a typical lifecycle event.
type benchOrder struct {
	URI     string  `json:"uri" validate:"required,url"`
	OrderID string  `json:"order_id" validate:"required"`
	Amount  float64 `json:"amount" validate:"gte=0"`
}

var sampleOrder = benchOrder{URI: "https://orders.internal/api/v1/order/7d1c0f", OrderID: "7d1c0f", Amount: 12.5}

func newRegistry(b testing.TB) *fxpubsub.SchemaRegistry {
	b.Helper()
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[benchOrder](benchMT))
	if err != nil {
		b.Fatal(err)
	}
	return reg
}

// encodedBody is the wire body of one message, exactly as the producer publishes it and as SNS raw
// delivery puts it in the queue.
func encodedBody(b testing.TB, reg *fxpubsub.SchemaRegistry) string {
	b.Helper()
	body, err := reg.Encode(benchMT, sampleOrder, nil, fxpubsub.Opaque{"x-request-id": "4f3e9a2b", "x-request-published": "1700000000.123456"})
	if err != nil {
		b.Fatal(err)
	}
	return string(body)
}

// productionLogger is the logger the library ships (fxconfig.NewLogger at default settings: JSON,
// info level, caller, stack traces from error level) writing to a temporary file, a real file
// descriptor: every message's result line is encoded and written as in production.
func productionLogger(b testing.TB) *zap.Logger {
	b.Helper()
	s, err := fxconfig.Load(fxconfig.Input{Name: "bench", Environ: []string{}})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.CreateTemp(b.TempDir(), "log-*.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	l, err := fxconfig.NewLoggerTo(s, zapcore.Lock(f))
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// libraryDaemon builds consumer, dispatcher and daemon the way fxpubsub.Module does at
// DefaultConfig (zero options mean the documented defaults: 4 receivers, concurrency 32, 20 s long
// polls, 10 per receive, 50 ms flush interval, heartbeat on with the queue's visibility timeout
// read at start, codec envelope, TTL on), with handle as the no-op handler.
func libraryDaemon(b testing.TB, client fxpubsub.SQSClient, reg *fxpubsub.SchemaRegistry, url string, opts fxpubsub.DaemonOptions,
	handle func(context.Context, *benchOrder) error,
) *fxpubsub.Daemon {
	b.Helper()
	cfg := fxpubsub.DefaultConfig()
	regn, err := fxpubsub.NewRegistration[benchOrder](benchMT, fxpubsub.HandlerFunc[benchOrder](handle))
	if err != nil {
		b.Fatal(err)
	}
	handlers, err := fxpubsub.NewHandlerRegistry(regn)
	if err != nil {
		b.Fatal(err)
	}
	logger := productionLogger(b)
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{
		EnableTTL: cfg.MessageContext.EnableTTL, InitialTTL: cfg.MessageContext.InitialTTL, Logger: logger,
	})
	cons, err := fxpubsub.NewConsumer(client, reg, url, fxpubsub.ConsumerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if o := cons.Options(); o.Limit != cfg.Consumer.Limit || o.Wait != time.Duration(cfg.Consumer.WaitSeconds)*time.Second {
		b.Fatalf("consumer defaults drifted from DefaultConfig: %+v vs %+v", o, cfg.Consumer)
	}
	opts.Logger = logger
	return fxpubsub.NewDaemon(cons, disp, opts)
}

// callCounter counts SDK operations by name (one per API call, retries not included) and HTTP
// attempts (retries included).
type callCounter struct {
	mu       sync.Mutex
	calls    map[string]int64
	attempts int64
	failures []string // the first few failed attempts, "operation: error"
}

func newCallCounter() *callCounter { return &callCounter{calls: map[string]int64{}} }

// register is an APIOptions entry: Initialize runs once per call, Finalize (after the retry
// middleware) once per attempt.
func (c *callCounter) register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := middleware.GetOperationName(ctx)
			c.mu.Lock()
			c.calls[op]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("benchCountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.attempts++
			c.mu.Unlock()
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil && ctx.Err() == nil {
				c.mu.Lock()
				if len(c.failures) < 10 {
					c.failures = append(c.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), middleware.GetOperationName(ctx), err))
				}
				c.mu.Unlock()
			}
			return out, md, err
		}), middleware.After)
}

// snapshot returns the counts so far and the number of HTTP attempts.
func (c *callCounter) snapshot() (map[string]int64, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int64, len(c.calls))
	for k, v := range c.calls {
		m[k] = v
	}
	return m, c.attempts
}

// logFailures logs the failed attempts seen (a retried ReceiveMessage can hide messages until
// their visibility timeout).
func (c *callCounter) logFailures(b testing.TB) {
	b.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.failures {
		b.Logf("failed attempt: %s", f)
	}
}

// awsConfig is the production SDK configuration (fxpubsub.LoadAWSConfig: buildable HTTP client so
// AWS_CA_BUNDLE keeps working, 128 idle connections per host, standard retryer without a retry
// token bucket, 5 attempts, 10 s connect timeout) with the emulator's static credentials and
// region. Both drain variants, producer and consumer get clients built from it.
func awsConfig(b testing.TB) aws.Config {
	b.Helper()
	cfg, err := fxpubsub.LoadAWSConfig(context.Background(), fxpubsub.AWSOptions{
		Region: awstest.Region, ConnectTimeout: 10 * time.Second, MaxAttempts: 5,
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")
	return cfg
}

func newSQSClient(b testing.TB, endpoint string, c *callCounter) *sqs.Client {
	b.Helper()
	return sqs.NewFromConfig(awsConfig(b), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if c != nil {
			o.APIOptions = append(o.APIOptions, c.register)
		}
	})
}

func newSNSClient(b testing.TB, endpoint string, c *callCounter) *sns.Client {
	b.Helper()
	return sns.NewFromConfig(awsConfig(b), func(o *sns.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if c != nil {
			o.APIOptions = append(o.APIOptions, c.register)
		}
	})
}

// fauxqsTarget returns the fauxqs target, skipping with a clear message when it isn't running.
func fauxqsTarget(b *testing.B) awstest.Target {
	b.Helper()
	if os.Getenv(awstest.EnvFauxqsEndpoint) == "" {
		b.Skipf("%s is not set: start fauxqs with scripts/emulator-up.sh and export %s=$(cat .emulator/fauxqs.endpoint), "+
			"or run scripts/bench.sh, which does both", awstest.EnvFauxqsEndpoint, awstest.EnvFauxqsEndpoint)
	}
	return awstest.Fauxqs(b)
}

// preload puts n copies of body into the queue with SendMessageBatch (10 per call, 8 calls at a
// time), as SNS raw delivery would: the body is the published message and the media_type message
// attribute comes along.
func preload(b testing.TB, client awstest.BatchSender, url, body string, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	attrs := map[string]sqstypes.MessageAttributeValue{
		fxpubsub.MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(benchMT)},
	}
	if err := awstest.SendCopies(ctx, client, url, body, attrs, n, 8); err != nil {
		b.Fatalf("preload: %v", err)
	}
}

// queueDepth returns ApproximateNumberOfMessages (visible) of a queue.
func queueDepth(b testing.TB, client interface {
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}, url string) int {
	b.Helper()
	out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		b.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n
}

// cpuTime is this process's user+system CPU time (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// emulatorPID is $PUBSUB_FAUXQS_PID, or 0.
func emulatorPID() int {
	pid, _ := strconv.Atoi(os.Getenv("PUBSUB_FAUXQS_PID"))
	return pid
}

// procCPU is the user+system CPU time of another process, from /proc/<pid>/stat (0 if unknown).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3 (state); utime, stime are fields 14, 15
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

// vmHWM is this process's peak resident set size in bytes (VmHWM of /proc/self/status).
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// quiesce collects garbage, returns free memory to the OS and resets the peak RSS to the current
// RSS (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0), so VmHWM read later is the peak of the
// phase that follows. It reports whether the reset worked; if not, VmHWM is the process's peak.
func quiesce() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// load1 is the 1-minute load average.
func load1() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// reportCalls reports calls per message for each action in actions (always, so tables line up)
// and any other action seen, with prefix before the action name, plus the total.
func reportCalls(b *testing.B, prefix string, calls map[string]int64, msgs int64, actions ...string) {
	b.Helper()
	seen := map[string]bool{}
	var total int64
	for _, a := range actions {
		seen[a] = true
		b.ReportMetric(float64(calls[a])/float64(msgs), prefix+a+"/msg")
	}
	var others []string
	for a, n := range calls {
		total += n
		if !seen[a] && n > 0 {
			others = append(others, a)
		}
	}
	sort.Strings(others)
	for _, a := range others {
		b.ReportMetric(float64(calls[a])/float64(msgs), prefix+a+"/msg")
	}
	b.ReportMetric(float64(total)/float64(msgs), prefix+"calls/msg")
}

// waitUntil polls cond every millisecond until it holds or the deadline passes.
func waitUntil(deadline time.Duration, cond func() bool) bool {
	return awstest.Eventually(deadline, time.Millisecond, cond)
}
