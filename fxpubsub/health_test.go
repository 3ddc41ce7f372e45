package fxpubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

type checkFunc func() error

func (f checkFunc) Healthy() error { return f() }

type healthReply struct {
	code   int
	Status string `json:"status"`
	Error  string `json:"error"`
}

// getHealth GETs url and decodes the reply.
func getHealth(t *testing.T, client *http.Client, url string) healthReply {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var r healthReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("GET %s: decode reply: %v", url, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	r.code = resp.StatusCode
	return r
}

func TestHealthHandler(t *testing.T) {
	tests := []struct {
		name       string
		give       error
		wantCode   int
		wantStatus string
		wantError  string
	}{
		{name: "healthy", give: nil, wantCode: http.StatusOK, wantStatus: "ok"},
		{name: "unhealthy", give: errors.New("receiver 0 failing since 2026-01-01T00:00:00Z"), wantCode: http.StatusServiceUnavailable,
			wantStatus: "unhealthy", wantError: "receiver 0 failing since 2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			fxpubsub.NewHealthHandler(checkFunc(func() error { return tt.give })).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("code %d, want %d", rec.Code, tt.wantCode)
			}
			var got healthReply
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if got.Status != tt.wantStatus || got.Error != tt.wantError {
				t.Fatalf("body %q, want status %q error %q", rec.Body.String(), tt.wantStatus, tt.wantError)
			}
		})
	}
}

func TestHealthHandlerRejectsOtherRequests(t *testing.T) {
	h := fxpubsub.NewHealthHandler(checkFunc(func() error { return nil }))
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodHead, "/health", http.StatusOK},
		{http.MethodPost, "/health", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/healthz", http.StatusNotFound},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: code %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}

// TestHealthOfDaemon serves a real daemon's health: 200 once it runs, 503 after it stopped.
func TestHealthOfDaemon(t *testing.T) {
	var d *fxpubsub.Daemon
	app := fxtest.New(t,
		fxconfig.ForTesting("health-test", map[string]any{"sqs_consumer": map[string]any{"wait_seconds": 1}}),
		fxpubsub.Module,
		fxpubsub.RunConsumer(),
		fx.NopLogger,
		fx.Populate(&d),
	)
	srv := httptest.NewServer(fxpubsub.NewHealthHandler(d))
	defer srv.Close()
	client := srv.Client()
	url := srv.URL + fxpubsub.HealthPath

	if r := getHealth(t, client, url); r.code != http.StatusServiceUnavailable || r.Error != "consumer not started" {
		t.Fatalf("before start: %+v, want 503 consumer not started", r)
	}
	app.RequireStart()
	waitFor(t, 10*time.Second, "the daemon to report healthy", func() bool { return d.Healthy() == nil })
	if r := getHealth(t, client, url); r.code != http.StatusOK || r.Status != "ok" {
		t.Fatalf("running: %+v, want 200 ok", r)
	}
	app.RequireStop()
	r := getHealth(t, client, url)
	if r.code != http.StatusServiceUnavailable || r.Status != "unhealthy" || r.Error == "" {
		t.Fatalf("stopped: %+v, want 503 unhealthy with an error", r)
	}
	client.CloseIdleConnections()
}

func TestHealthServerLifecycle(t *testing.T) {
	ctx := context.Background()
	s := fxpubsub.NewHealthServer("127.0.0.1:0", fxpubsub.NewHealthHandler(checkFunc(func() error { return nil })))
	if s.Addr() != "" {
		t.Fatalf("Addr before Start = %q, want empty", s.Addr())
	}
	if err := s.Stop(ctx); err != nil { // stopping a server that never started is fine
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if r := getHealth(t, client, "http://"+s.Addr()+fxpubsub.HealthPath); r.code != http.StatusOK {
		t.Fatalf("got %+v, want 200", r)
	}
	addr := s.Addr()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("http://" + addr + fxpubsub.HealthPath); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

func TestHealthServerBadAddressFailsStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := fxpubsub.NewHealthServer(busy.Addr().String(), http.NotFoundHandler())
	err = s.Start(context.Background())
	if err == nil {
		_ = s.Stop(context.Background())
		t.Fatal("Start on a busy address succeeded")
	}
	if !strings.Contains(err.Error(), "health endpoint") {
		t.Fatalf("error %q does not say what failed", err)
	}
}

// TestServeHealthWithoutAddress: no health.addr, no listener, and the app still runs.
func TestServeHealthWithoutAddress(t *testing.T) {
	var hs *fxpubsub.HealthServer
	app := fxtest.New(t,
		fxconfig.ForTesting("health-test", map[string]any{"sqs_consumer": map[string]any{"wait_seconds": 1}}),
		fxpubsub.Module,
		fxpubsub.RunConsumer(),
		fxpubsub.ServeHealth(),
		fx.NopLogger,
		fx.Populate(&hs),
	)
	app.RequireStart()
	if hs.Addr() != "" {
		t.Fatalf("health server listens on %q without health.addr", hs.Addr())
	}
	app.RequireStop()
}

// TestServeHealthFromConfig: health.addr from configuration; the endpoint answers while the app
// runs and is gone after it stopped.
func TestServeHealthFromConfig(t *testing.T) {
	var hs *fxpubsub.HealthServer
	app := fxtest.New(t,
		fxconfig.ForTesting("health-test", map[string]any{
			"sqs_consumer": map[string]any{"wait_seconds": 1},
			"health":       map[string]any{"addr": "127.0.0.1:0"},
		}),
		fxpubsub.Module,
		fxpubsub.RunConsumer(),
		fxpubsub.ServeHealth(),
		fx.NopLogger,
		fx.Populate(&hs),
	)
	app.RequireStart()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + hs.Addr() + fxpubsub.HealthPath
	waitFor(t, 10*time.Second, "GET /health to answer 200", func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	app.RequireStop()
	if _, err := client.Get(url); err == nil {
		t.Fatal("health endpoint still answers after stop")
	}
}
