package fxpubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Credentials planted in the environment; none may reach a log line or an error message.
const (
	plantedAccessKey = "AKIDPLANTED0000EXAMPLE"
	plantedSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDSECRET"
	plantedToken     = "FwoGZXIvYXdzEPLANTED/SESSION+TOKEN/abc123=="
	plantedSentryKey = "5f2e8c1d9a7b4e3f8c6d0a1b2c3d4e5f"
)

// echoServer is an AWS endpoint that refuses every call with 403 and echoes the whole request
// (headers with the signature and session token, and body) in the error message, as a hostile or
// misconfigured proxy could. It remembers every signature it was sent.
type echoServer struct {
	*httptest.Server
	mu   sync.Mutex
	sigs []string
}

var sigRE = regexp.MustCompile(`Signature=([0-9a-f]{64})`)

func newEchoServer(t *testing.T) *echoServer {
	t.Helper()
	e := &echoServer{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dump, _ := httputil.DumpRequest(r, true)
		if m := sigRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			e.mu.Lock()
			e.sigs = append(e.sigs, m[1])
			e.mu.Unlock()
		}
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.") { // SQS: JSON protocol
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("x-amzn-query-error", "AccessDenied;Sender")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#AccessDenied", "message": "denied: " + string(dump)})
			return
		}
		w.Header().Set("Content-Type", "text/xml") // SNS: query protocol
		w.WriteHeader(http.StatusForbidden)
		var msg strings.Builder
		_ = xmlEscape(&msg, "denied: "+string(dump))
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>` + msg.String() + `</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
	}))
	t.Cleanup(e.Close)
	return e
}

func xmlEscape(b *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	_, err := b.WriteString(r.Replace(s))
	return err
}

func (e *echoServer) signatures() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.sigs...)
}

// assertNoSecrets fails if text contains a planted secret or one of the signatures.
func assertNoSecrets(t *testing.T, where, text string, sigs []string) {
	t.Helper()
	for _, s := range append([]string{plantedSecretKey, plantedToken, plantedSentryKey}, sigs...) {
		if strings.Contains(text, s) {
			i := strings.Index(text, s)
			t.Errorf("%s leaks %q: …%s…", where, s, text[max(0, i-120):min(len(text), i+len(s)+40)])
		}
	}
}

func plantCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", plantedAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", plantedSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", plantedToken)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_PROFILE", "")
}

// TestSecretsStayOutOfAWSErrors makes real SDK calls (ReceiveMessage, DeleteMessage, Publish)
// against an endpoint that echoes each request in its 403 error, and checks the errors the library
// returns.
func TestSecretsStayOutOfAWSErrors(t *testing.T) {
	plantCredentials(t)
	srv := newEchoServer(t)
	ctx := context.Background()
	cfg := fxpubsub.DefaultConfig()
	cfg.Producer.EndpointURL, cfg.Consumer.EndpointURL = srv.URL, srv.URL
	cfg.Producer.MaxAttempts, cfg.Consumer.MaxAttempts = 1, 1
	cfg.Consumer.SQSQueueURL = srv.URL + "/000000000000/q"
	cfg.Topics = map[string]any{"default": "arn:aws:sns:us-east-1:000000000000:t"}
	b, err := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT))
	if err != nil {
		t.Fatal(err)
	}
	cons, err := fxpubsub.NewConsumer(b.SQS, reg, cfg.Consumer.SQSQueueURL, fxpubsub.ConsumerOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err = cons.Consume(ctx)
	errs = append(errs, err)
	_, err = fxpubsub.NewProducer(b.SNS, reg, b.Topics, fxpubsub.ProducerOptions{MaxAttempts: 1}).Produce(ctx, orderMT, orderCreated{URI: "https://o/1", OrderID: "1"})
	errs = append(errs, err)
	sigs := srv.signatures()
	if len(sigs) < 2 {
		t.Fatalf("the server saw %d signed requests", len(sigs))
	}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d succeeded against a server that refuses everything", i)
		}
		if !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("error %d lost its meaning: %v", i, err)
		}
		assertNoSecrets(t, "error", err.Error(), sigs)
		// Typed SDK errors found with errors.As must be clean too.
		var msg interface{ ErrorMessage() string }
		if errors.As(err, &msg) {
			assertNoSecrets(t, "API error message", msg.ErrorMessage(), sigs)
		}
	}
}

// TestSecretsStayOutOfLogs runs the consumer daemon (fxpubsub.MainContext, the real entry point)
// against the echoing endpoint with Sentry enabled, capturing every log line and stderr.
func TestSecretsStayOutOfLogs(t *testing.T) {
	plantCredentials(t)
	srv := newEchoServer(t)
	sentrySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dump, _ := httputil.DumpRequest(r, false) // X-Sentry-Auth carries the key
		http.Error(w, "rejected: "+string(dump), http.StatusForbidden)
	}))
	defer sentrySrv.Close()
	dsn := "http://" + plantedSentryKey + "@" + strings.TrimPrefix(sentrySrv.URL, "http://") + "/42"
	for k, v := range map[string]string{
		"MAINTEST__SQS_CONSUMER__SQS_QUEUE_URL":              srv.URL + "/000000000000/q",
		"MAINTEST__SQS_CONSUMER__ENDPOINT_URL":               srv.URL,
		"MAINTEST__SNS_PRODUCER__ENDPOINT_URL":               srv.URL,
		"MAINTEST__SQS_CONSUMER__MAX_ATTEMPTS":               "1",
		"MAINTEST__SQS_CONSUMER__WAIT_SECONDS":               "1",
		"MAINTEST__SENTRY_LOGGING_PUBSUB__ENABLED":           "true",
		"MAINTEST__SENTRY_LOGGING_PUBSUB__DSN":               dsn,
		"MAINTEST__SNS_TOPIC_ARNS__DEFAULT":                  "arn:aws:sns:us-east-1:000000000000:t",
		"MAINTEST__SQS_CONSUMER__VISIBILITY_TIMEOUT_SECONDS": "30",
	} {
		t.Setenv(k, v)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	logged := make(chan struct{})
	var once sync.Once
	hook := zap.Hooks(func(e zapcore.Entry) error {
		if e.Level >= zapcore.WarnLevel {
			once.Do(func() { close(logged) })
		}
		return nil
	})
	opts := []fx.Option{
		fx.Decorate(func() *zap.Logger { return zap.New(core, hook) }),
		fxpubsub.AsHandlerFunc(orderMT, func(context.Context, *orderCreated) error { return nil }),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan mainRun, 1)
	go func() { done <- runMain(ctx, t, []string{"--debug"}, "", opts...) }()
	var res mainRun
	select {
	case <-logged: // the daemon met the refusal and logged it
		cancel()
		res = <-done
	case res = <-done: // or it refused to start, and said why on stderr
		cancel()
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("neither a warning nor an exit within 30 s")
	}
	sigs := srv.signatures()
	if len(sigs) == 0 {
		t.Fatal("no signed request reached the endpoint")
	}
	var all strings.Builder
	for _, e := range logs.All() {
		all.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			all.WriteString(" " + k + "=")
			b, _ := json.Marshal(v)
			all.Write(b)
		}
		all.WriteString("\n")
	}
	if !strings.Contains(all.String()+res.stderr, "AccessDenied") {
		t.Fatalf("the refusal was not reported at all:\nlogs:\n%s\nstderr:\n%s", all.String(), res.stderr)
	}
	t.Logf("exit %d, %d log entries; stderr: %.300s", res.code, logs.Len(), res.stderr)
	assertNoSecrets(t, "logs", all.String(), sigs)
	assertNoSecrets(t, "stderr", res.stderr, sigs)
	assertNoSecrets(t, "stdout", res.stdout, sigs)
}
