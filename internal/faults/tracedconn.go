package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ConnTracer wraps a dialer so every connection records who closed it, and when. It exists to
// diagnose "use of closed network connection" errors: a read on a connection this process closed
// itself. Install it with TraceDial on an http.Transport.
type ConnTracer struct {
	nextID atomic.Int64
	mu     sync.Mutex
	events []string // reads that failed, with the closer's stack when the close was local
	notes  []string // harmless events: requests that never reached the server (see Notes)
	max    int
}

// NewConnTracer keeps up to max events.
func NewConnTracer(max int) *ConnTracer { return &ConnTracer{max: max} }

// TraceDial wraps dial.
func (c *ConnTracer) TraceDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &tracedConn{Conn: conn, tracer: c, id: c.nextID.Add(1), created: time.Now()}, nil
	}
}

// Events returns the recorded events.
func (c *ConnTracer) Events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// Notes returns the harmless events: a request whose write failed before a byte of it left, on a
// connection this process had already closed and before any response. That is the pool handing
// out a keep-alive connection the transport was closing at that moment (the server's idle
// timeout; it shows under load): the request never reached the server, so no message was
// received or stalled, and the call is repeated on a new connection.
func (c *ConnTracer) Notes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notes...)
}

func (c *ConnTracer) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) < c.max {
		c.events = append(c.events, s)
	}
}

func (c *ConnTracer) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.notes) < c.max {
		c.notes = append(c.notes, s)
	}
}

type tracedConn struct {
	net.Conn
	tracer  *ConnTracer
	id      int64
	created time.Time

	mu         sync.Mutex
	closedAt   time.Time
	closeStack string
	read       int64
	lastRead   time.Time
}

func (t *tracedConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	t.mu.Lock()
	t.read += int64(n)
	if n > 0 {
		t.lastRead = time.Now()
	}
	closedAt, stack, total, last := t.closedAt, t.closeStack, t.read, t.lastRead
	t.mu.Unlock()
	if err != nil && !errors.Is(err, net.ErrClosed) && !closedAt.IsZero() {
		return n, err
	}
	if err != nil && (errors.Is(err, net.ErrClosed) || !isEOF(err)) && !strings.Contains(stack, "cancelRequest") {
		t.tracer.record(fmt.Sprintf("conn %d (%s -> %s, age %s, %d bytes read, last read %s ago): read error %v; closed locally %s ago by:\n%s",
			t.id, t.LocalAddr(), t.RemoteAddr(), time.Since(t.created).Round(time.Millisecond), total, since(last), err, since(closedAt), stack))
	}
	return n, err
}

func (t *tracedConn) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if err != nil {
		t.mu.Lock()
		closedAt, stack := t.closedAt, t.closeStack
		t.mu.Unlock()
		msg := fmt.Sprintf("conn %d (%s): write of %d bytes failed after %d: %v (closed locally %s ago by:\n%s)", t.id, t.LocalAddr(), len(p), n, err, since(closedAt), stack)
		if n == 0 && !closedAt.IsZero() && closedConnError(err) {
			t.tracer.note(msg)
		} else {
			t.tracer.record(msg)
		}
	}
	return n, err
}

// TraceBodies wraps rt so request bodies record read errors (the transport's writeLoop closes the
// connection when writing a request fails).
func (c *ConnTracer) TraceBodies(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		op, start := req.Header.Get("X-Amz-Target"), time.Now()
		var gotResp atomic.Int64
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotFirstResponseByte: func() { gotResp.Store(int64(time.Since(start))) },
			WroteRequest: func(info httptrace.WroteRequestInfo) {
				if info.Err != nil {
					msg := fmt.Sprintf("writing the request of %s failed %s after it started (first response byte after %s): %T %v",
						op, since(start), time.Duration(gotResp.Load()), info.Err, info.Err)
					// Before any response, on a connection already closed here: see Notes. The bug
					// this tracer was built for fails after the response has started, with io.EOF.
					if gotResp.Load() == 0 && closedConnError(info.Err) {
						c.note(msg)
					} else {
						c.record(msg)
					}
				}
			},
		}))
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (t *tracedConn) Close() error {
	t.mu.Lock()
	if t.closedAt.IsZero() {
		t.closedAt = time.Now()
		buf := make([]byte, 8192)
		t.closeStack = string(buf[:runtime.Stack(buf, false)])
	}
	t.mu.Unlock()
	return t.Conn.Close()
}

// closedConnError: net.ErrClosed, also inside net/http's requestBodyReadError, which does not
// unwrap.
func closedConnError(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), net.ErrClosed.Error())
}

func isEOF(err error) bool { return err != nil && err.Error() == "EOF" }

func since(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(time.Millisecond).String()
}
