package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	if os.Getenv(envHelper) == "1" { // a child process of TestGracefulStopUnderLoad
		os.Exit(helperDaemon())
	}
	goleak.VerifyTestMain(m, awstest.GoleakOptions()...)
}

// itemMT is the media type of the tests' schema.
const itemMT = "application/vnd.globality.pubsub._.created.fault_item"

// item is the tests' message: Key identifies it across duplicates.
type item struct {
	Key string `json:"key" validate:"required"`
	Pad string `json:"pad,omitempty"`
}

func newRegistry(t testing.TB) *fxpubsub.SchemaRegistry {
	t.Helper()
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[item](itemMT))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// clientOptions shape the SDK clients a test builds with fxpubsub.LoadAWSConfig (the production
// configuration: retryer, transport) plus the emulator's static credentials.
type clientOptions struct {
	RequestTimeout time.Duration // http.Client timeout per attempt (0: none, the SQS default)
	MaxAttempts    int           // SDK attempts (default 5, as in DefaultConfig)
	Counter        *callCounter  // counts calls and attempts (optional)
	Tracer         *ConnTracer   // records who closed connections (optional)
	Transport      func(*http.Transport)
	Keep           **http.Client // receives the HTTP client (to close idle connections)
}

func awsConfig(t testing.TB, o clientOptions) aws.Config {
	t.Helper()
	cfg, err := fxpubsub.LoadAWSConfig(context.Background(), fxpubsub.AWSOptions{
		Region: awstest.Region, ConnectTimeout: 5 * time.Second, RequestTimeout: o.RequestTimeout, MaxAttempts: o.MaxAttempts,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("test", "test", "")
	if o.Tracer != nil || o.Transport != nil || o.Keep != nil {
		bc := cfg.HTTPClient.(*awshttp.BuildableClient).WithTransportOptions(func(tr *http.Transport) {
			if o.Transport != nil {
				o.Transport(tr)
			}
			if o.Tracer != nil {
				tr.DialContext = o.Tracer.TraceDial(tr.DialContext)
			}
		})
		// Frozen, so the service client's own WithDialerOptions cannot replace the traced dialer.
		hc := bc.Freeze().(*http.Client)
		if o.Tracer != nil {
			hc.Transport = o.Tracer.TraceBodies(hc.Transport)
		}
		cfg.HTTPClient = hc
		if o.Keep != nil {
			*o.Keep = hc
		}
	}
	return cfg
}

func newSQS(t testing.TB, endpoint string, o clientOptions) *sqs.Client {
	t.Helper()
	return sqs.NewFromConfig(awsConfig(t, o), func(so *sqs.Options) {
		so.BaseEndpoint = aws.String(endpoint)
		if o.Counter != nil {
			so.APIOptions = append(so.APIOptions, o.Counter.register)
		}
	})
}

func newSNS(t testing.TB, endpoint string, o clientOptions) *sns.Client {
	t.Helper()
	return sns.NewFromConfig(awsConfig(t, o), func(so *sns.Options) {
		so.BaseEndpoint = aws.String(endpoint)
		if o.Counter != nil {
			so.APIOptions = append(so.APIOptions, o.Counter.register)
		}
	})
}

// callCounter counts SDK calls by operation (retries not included), HTTP attempts, and keeps the
// first failed attempts.
type callCounter struct {
	mu       sync.Mutex
	calls    map[string]int64
	attempts int64
	failures []string
	nFailed  int64
}

func newCallCounter() *callCounter { return &callCounter{calls: map[string]int64{}} }

func (c *callCounter) register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("faultsCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.calls[middleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("faultsCountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleFinalize(ctx, in)
			c.mu.Lock()
			c.attempts++
			if err != nil && ctx.Err() == nil {
				c.nFailed++
				if len(c.failures) < 20 {
					c.failures = append(c.failures, fmt.Sprintf("%s %s after %s: %v", start.Format("15:04:05.000"),
						middleware.GetOperationName(ctx), time.Since(start).Round(time.Millisecond), err))
				}
			}
			c.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

func (c *callCounter) failed() (int64, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nFailed, append([]string(nil), c.failures...)
}

// newDaemon builds consumer, dispatcher and daemon the way fxpubsub.Module does; handle runs for
// every item after the ledger recorded it.
func newDaemon(t testing.TB, client fxpubsub.SQSClient, reg *fxpubsub.SchemaRegistry, queueURL string, copts fxpubsub.ConsumerOptions,
	dopts fxpubsub.DaemonOptions, ledger *Ledger, handle func(ctx context.Context, it *item) error,
) (*fxpubsub.Daemon, *observer.ObservedLogs) {
	t.Helper()
	regn, err := fxpubsub.NewRegistration[item](itemMT, fxpubsub.HandlerFunc[item](func(ctx context.Context, it *item) error {
		if handle != nil {
			if err := handle(ctx, it); err != nil {
				return err
			}
		}
		if ledger != nil {
			ledger.Handled(it.Key)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	handlers, err := fxpubsub.NewHandlerRegistry(regn)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	logger := zap.New(core)
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{EnableTTL: true, InitialTTL: 32, Logger: zap.NewNop()})
	cons, err := fxpubsub.NewConsumer(client, reg, queueURL, copts)
	if err != nil {
		t.Fatal(err)
	}
	dopts.Logger = logger
	return fxpubsub.NewDaemon(cons, disp, dopts), logs
}

// stopDaemon stops d within 20 s and fails the test on an error.
func stopDaemon(t testing.TB, d *fxpubsub.Daemon) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Stop(ctx); err != nil {
		t.Errorf("stop daemon: %v", err)
	}
}

// waitFor polls cond every 10 ms until it holds or within passes; it reports whether it held.
func waitFor(within time.Duration, cond func() bool) bool {
	return awstest.Eventually(within, 10*time.Millisecond, cond)
}

// keys returns prefix-0 … prefix-(n-1).
func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(i)
	}
	return out
}

// publishAll publishes one item per key with ProduceBatch, 10 per call, conc calls at a time; it
// returns the keys whose publish failed (after the producer's own retries) with their errors.
func publishAll(ctx context.Context, p *fxpubsub.Producer, ks []string, conc int) map[string]error {
	var (
		mu     sync.Mutex
		failed = map[string]error{}
		wg     sync.WaitGroup
		chunks = make(chan []string)
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				msgs := make([]fxpubsub.Outgoing, len(chunk))
				for i, k := range chunk {
					msgs[i] = fxpubsub.Outgoing{MediaType: itemMT, Content: item{Key: k}}
				}
				results, _ := p.ProduceBatch(ctx, msgs)
				mu.Lock()
				for i, r := range results {
					if r.Err != nil {
						failed[chunk[i]] = r.Err
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(ks); i += 10 {
		chunks <- ks[i:min(i+10, len(ks))]
	}
	close(chunks)
	wg.Wait()
	return failed
}

// queueDepth returns the visible and in-flight message counts of a queue.
func queueDepth(ctx context.Context, client awstest.SQSAdmin, url string) (visible, inflight int, err error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	}})
	if err != nil {
		return 0, 0, err
	}
	visible, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	inflight, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inflight, nil
}

// keepLog keeps path's content in the test log when the test fails.
func keepLog(t testing.TB, path string) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(path); err == nil {
				if len(b) > 8000 {
					b = b[len(b)-8000:]
				}
				t.Logf("---- tail of %s:\n%s", filepath.Base(path), b)
			}
		}
	})
}

type sqsGetQueueURLInput = sqs.GetQueueUrlInput

func itoa(n int) string { return strconv.Itoa(n) }
