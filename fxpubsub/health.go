package fxpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// HealthPath is the path the health endpoint answers on.
const HealthPath = "/health"

// HealthChecker reports health: nil when healthy. *[Daemon] implements it.
type HealthChecker interface {
	Healthy() error
}

// HealthConfig is section health: the consumer daemon's HTTP health endpoint.
type HealthConfig struct {
	// Addr is the listen address of GET /health, for example "127.0.0.1:8080" or ":8080"; the
	// daemon entry point's --health-addr sets it. Empty (the default) serves nothing.
	Addr string `koanf:"addr"`
}

type healthBody struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// NewHealthHandler returns the health endpoint for c: GET (or HEAD) /health answers 200 with
// {"status":"ok"} while c.Healthy() returns nil, else 503 with {"status":"unhealthy","error":...}.
// Other paths are 404 and other methods 405. For the consumer daemon the endpoint turns unhealthy
// when a receiver has been failing for over a minute, after a fatal error, and from the moment the
// daemon starts to drain.
func NewHealthHandler(c HealthChecker) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		body, code := healthBody{Status: "ok"}, http.StatusOK
		if err := c.Healthy(); err != nil {
			body, code = healthBody{Status: "unhealthy", Error: err.Error()}, http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
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

// HealthParams are the health endpoint's dependencies.
type HealthParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Settings  *fxconfig.Settings
	Daemon    *Daemon
	Logger    *zap.Logger `optional:"true"`
}

// NewHealthServerFx reads section health and, when health.addr is set, returns a server of the
// daemon's health endpoint tied to the lifecycle; with no address it returns a server that never
// listens. The server stops only after the daemon has drained, so probes see 503 during the
// drain rather than a refused connection.
func NewHealthServerFx(p HealthParams) (*HealthServer, error) {
	var cfg HealthConfig
	if err := p.Settings.Unmarshal("health", &cfg); err != nil {
		return nil, err
	}
	s := NewHealthServer(cfg.Addr, NewHealthHandler(p.Daemon))
	if cfg.Addr == "" {
		return s, nil
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := s.Start(ctx); err != nil {
				return err
			}
			if p.Logger != nil {
				p.Logger.Info("health endpoint listening", zap.String("addr", s.Addr()), zap.String("path", HealthPath))
			}
			return nil
		},
		OnStop: func(ctx context.Context) error {
			// This hook runs before the daemon's own (it was appended after it): drain first, while
			// the endpoint still answers. Daemon.Stop is idempotent; the daemon's hook reports its
			// error.
			_ = p.Daemon.Stop(ctx)
			return s.Stop(ctx)
		},
	})
	return s, nil
}

// ServeHealth serves the consumer daemon's health endpoint on health.addr (--health-addr in
// [Main]) for the app's lifetime, and provides the *[HealthServer]. It needs the daemon, so it
// goes with [RunConsumer]. With no address configured it serves nothing.
func ServeHealth() fx.Option {
	return fx.Options(
		fx.Provide(NewHealthServerFx),
		fx.Invoke(func(*HealthServer) {}),
	)
}
