package fxsentry_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// event is one event as the Sentry server received it (the JSON payload of an "event" item).
type event map[string]any

func (e event) str(path ...string) string {
	var v any = map[string]any(e)
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (e event) tags() map[string]string {
	out := map[string]string{}
	m, _ := e["tags"].(map[string]any)
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}

// list returns a list field, given either as a list or as {"values": [...]}.
func (e event) list(field string) []any {
	switch v := e[field].(type) {
	case []any:
		return v
	case map[string]any:
		values, _ := v["values"].([]any)
		return values
	}
	return nil
}

// exceptions returns the exception chain, innermost first (as Sentry orders it).
func (e event) exceptions() []any { return e.list("exception") }

// exception returns the outermost exception.
func (e event) exception() map[string]any {
	values := e.exceptions()
	if len(values) == 0 {
		return nil
	}
	last, _ := values[len(values)-1].(map[string]any)
	return last
}

// sentryServer plays Sentry's envelope endpoint on 127.0.0.1 for a real sentry-go client.
type sentryServer struct {
	*httptest.Server
	mu      sync.Mutex
	events  []event
	auth    []string
	changed chan struct{}
}

func newSentryServer(t *testing.T) *sentryServer {
	t.Helper()
	s := &sentryServer{changed: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// DSN is a DSN for project 1 on this server.
func (s *sentryServer) DSN() string {
	return "http://public@" + strings.TrimPrefix(s.URL, "http://") + "/1"
}

func (s *sentryServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/1/envelope/" {
		http.Error(w, "not an envelope endpoint: "+r.URL.Path, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	events, err := parseEnvelope(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.events = append(s.events, events...)
	s.auth = append(s.auth, r.Header.Get("X-Sentry-Auth"))
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{}`))
}

// parseEnvelope returns the event items of a Sentry envelope: a header line, then items, each an
// item header line and a payload (of the header's length, else up to the next newline).
func parseEnvelope(body []byte) ([]event, error) {
	rd := bufio.NewReader(bytes.NewReader(body))
	if _, err := rd.ReadBytes('\n'); err != nil {
		return nil, err
	}
	var events []event
	for {
		line, err := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return events, nil
			}
			continue
		}
		var hdr struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if err := json.Unmarshal(line, &hdr); err != nil {
			return nil, err
		}
		var payload []byte
		if hdr.Length != nil {
			payload = make([]byte, *hdr.Length)
			if _, err := io.ReadFull(rd, payload); err != nil {
				return nil, err
			}
			_, _ = rd.ReadBytes('\n')
		} else {
			payload, _ = rd.ReadBytes('\n')
		}
		if hdr.Type != "event" {
			continue
		}
		var e event
		if err := json.Unmarshal(payload, &e); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
}

func (s *sentryServer) Events() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.events...)
}

// wait returns the events once there are at least n, failing t after within.
func (s *sentryServer) wait(t *testing.T, n int, within time.Duration) []event {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		if events := s.Events(); len(events) >= n {
			return events
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("sentry server got %d events within %s, want %d", len(s.Events()), within, n)
		}
	}
}

// byTag indexes events by the value of one tag.
func byTag(events []event, tag string) map[string]event {
	out := map[string]event{}
	for _, e := range events {
		out[e.tags()[tag]] = e
	}
	return out
}
