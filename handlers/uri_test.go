package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/handlers"
)

type order struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Count  int    `json:"count"`
}

var (
	orderCreated = fxpubsub.Created("Order")
	orderChanged = fxpubsub.Changed("Order")
)

// dispatch runs h for one message through a real dispatcher (so the handler sees the message, its
// opaque data and its logger in the context) and returns the result.
func dispatch[T any](t *testing.T, mediaType string, h fxpubsub.Handler[T], content *T, opaque fxpubsub.Opaque) fxpubsub.Result {
	t.Helper()
	reg, err := fxpubsub.NewRegistration[T](mediaType, h)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := fxpubsub.NewHandlerRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	d := fxpubsub.NewDispatcher(hr, fxpubsub.DispatcherOptions{})
	_, r := d.Handle(context.Background(), &fxpubsub.Message{
		MediaType: mediaType, Content: content, Opaque: opaque, MessageID: "msg-1", ReceiptHandle: "rh-1", ReceiveCount: 1,
	})
	return r
}

// site is a resource server with a hit counter per path and the headers of the last request.
type site struct {
	*httptest.Server
	mu      sync.Mutex
	hits    map[string]int
	headers http.Header
}

func newSite(t *testing.T, redirectTo string) *site {
	t.Helper()
	s := &site{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.headers = r.Header.Clone()
		s.mu.Unlock()
		switch r.URL.Path {
		case "/orders/1":
			fmt.Fprint(w, `{"id":"1","status":"shipped","count":5}`)
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/slow":
			<-r.Context().Done() // until the client gives up
		case "/redirect":
			http.Redirect(w, r, redirectTo, http.StatusFound)
		case "/redirect-same-host":
			http.Redirect(w, r, "/orders/1", http.StatusFound)
		case "/notjson":
			fmt.Fprint(w, "not json")
		default:
			http.Error(w, "no route", http.StatusTeapot)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *site) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.hits {
		n += c
	}
	return n
}

func (s *site) lastHeaders() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers
}

func newURIHandler(t *testing.T, opts handlers.URIOptions[order]) *handlers.URIHandler[order] {
	t.Helper()
	h, err := handlers.NewURIHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestURIHandlerResults(t *testing.T) {
	// The forbidden server is reached through "localhost", which is not on the allow-list.
	forbidden := newSite(t, "")
	forbiddenURL := strings.Replace(forbidden.URL, "127.0.0.1", "localhost", 1) + "/orders/1"
	s := newSite(t, forbiddenURL)

	var handled atomic.Pointer[order]
	h := newURIHandler(t, handlers.URIOptions[order]{
		AllowedHosts:        []string{"127.0.0.1"},
		AllowLoopback:       true, // the httptest servers
		Timeout:             200 * time.Millisecond,
		ResourceNackTimeout: 3 * time.Second,
		Handle: func(ctx context.Context, msg *fxpubsub.ChangedURIMessage, o *order) error {
			handled.Store(o)
			return nil
		},
	})

	tests := []struct {
		name       string
		mediaType  string
		give       fxpubsub.ChangedURIMessage
		want       fxpubsub.ResultType
		wantReason string
		wantErr    func(error) bool
	}{
		{name: "200", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1"}, want: fxpubsub.Succeeded},
		{name: "404 nacks", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/missing"},
			want: fxpubsub.Retried, wantReason: handlers.ReasonNotFound},
		{name: "500 fails", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/broken"}, want: fxpubsub.Failed,
			wantErr: func(err error) bool {
				var se *handlers.StatusError
				return errors.As(err, &se) && se.StatusCode == 500
			}},
		{name: "slow times out", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/slow"}, want: fxpubsub.Failed,
			wantErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{name: "redirect to forbidden host skips", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/redirect"},
			want: fxpubsub.Skipped, wantReason: "not in the allowed hosts"},
		{name: "redirect within host", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/redirect-same-host"}, want: fxpubsub.Succeeded},
		{name: "host outside allow-list skips", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: forbiddenURL},
			want: fxpubsub.Skipped, wantReason: `host "localhost" is not in the allowed hosts`},
		{name: "file scheme skips", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: "file:///etc/passwd"},
			want: fxpubsub.Skipped, wantReason: "scheme must be http or https"},
		{name: "body not json fails", mediaType: orderCreated, give: fxpubsub.ChangedURIMessage{URI: s.URL + "/notjson"}, want: fxpubsub.Failed},
		{name: "changed field matches", mediaType: orderChanged,
			give: fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1", FieldName: "status", NewValue: "shipped"}, want: fxpubsub.Succeeded},
		{name: "changed non-string field matches", mediaType: orderChanged,
			give: fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1", FieldName: "count", NewValue: "5"}, want: fxpubsub.Succeeded},
		{name: "changed field stale nacks", mediaType: orderChanged,
			give: fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1", FieldName: "status", NewValue: "delivered"},
			want: fxpubsub.Retried, wantReason: handlers.ReasonFieldMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			give := tt.give
			r := dispatch(t, tt.mediaType, h, &give, fxpubsub.Opaque{"x-request-id": "req-1"})
			if r.Type != tt.want {
				t.Fatalf("result %s (%s, %v), want %s", r.Type, r.Reason, r.Err, tt.want)
			}
			if tt.wantReason != "" && !strings.Contains(r.Reason, tt.wantReason) {
				t.Errorf("reason %q, want it to contain %q", r.Reason, tt.wantReason)
			}
			if tt.want == fxpubsub.Retried && r.Retry != 3*time.Second {
				t.Errorf("retry after %v, want the resource nack timeout 3s", r.Retry)
			}
			if tt.wantErr != nil && !tt.wantErr(r.Err) {
				t.Errorf("err = %v", r.Err)
			}
		})
	}
	if forbidden.total() != 0 {
		t.Fatalf("the forbidden host was fetched %d times", forbidden.total())
	}
	if o := handled.Load(); o == nil || o.Status != "shipped" || o.Count != 5 {
		t.Fatalf("handled resource %+v", o)
	}
}

func TestURIHandlerSendsOnlyRequestHeaders(t *testing.T) {
	s := newSite(t, "")
	h := newURIHandler(t, handlers.URIOptions[order]{AllowLoopback: true})
	r := dispatch(t, orderCreated, h, &fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1"},
		fxpubsub.Opaque{"x-request-id": "req-1", "x-request-user": "u", "secret": "s"})
	if r.Type != fxpubsub.Succeeded {
		t.Fatal(r)
	}
	got := s.lastHeaders()
	if got.Get("X-Request-Id") != "req-1" || got.Get("X-Request-User") != "u" {
		t.Errorf("x-request-* headers missing: %v", got)
	}
	for k := range got {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "receipt") || strings.Contains(lk, "message_id") || lk == "secret" || lk == "handler" {
			t.Errorf("header %q leaked from opaque data", k)
		}
	}
}

func TestURIHandlerSkipIfAndFailIfNotFound(t *testing.T) {
	s := newSite(t, "")
	h := newURIHandler(t, handlers.URIOptions[order]{
		FailIfNotFound: true,
		AllowLoopback:  true,
		SkipIf: func(_ context.Context, msg *fxpubsub.ChangedURIMessage) string {
			if strings.HasSuffix(msg.URI, "/orders/1") {
				return "already known"
			}
			return ""
		},
	})
	if r := dispatch(t, orderCreated, h, &fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1"}, nil); r.Type != fxpubsub.Skipped || r.Reason != "already known" {
		t.Fatalf("SkipIf: %s %q", r.Type, r.Reason)
	}
	if s.hitCount("/orders/1") != 0 {
		t.Fatal("a skipped message was fetched")
	}
	if r := dispatch(t, orderCreated, h, &fxpubsub.ChangedURIMessage{URI: s.URL + "/missing"}, nil); r.Type != fxpubsub.Failed {
		t.Fatalf("FailIfNotFound: %s", r.Type)
	}
}

func TestURIHandlerRejectsBadAllowList(t *testing.T) {
	for _, give := range []string{"http://example.com", "example.com:80", ""} {
		if _, err := handlers.NewURIHandler(handlers.URIOptions[order]{AllowedHosts: []string{give}}); err == nil {
			t.Errorf("allowed host %q accepted", give)
		}
	}
	for _, give := range []string{"example.com", "*.example.com", "::1", "[::1]", "10.0.0.1"} {
		if _, err := handlers.NewURIHandler(handlers.URIOptions[order]{AllowedHosts: []string{give}}); err != nil {
			t.Errorf("allowed host %q: %v", give, err)
		}
	}
}

func TestURIHandlerWildcardHost(t *testing.T) {
	h := newURIHandler(t, handlers.URIOptions[order]{AllowedHosts: []string{"*.internal"}})
	for give, want := range map[string]fxpubsub.ResultType{
		"http://orders.internal.evil.com/x": fxpubsub.Skipped,
		"http://internal/x":                 fxpubsub.Skipped,
	} {
		if r := dispatch(t, orderCreated, h, &fxpubsub.ChangedURIMessage{URI: give}, nil); r.Type != want {
			t.Errorf("%s: %s, want %s", give, r.Type, want)
		}
	}
}

// clock is a manual clock for caches and stores.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestURIHandlerCache(t *testing.T) {
	s := newSite(t, "")
	clk := newClock()
	cache := handlers.NewTTLCache(handlers.TTLCacheOptions{TTL: time.Minute, Now: clk.Now})
	h := newURIHandler(t, handlers.URIOptions[order]{Cache: cache, AllowLoopback: true})
	uri := s.URL + "/orders/1"
	run := func(mediaType string, msg fxpubsub.ChangedURIMessage) {
		t.Helper()
		if r := dispatch(t, mediaType, h, &msg, nil); r.Type != fxpubsub.Succeeded {
			t.Fatalf("%s: %s %v", mediaType, r.Type, r.Err)
		}
	}

	run(orderCreated, fxpubsub.ChangedURIMessage{URI: uri}) // miss: fetched and stored
	run(orderCreated, fxpubsub.ChangedURIMessage{URI: uri}) // hit
	if n := s.hitCount("/orders/1"); n != 1 {
		t.Fatalf("fetched %d times, want 1 (second served from cache)", n)
	}
	if st := cache.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("stats %+v, want 1 hit 1 miss", st)
	}

	clk.Advance(59 * time.Second)
	run(orderCreated, fxpubsub.ChangedURIMessage{URI: uri}) // still fresh
	if n := s.hitCount("/orders/1"); n != 1 {
		t.Fatalf("fetched %d times before expiry, want 1", n)
	}
	clk.Advance(time.Second) // expired at exactly the TTL
	run(orderCreated, fxpubsub.ChangedURIMessage{URI: uri})
	if n := s.hitCount("/orders/1"); n != 2 {
		t.Fatalf("fetched %d times after expiry, want 2", n)
	}

	// Changed messages are not cacheable by default: always fetched.
	run(orderChanged, fxpubsub.ChangedURIMessage{URI: uri, FieldName: "status", NewValue: "shipped"})
	run(orderChanged, fxpubsub.ChangedURIMessage{URI: uri})
	if n := s.hitCount("/orders/1"); n != 4 {
		t.Fatalf("fetched %d times, want 4 (changed messages bypass the cache)", n)
	}
}

func TestURIHandlerCacheableHook(t *testing.T) {
	s := newSite(t, "")
	cache := handlers.NewTTLCache(handlers.TTLCacheOptions{})
	h := newURIHandler(t, handlers.URIOptions[order]{
		Cache:         cache,
		AllowLoopback: true,
		Cacheable:     func(mediaType, uri string) bool { return strings.Contains(uri, "/orders/") },
	})
	for range 3 {
		if r := dispatch(t, orderChanged, h, &fxpubsub.ChangedURIMessage{URI: s.URL + "/orders/1"}, nil); r.Type != fxpubsub.Succeeded {
			t.Fatal(r)
		}
	}
	if n := s.hitCount("/orders/1"); n != 1 {
		t.Fatalf("fetched %d times, want 1", n)
	}
	// Errors are never cached.
	for range 2 {
		dispatch(t, orderChanged, h, &fxpubsub.ChangedURIMessage{URI: s.URL + "/missing"}, nil)
	}
	if n := s.hitCount("/missing"); n != 2 {
		t.Fatalf("404 fetched %d times, want 2", n)
	}
}
