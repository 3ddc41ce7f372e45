package fxpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseTTL(t *testing.T) {
	good := map[string]struct {
		v    any
		want int
	}{
		"string":            {"7", 7},
		"string with space": {" 7 ", 7},
		"signed string":     {"+7", 7},
		"negative string":   {"-1", -1},
		"number":            {json.RawMessage("7"), 7},
		"integral float":    {json.RawMessage("7.0"), 7},
		"exponent":          {json.RawMessage("1e1"), 10},
		"zero":              {json.RawMessage("0"), 0},
	}
	for name, tt := range good {
		if got, err := parseTTL(tt.v); err != nil || got != tt.want {
			t.Errorf("%s: parseTTL(%#v) = %d, %v; want %d", name, tt.v, got, err, tt.want)
		}
	}
	bad := map[string]struct {
		v    any
		text string
	}{
		"word":      {"seven", `"seven"`},
		"empty":     {"", `""`},
		"fraction":  {"1.5", `"1.5"`},
		"null":      {json.RawMessage("null"), "null"},
		"float":     {json.RawMessage("1.5"), "1.5"},
		"bool":      {json.RawMessage("true"), "true"},
		"object":    {json.RawMessage(`{"a":1}`), `{"a":1}`},
		"huge":      {json.RawMessage("1e400"), "1e400"},
		"Go bool":   {false, "false"},
		"Go float":  {2.5, "2.5"},
		"Go struct": {struct{}{}, "{}"},
	}
	for name, tt := range bad {
		_, err := parseTTL(tt.v)
		var te *InvalidTTLError
		if !errors.As(err, &te) || te.Key != OpaqueTTL || string(te.Value) != tt.text {
			t.Errorf("%s: parseTTL(%#v) error = %v, want *InvalidTTLError for %s", name, tt.v, err, tt.text)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `"x-request-ttl"`) || !strings.Contains(msg, tt.text) {
			t.Errorf("%s: error %q must name the key and the value %s", name, msg, tt.text)
		}
	}
}

// handleTTL runs one message with opaque data through a dispatcher with TTL on, returning the
// result and the TTL the handler saw ("" when it did not run).
func handleTTL(t *testing.T, opaque Opaque) (Result, string, Opaque) {
	t.Helper()
	var seen Opaque
	reg, err := NewRegistration[orderCreated](orderMT, HandlerFunc[orderCreated](func(ctx context.Context, _ *orderCreated) error {
		seen = OpaqueFrom(ctx).Clone()
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := NewHandlerRegistry(reg)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(hr, DispatcherOptions{EnableTTL: true})
	_, r := d.Handle(context.Background(), &Message{MediaType: orderMT, Content: &orderCreated{}, MessageID: "m", Opaque: opaque})
	return r, seen.Get(OpaqueTTL), seen
}

// Only the exact key x-request-ttl is the hop TTL (the original reads it from the case-sensitive
// wire dict); other spellings are ordinary data, replaced by the real TTL in the handler's
// case-folded context.
func TestHopTTLExactKey(t *testing.T) {
	for _, tt := range []struct {
		name    string
		opaque  Opaque
		wantTTL string
	}{
		{"mixed case 1", Opaque{"X-Request-Ttl": "1"}, "31"},
		{"mixed case 7", Opaque{"X-Request-Ttl": "7"}, "31"},
		{"upper case 0", Opaque{"X-REQUEST-TTL": "0"}, "31"},
		{"both", Opaque{"X-Request-Ttl": "1", "x-request-ttl": "7"}, "6"},
		{"number", Opaque{"x-request-ttl": json.RawMessage("7")}, "6"},
		{"none", Opaque{}, "31"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ttl, seen := handleTTL(t, tt.opaque)
			if r.Type != Succeeded || ttl != tt.wantTTL {
				t.Fatalf("result %v, handler saw ttl %q; want SUCCEEDED with %q", r.Type, ttl, tt.wantTTL)
			}
			for k := range seen {
				if k != lowerKey(k) {
					t.Fatalf("handler context has key %q, want lower-case keys only: %v", k, seen)
				}
			}
		})
	}
	if r, _, _ := handleTTL(t, Opaque{"x-request-ttl": "1"}); r.Type != Expired {
		t.Fatalf("x-request-ttl 1: result %v, want EXPIRED", r.Type)
	}
}

// A TTL that does not parse never restarts loop protection: the message is FAILED (backoff then
// takes it to the dead-letter queue) with an error naming the key and the value, and its handler
// does not run.
func TestHopTTLInvalidFails(t *testing.T) {
	for _, v := range []any{"seven", "", json.RawMessage("null"), json.RawMessage("1.5"), json.RawMessage("true")} {
		r, ttl, _ := handleTTL(t, Opaque{"x-request-ttl": v})
		var te *InvalidTTLError
		if r.Type != Failed || !errors.As(r.Err, &te) || ttl != "" {
			t.Errorf("ttl %#v: result %v (%v), handler saw %q; want FAILED with *InvalidTTLError and no handler call", v, r.Type, r.Err, ttl)
			continue
		}
		if raw, _ := opaqueJSON(v); string(te.Value) != string(raw) {
			t.Errorf("ttl %#v: error names value %s", v, te.Value)
		}
	}
	// With loop protection off the TTL is not read, as in the original.
	hr, err := NewHandlerRegistry()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDispatcher(hr, DispatcherOptions{EnableTTL: false})
	if _, r := d.Handle(context.Background(), &Message{MediaType: orderMT, Opaque: Opaque{"x-request-ttl": "seven"}}); r.Type != Ignored {
		t.Fatalf("ttl off: result %v, want IGNORED (no handler)", r.Type)
	}
}

func TestClampOverride(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ambient  Opaque
		override Opaque
		want     Opaque
	}{
		{"lowers", Opaque{"x-request-ttl": "20"}, Opaque{"x-request-ttl": "5"}, Opaque{"x-request-ttl": "5"}},
		{"cannot raise", Opaque{"x-request-ttl": "20"}, Opaque{"x-request-ttl": "99"}, Opaque{"x-request-ttl": "20"}},
		{"no ambient: capped at 32", Opaque{}, Opaque{"X-Request-Ttl": json.RawMessage("99")}, Opaque{"x-request-ttl": "32"}},
		{"other keys replace", Opaque{"x-request-id": "a"}, Opaque{"X-Request-Id": "b"}, Opaque{"x-request-id": "b"}},
		{"unparsable ambient stays", Opaque{"x-request-ttl": "junk"}, Opaque{"x-request-ttl": "3"}, Opaque{"x-request-ttl": "junk"}},
	} {
		got := tt.ambient.Clone()
		if err := clampOverride(got, tt.override); err != nil || !equalOpaque(got, tt.want) {
			t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	var te *InvalidTTLError
	if err := clampOverride(Opaque{}, Opaque{"x-request-ttl": "seven"}); !errors.As(err, &te) {
		t.Fatalf("bad override ttl: err = %v, want *InvalidTTLError", err)
	}
}

func equalOpaque(a, b Opaque) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || opaqueString(v) != opaqueString(w) {
			return false
		}
	}
	return true
}
