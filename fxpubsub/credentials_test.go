package fxpubsub_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// noCredentials empties every source of AWS credentials the SDK reads: the environment keys, the
// shared config and credentials files, container and web-identity roles, and (unless imds is a
// loopback endpoint to use instead) the instance metadata service.
func noCredentials(t *testing.T, imds string) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"} {
		t.Setenv(k, "")
	}
	if imds == "" {
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		return
	}
	if !strings.HasPrefix(imds, "http://127.0.0.1:") {
		t.Fatalf("IMDS endpoint %q is not loopback", imds)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds)
}

// refusedAddr returns a loopback URL nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// refusingIMDS is a loopback instance-metadata service that refuses IMDSv2 tokens (403, so the SDK
// falls back to IMDSv1 and says so) and has no role. It counts the requests it gets.
func refusingIMDS(t *testing.T) (url string, requests *atomic.Int32) {
	t.Helper()
	requests = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

func credentialsConfig(t *testing.T) fxpubsub.Config {
	t.Helper()
	ep := awstest.Fauxqs(t).Endpoint
	cfg := fxpubsub.DefaultConfig()
	cfg.Producer.EndpointURL, cfg.Consumer.EndpointURL = ep, ep
	cfg.Consumer.SQSQueueURL = "credentials-test"
	return cfg
}

func expectCredentialsError(t *testing.T, err error, wants ...string) *fxpubsub.CredentialsError {
	t.Helper()
	var ce *fxpubsub.CredentialsError
	if !errors.As(err, &ce) {
		t.Fatalf("NewBackend = %v, want a *CredentialsError", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, w := range append([]string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "IAM role"}, wants...) {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not name %q", msg, w)
		}
	}
	return ce
}

func TestNewBackendWithoutCredentials(t *testing.T) {
	cfg := credentialsConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("none anywhere, IMDS disabled", func(t *testing.T) {
		noCredentials(t, "")
		_, err := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "creds"})
		expectCredentialsError(t, err, "none found")
	})
	t.Run("IMDS refuses the connection", func(t *testing.T) {
		noCredentials(t, refusedAddr(t))
		_, err := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "creds"})
		expectCredentialsError(t, err, "none found", "ec2imds")
	})
	t.Run("IMDS refuses tokens and has no role; the SDK's warning goes to zap", func(t *testing.T) {
		url, requests := refusingIMDS(t)
		noCredentials(t, url)
		core, logs := observer.New(zapcore.DebugLevel)
		_, err := fxpubsub.NewBackendWithLogger(ctx, cfg, fxconfig.Metadata{Name: "creds"}, zap.New(core))
		expectCredentialsError(t, err, "none found")
		if requests.Load() == 0 {
			t.Error("the loopback IMDS was never asked")
		}
		warned := logs.FilterLoggerName("aws").FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("falling back to IMDSv1").Len()
		if warned == 0 {
			t.Errorf("the SDK's IMDSv1 fallback warning did not reach zap; logged: %v", logs.AllUntimed())
		}
	})
	t.Run("a profile that does not exist", func(t *testing.T) {
		noCredentials(t, "")
		cfg := cfg
		cfg.Producer.ProfileName, cfg.Consumer.ProfileName = "no-such-profile", "no-such-profile"
		_, err := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "creds"})
		if ce := expectCredentialsError(t, err, `profile "no-such-profile"`); ce.Profile != "no-such-profile" {
			t.Errorf("Profile = %q", ce.Profile)
		}
	})
}

// Without credentials the daemon stops at start-up, exit 1, with one line that says what to set
// (it used to retry for ever on the SDK's IMDS error).
func TestMainWithoutCredentials(t *testing.T) {
	ep := awstest.Fauxqs(t).Endpoint
	for _, imds := range []string{"", refusedAddr(t)} {
		t.Run("imds="+imds, func(t *testing.T) {
			noCredentials(t, imds)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := runMain(ctx, t, []string{"--sqs-queue-url", "credentials-test",
				"--set", "sqs_consumer.endpoint_url=" + ep, "--set", "sns_producer.endpoint_url=" + ep}, "")
			if ctx.Err() != nil {
				t.Fatal("Main was still running when the test gave up: it did not stop on missing credentials")
			}
			if r.code != fxpubsub.ExitFailure {
				t.Errorf("exit %d, want 1", r.code)
			}
			expectOneLine(t, r.stderr, "aws credentials: none found", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "IAM role")
		})
	}
}
