package fxsentry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxsentry"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const (
	dsnPublicKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	dsnSecretKey = "f9e8d7c6b5a4938271605f4e3d2c1b0a"
)

func assertNoDSNKeys(t *testing.T, where, text string) {
	t.Helper()
	for _, k := range []string{dsnPublicKey, dsnSecretKey} {
		if strings.Contains(text, k) {
			t.Errorf("%s leaks the DSN key %q: %s", where, k, text)
		}
	}
}

// TestDSNKeysStayOutOfConfigErrors loads invalid Sentry configurations whose DSN carries a key
// (and a legacy secret) and checks the errors.
func TestDSNKeysStayOutOfConfigErrors(t *testing.T) {
	for _, dsn := range []string{
		"https://" + dsnPublicKey + ":" + dsnSecretKey + "@o1.ingest.sentry.io/",    // no project id
		"ftp://" + dsnPublicKey + ":" + dsnSecretKey + "@o1.ingest.sentry.io/1",     // bad scheme
		"https://" + dsnPublicKey + ":" + dsnSecretKey + "@o1.ingest.sentry.io:x/1", // bad port
		"https://" + dsnPublicKey + "@%zz/1",                                        // not a URL
		dsnPublicKey,
	} {
		s, err := fxconfig.Load(fxconfig.Input{Name: "app", Environ: []string{
			"APP__SENTRY_LOGGING_PUBSUB__ENABLED=true", "APP__SENTRY_LOGGING_PUBSUB__DSN=" + dsn,
		}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = fxsentry.LoadConfig(s, []string{})
		if err == nil {
			t.Fatalf("%s: accepted", dsn)
		}
		assertNoDSNKeys(t, "config error", err.Error())
		var fe *fxconfig.FieldError
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			if errors.As(e, &fe) && fe.Key == "sentry_logging_pubsub.dsn" {
				assertNoDSNKeys(t, "FieldError.Value", strings.TrimSpace(fe.Reason+" "+stringOf(fe.Value)))
			}
		}
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// TestDSNKeyStaysOutOfReporterLogs reports to a Sentry that refuses events, echoing the request
// (X-Sentry-Auth carries the key), then to one that never answers, with the reporter's logger and
// the process's stderr captured.
func TestDSNKeyStaysOutOfReporterLogs(t *testing.T) {
	var got atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		if strings.Contains(r.URL.Path, "/43/") {
			select { // never answers in time
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		dump, _ := httputil.DumpRequest(r, false)
		http.Error(w, "rejected: "+string(dump), http.StatusForbidden)
	}))
	defer srv.Close()
	defer close(release)
	host := strings.TrimPrefix(srv.URL, "http://")

	stderr := captureStderr(t)
	core, logs := observer.New(zapcore.DebugLevel)
	for _, project := range []string{"42", "43"} {
		cfg := enabledConfig("http://" + dsnPublicKey + ":" + dsnSecretKey + "@" + host + "/" + project)
		cfg.FlushTimeout = 200 * time.Millisecond
		r, err := fxsentry.NewReporter(cfg, fxsentry.Options{Logger: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Report(context.Background(), fxsentry.Failure{Err: errors.New("handler failed"), MediaType: "m"}) == nil {
			t.Fatal("nothing reported")
		}
		_ = r.Close(context.Background())
	}
	out := stderr()
	if got.Load() == 0 {
		t.Fatal("the Sentry server saw no request")
	}
	var all strings.Builder
	for _, e := range logs.All() {
		all.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			all.WriteString(" " + k + "=" + stringOf(v))
		}
	}
	if logs.Len() == 0 {
		t.Fatal("the unsent event was not logged")
	}
	assertNoDSNKeys(t, "reporter logs", all.String())
	assertNoDSNKeys(t, "stderr", out)
}

// captureStderr redirects os.Stderr to a pipe until the returned func is called, which returns
// what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = w
	done := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				done <- b.String()
				return
			}
		}
	}()
	var out string
	var restored bool
	restore := func() string {
		if !restored {
			restored = true
			os.Stderr = orig
			_ = w.Close()
			out = <-done
			_ = r.Close()
		}
		return out
	}
	t.Cleanup(func() { restore() })
	return restore
}
