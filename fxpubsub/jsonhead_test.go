package fxpubsub

import (
	"testing"
	"unsafe"
)

// A registered media type and the library's own opaque keys are not allocated per message: the
// head scanner returns the registered string and the key constants.
func TestScanHeadInterns(t *testing.T) {
	reg := fuzzRegistry(t)
	body := []byte(`{"mediaType":"` + orderMT + `","uri":"https://o/1","opaqueData":{"x-request-id":"r1","x-request-published":"1.5","x-request-ttl":"3","x-request-user":"u","other":"o"}}`)
	h, ok := scanHeadIn(body, reg)
	if !ok || h.mediaType != orderMT || h.opaque.Get(OpaqueRequestID) != "r1" || h.opaque.Get("other") != "o" {
		t.Fatalf("scanHeadIn = %+v, %v", h, ok)
	}
	schema, _ := reg.Find(orderMT)
	if unsafe.StringData(h.mediaType) != unsafe.StringData(schema.mediaType) {
		t.Error("the media type is a new string, not the registered one")
	}
	for _, k := range []string{OpaqueRequestID, OpaquePublished, OpaqueTTL, OpaqueRequestUser} {
		for got := range h.opaque {
			if got == k && unsafe.StringData(got) != unsafe.StringData(k) {
				t.Errorf("opaque key %q is a new string", k)
			}
		}
	}
	plain := testing.AllocsPerRun(100, func() { _, _ = scanHead(body) })
	interned := testing.AllocsPerRun(100, func() { _, _ = scanHeadIn(body, reg) })
	if interned > plain-1 {
		t.Errorf("%v allocations with the registry, %v without; want one fewer (the media type)", interned, plain)
	}
	for _, k := range []string{OpaqueRequestID, OpaquePublished, OpaqueTTL, OpaqueRequestUser} {
		tok := []byte(`"` + k + `"`)
		if n := testing.AllocsPerRun(100, func() { _, _ = unquoteOpaqueKey(tok) }); n != 0 {
			t.Errorf("unquoteOpaqueKey(%s) allocates %v times", tok, n)
		}
	}
	// Unregistered, escaped or wildcard-matched media types are decoded as before.
	for _, tc := range []struct{ tok, want string }{
		{`"application/vnd.unknown"`, "application/vnd.unknown"},
		{`"` + orderMT[:5] + `\u0063` + orderMT[6:] + `"`, orderMT},
		{`"` + fuzzWildMT + `"`, fuzzWildMT},
	} {
		if got, ok := reg.unquoteMediaType([]byte(tc.tok)); !ok || got != tc.want {
			t.Errorf("unquoteMediaType(%s) = %q, %v; want %q", tc.tok, got, ok, tc.want)
		}
	}
}
