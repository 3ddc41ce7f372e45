package fxpubsub_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// beatingChecker is a health checker with pollers' heartbeats, as *fxpubsub.Daemon.
type beatingChecker struct {
	beats []fxpubsub.Heartbeat
}

func (c beatingChecker) Heartbeats() []fxpubsub.Heartbeat { return c.beats }

func (c beatingChecker) Healthy() error {
	var errs []error
	for _, b := range c.beats {
		errs = append(errs, b.Err)
	}
	return errors.Join(errs...)
}

// TestAPIHealth: GET /api/health answers as the original's: 200 with each poller's seconds since
// its last sign of life, 500 (with the reason) when one is unhealthy.
func TestAPIHealth(t *testing.T) {
	tests := []struct {
		name     string
		give     fxpubsub.HealthChecker
		wantCode int
		wantBody string
	}{
		{"healthy pollers", beatingChecker{[]fxpubsub.Heartbeat{{Poller: 1, Since: 1500 * time.Millisecond}, {Poller: 2}}},
			http.StatusOK, `{"heartbeats":{"1":1,"2":0}}`},
		{"a dead poller", beatingChecker{[]fxpubsub.Heartbeat{{Poller: 1}, {Poller: 2, Since: 3 * time.Second, Err: errors.New("poller 2: consumer stopped: gone")}}},
			http.StatusInternalServerError, `{"heartbeats":{"1":0,"2":3},"error":"poller 2: consumer stopped: gone"}`},
		{"no heartbeats", checkFunc(func() error { return nil }), http.StatusOK, `{"heartbeats":{}}`},
		{"unhealthy without heartbeats", checkFunc(func() error { return errors.New("draining") }),
			http.StatusInternalServerError, `{"heartbeats":{},"error":"draining"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			fxpubsub.NewHealthHandler(tt.give).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fxpubsub.APIHealthPath, nil))
			if rec.Code != tt.wantCode || strings.TrimSpace(rec.Body.String()) != tt.wantBody {
				t.Fatalf("got %d %s, want %d %s", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestAPIHeartbeat: POST /api/heartbeat takes {"pid": n} with 201, as the original; a pid of 0, a
// missing pid or a body that is not that JSON is 400 naming the problem; other methods are 405.
func TestAPIHeartbeat(t *testing.T) {
	h := fxpubsub.NewHealthHandler(checkFunc(func() error { return nil }))
	tests := []struct {
		method, body string
		wantCode     int
		wantError    string
	}{
		{http.MethodPost, `{"pid": 4242}`, http.StatusCreated, ""},
		{http.MethodPost, `{"pid": 0}`, http.StatusBadRequest, `pid must be a non-zero integer, got "0"`},
		{http.MethodPost, `{}`, http.StatusBadRequest, `pid must be a non-zero integer, got ""`},
		{http.MethodPost, `{"pid": 1.5}`, http.StatusBadRequest, `pid must be a non-zero integer, got "1.5"`},
		{http.MethodPost, `{"pid": "7"}`, http.StatusCreated, ""}, // the original casts with int()
		{http.MethodPost, `{"pid": "seven"}`, http.StatusBadRequest, "want a JSON body"},
		{http.MethodPost, `pid=7`, http.StatusBadRequest, "want a JSON body"},
		{http.MethodGet, ``, http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, fxpubsub.APIHeartbeatPath, strings.NewReader(tt.body)))
		if rec.Code != tt.wantCode {
			t.Errorf("%s %s: code %d, want %d (%s)", tt.method, tt.body, rec.Code, tt.wantCode, rec.Body.String())
			continue
		}
		switch tt.wantCode {
		case http.StatusCreated:
			if got := strings.TrimSpace(rec.Body.String()); got != "{}" {
				t.Errorf("%s: body %q, want {}", tt.body, got)
			}
		case http.StatusBadRequest:
			var r healthReply
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || !strings.Contains(r.Error, tt.wantError) {
				t.Errorf("%s: body %q, want an error containing %q", tt.body, rec.Body.String(), tt.wantError)
			}
		}
	}
}
