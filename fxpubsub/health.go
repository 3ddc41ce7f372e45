package fxpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Paths of the health endpoint: [HealthPath] is this library's; [APIHealthPath] and
// [APIHeartbeatPath] are the original daemon's (microcosm-daemon's health server), for probes and
// deployment manifests written for it.
const (
	HealthPath       = "/health"
	APIHealthPath    = "/api/health"
	APIHeartbeatPath = "/api/heartbeat"
)

// HealthChecker reports health: nil when healthy. *[Daemon] implements it.
type HealthChecker interface {
	Healthy() error
}

// HealthConfig is section health: the consumer daemon's HTTP health endpoint, which serves
// GET /health, GET /api/health and POST /api/heartbeat (see [NewHealthHandler]) on one address:
// Addr when set, else Host:Port when Port is set, else nowhere.
type HealthConfig struct {
	// Addr is the listen address, for example "127.0.0.1:8080" or ":8080"; the daemon entry
	// point's --health-addr sets it. Empty (the default): Host and Port decide.
	Addr string `koanf:"addr"`
	// Host is the listen host when Port is set (default "0.0.0.0", as the original's
	// --healthcheck-host).
	Host string `koanf:"host"`
	// Port is the listen port (the original's --healthcheck-port). Default 0: no endpoint, where
	// the original listened on port 80; a Go daemon binds a port only when asked.
	Port int `koanf:"port" validate:"min=0,max=65535"`
	// HeartbeatThresholdSeconds bounds how long a poller may go without a sign of life before
	// the daemon is unhealthy (the original's --heartbeat-threshold-seconds and
	// $MICROCOSM_HEARTBEAT_THRESHOLD_SECONDS); see [DaemonOptions.HealthThreshold]. Default -1
	// (as 0): no bound, and a receiver may fail for a minute before the daemon is unhealthy.
	HeartbeatThresholdSeconds int `koanf:"heartbeat_threshold_seconds" validate:"min=-1"`
}

// DefaultHealthConfig returns the defaults of section health.
func DefaultHealthConfig() HealthConfig {
	return HealthConfig{Host: "0.0.0.0", HeartbeatThresholdSeconds: -1}
}

// Address is where the endpoint listens: Addr, else Host:Port when Port is set, else "" (no
// endpoint).
func (c HealthConfig) Address() string {
	switch {
	case c.Addr != "":
		return c.Addr
	case c.Port > 0:
		return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	}
	return ""
}

func (c HealthConfig) threshold() time.Duration {
	return time.Duration(max(c.HeartbeatThresholdSeconds, 0)) * time.Second
}

// heartbeater is implemented by *Daemon: the pollers' heartbeats listed by GET /api/health.
type heartbeater interface {
	Heartbeats() []Heartbeat
}

type healthBody struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// apiHealthBody is the original's GET /api/health body, with the reason when unhealthy.
type apiHealthBody struct {
	Heartbeats map[string]int64 `json:"heartbeats"`
	Error      string           `json:"error,omitempty"`
}

// NewHealthHandler returns the health endpoint for c:
//
//   - GET (or HEAD) /health answers 200 with {"status":"ok"} while c.Healthy() returns nil, else
//     503 with {"status":"unhealthy","error":...};
//   - GET (or HEAD) /api/health is the original daemon's: 200 with {"heartbeats":{"1":0}} while
//     c.Healthy() returns nil, else 500 with the heartbeats and "error". The heartbeats map each
//     poller's number (where the original had a worker's pid) to the whole seconds since its last
//     sign of life; they come from c's Heartbeats method when it has one, as *[Daemon] does;
//   - POST /api/heartbeat with {"pid": n} answers 201 with {}, as the original's, and 400 for a
//     pid of 0, a missing pid or a body that is not that JSON. Pollers run in this process and
//     are watched directly, so a posted heartbeat changes nothing; it is accepted so that
//     workers and tools that post them keep working.
//
// Other paths are 404 and other methods 405. For the consumer daemon the endpoint turns unhealthy
// when a receiver has been failing for over a minute (or the heartbeat threshold), when a poller
// has shown no sign of life for longer than the heartbeat threshold, after a fatal error, and from
// the moment the daemon starts to drain.
func NewHealthHandler(c HealthChecker) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		body, code := healthBody{Status: "ok"}, http.StatusOK
		if err := c.Healthy(); err != nil {
			body, code = healthBody{Status: "unhealthy", Error: err.Error()}, http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
	mux.HandleFunc("GET "+APIHealthPath, func(w http.ResponseWriter, _ *http.Request) {
		body, code := apiHealthBody{Heartbeats: map[string]int64{}}, http.StatusOK
		if hb, ok := c.(heartbeater); ok {
			for _, h := range hb.Heartbeats() {
				body.Heartbeats[strconv.Itoa(h.Poller)] = int64(h.Since / time.Second)
			}
		}
		if err := c.Healthy(); err != nil {
			body.Error, code = err.Error(), http.StatusInternalServerError
		}
		writeJSON(w, code, body)
	})
	mux.HandleFunc("POST "+APIHeartbeatPath, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			PID json.Number `json:"pid"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, healthBody{Status: "bad request", Error: "want a JSON body {\"pid\": n}: " + err.Error()})
			return
		}
		if pid, err := in.PID.Int64(); err != nil || pid == 0 {
			writeJSON(w, http.StatusBadRequest, healthBody{Status: "bad request", Error: fmt.Sprintf("pid must be a non-zero integer, got %q", in.PID)})
			return
		}
		writeJSON(w, http.StatusCreated, struct{}{})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// HealthServer serves a handler over HTTP for the lifetime of an app: Start listens (so a bad or
// busy address fails start-up) and serves on a goroutine it owns; Stop shuts the server down and
// waits for that goroutine.
type HealthServer struct {
	addr string
	srv  *http.Server

	mu     sync.Mutex
	ln     net.Listener
	served chan struct{}
}

// NewHealthServer returns a server of h on addr ("host:port"; port 0 picks a free port, see
// [HealthServer.Addr]).
func NewHealthServer(addr string, h http.Handler) *HealthServer {
	return &HealthServer{
		addr: addr,
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
	}
}

// Start listens on the address and starts serving in the background.
func (s *HealthServer) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("health endpoint: %w", err)
	}
	s.ln, s.served = ln, make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}()
	return nil
}

// Addr returns the address being listened on ("" before Start).
func (s *HealthServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Stop shuts the server down gracefully within ctx, then waits for the serving goroutine.
func (s *HealthServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if served == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("health endpoint: %w", err), s.srv.Close())
	}
	<-served
	return err
}
