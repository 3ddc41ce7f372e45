package fxpubsub

import (
	"context"
	"maps"
	"strings"
)

// Opaque keys with meaning to the library. Keys are always lower case.
const (
	OpaqueRequestID     = "x-request-id"
	OpaqueRequestUser   = "x-request-user"
	OpaqueTTL           = "x-request-ttl"
	OpaquePublished     = "x-request-published"
	OpaqueMessageID     = "message_id"
	OpaqueURI           = "uri"
	OpaqueReceiptHandle = "receipt_handle"
	OpaqueHandler       = "handler"
	OpaqueMediaType     = "media_type"
)

// Opaque is the request context that travels with messages as "opaqueData": a map with
// case-insensitive (lower-cased) string keys and string values. The dispatcher seeds one per message
// into the handler's context.Context, and the producer merges the context's Opaque into every
// message it publishes, so request ids and the hop TTL cross services.
type Opaque map[string]string

// NewOpaque copies kv into a new Opaque, lower-casing keys.
func NewOpaque(kv map[string]string) Opaque {
	o := make(Opaque, len(kv))
	for k, v := range kv {
		o[strings.ToLower(k)] = v
	}
	return o
}

// Get returns the value for key, case-insensitively.
func (o Opaque) Get(key string) string { return o[lowerKey(key)] }

// Set stores value under the lower-cased key.
func (o Opaque) Set(key, value string) { o[lowerKey(key)] = value }

// Clone returns a copy; a nil Opaque clones to an empty one.
func (o Opaque) Clone() Opaque {
	c := make(Opaque, len(o)+6) // room for what the dispatcher adds
	maps.Copy(c, o)
	return c
}

// Merge copies every entry of other into o, overwriting.
func (o Opaque) Merge(other Opaque) {
	for k, v := range other {
		o[lowerKey(k)] = v
	}
}

func lowerKey(k string) string {
	for i := 0; i < len(k); i++ {
		if c := k[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(k)
		}
	}
	return k
}

type opaqueKey struct{}

// WithOpaque returns a context carrying o (copied). Values already in ctx stay underneath: o's
// entries win.
func WithOpaque(ctx context.Context, o Opaque) context.Context {
	merged := OpaqueFrom(ctx).Clone()
	merged.Merge(o)
	return context.WithValue(ctx, opaqueKey{}, merged)
}

// WithOpaqueValue returns a context whose Opaque has key set to value.
func WithOpaqueValue(ctx context.Context, key, value string) context.Context {
	return WithOpaque(ctx, Opaque{lowerKey(key): value})
}

// OpaqueFrom returns the Opaque carried by ctx, or nil. Treat it as read-only; Clone before changing.
func OpaqueFrom(ctx context.Context) Opaque {
	o, _ := ctx.Value(opaqueKey{}).(Opaque)
	return o
}

// withOpaqueOwned stores o without copying; the caller hands over ownership.
func withOpaqueOwned(ctx context.Context, o Opaque) context.Context {
	return context.WithValue(ctx, opaqueKey{}, o)
}
