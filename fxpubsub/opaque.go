package fxpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
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

// Opaque is the request context that travels with messages as "opaqueData". The dispatcher seeds
// one per message into the handler's context.Context, and the producer merges the context's
// Opaque into every message it publishes, so request ids and the hop TTL cross services.
//
// Values keep their JSON type, as in the original: a JSON string is a Go string, and any other
// JSON value (number, boolean, object, array, null) is a [json.RawMessage] holding its exact text,
// so 123, 1e400 or {"a":[true]} reach the next hop as written. A value of any other Go type is
// encoded with encoding/json when the message is encoded. [Opaque.Get] and [Opaque.Set] serve the
// common string case; [Opaque.Value] and [Opaque.SetValue] the typed one.
//
// Keys: a received message's [Message.Opaque] keeps the keys exactly as they were on the wire
// (the original's SQSMessage.opaque_data). Everything else is the original's case-folded dict:
// the handler's context opaque, [NewOpaque], [Opaque.Set], [Opaque.Merge], [WithOpaque] and the
// producer lower-case keys, so the wire carries lower-case keys only.
type Opaque map[string]any

// NewOpaque copies kv into a new Opaque, lower-casing keys (where two keys differ only in case,
// the lower-case spelling wins).
func NewOpaque[V any](kv map[string]V) Opaque {
	o := make(Opaque, len(kv))
	for _, k := range foldOrder(kv) {
		o[lowerKey(k)] = kv[k]
	}
	return o
}

// Get returns the value for key as a string: a string value as is, any other value as its JSON
// text ("123", "true", `{"a":1}`); "" when absent. Keys match case-insensitively: the key as
// given first, then lower-cased, then any spelling (the greatest in sort order, as [Opaque.Merge]
// keeps).
func (o Opaque) Get(key string) string {
	v, ok := o.lookup(key)
	if !ok {
		return ""
	}
	return opaqueString(v)
}

// Value returns the exact JSON text of the value for key (a string value quoted), found as by
// [Opaque.Get]; false when absent or not encodable as JSON.
func (o Opaque) Value(key string) (json.RawMessage, bool) {
	v, ok := o.lookup(key)
	if !ok {
		return nil, false
	}
	raw, err := opaqueJSON(v)
	return raw, err == nil
}

// Set stores the string value under the lower-cased key.
func (o Opaque) Set(key, value string) { o[lowerKey(key)] = value }

// SetValue stores v under the lower-cased key with its JSON type: a string stays a string, a
// json.RawMessage must be valid JSON and is kept as written, and any other value is stored as its
// encoding/json text. It returns an error, and stores nothing, when v does not encode.
func (o Opaque) SetValue(key string, v any) error {
	switch x := v.(type) {
	case string:
		o[lowerKey(key)] = x
		return nil
	case json.RawMessage:
		if !json.Valid(x) {
			return fmt.Errorf("opaque %q: invalid JSON %q", key, x)
		}
		o[lowerKey(key)] = json.RawMessage(bytes.Clone(bytes.TrimSpace(x)))
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("opaque %q: %w", key, err)
	}
	o[lowerKey(key)] = json.RawMessage(raw)
	return nil
}

func (o Opaque) lookup(key string) (any, bool) {
	if v, ok := o[key]; ok {
		return v, true
	}
	if v, ok := o[lowerKey(key)]; ok {
		return v, true
	}
	found := ""
	for k := range o {
		if strings.EqualFold(k, key) && k > found {
			found = k
		}
	}
	if found == "" {
		return nil, false
	}
	return o[found], true
}

// Clone returns a copy; a nil Opaque clones to an empty one.
func (o Opaque) Clone() Opaque {
	c := make(Opaque, len(o)+6) // room for what the dispatcher adds
	maps.Copy(c, o)
	return c
}

// Merge copies every entry of other into o under its lower-cased key, overwriting. Where keys of
// other differ only in case, the lower-case spelling wins, so the answer never depends on map
// iteration order (a redelivered message decodes the same).
func (o Opaque) Merge(other Opaque) {
	for _, k := range foldOrder(other) {
		o[lowerKey(k)] = other[k]
	}
}

// MarshalJSON encodes o as a JSON object, as encoding/json encodes a map[string]any (keys sorted,
// strings HTML-escaped); a nil Opaque is {} (never null on the wire). An error names the key whose
// value does not encode.
func (o Opaque) MarshalJSON() ([]byte, error) {
	return o.appendJSON(make([]byte, 0, o.jsonSizeHint()))
}

// appendJSON appends o as a JSON object, byte for byte what encoding/json writes for the
// map[string]any: keys sorted, strings HTML-escaped as [appendJSONString] does, a json.RawMessage
// compacted and HTML-escaped (copied as is when it is already so, the usual case), any other value
// as json.Marshal writes it. A nil o is {}. An error names the key whose value does not encode.
func (o Opaque) appendJSON(b []byte) ([]byte, error) {
	var stack [16]opaqueEntry // typical opaque data fits: no allocation to sort the keys
	entries := stack[:0]
	for k, v := range o {
		entries = append(entries, opaqueEntry{k, v})
	}
	slices.SortFunc(entries, func(x, y opaqueEntry) int { return strings.Compare(x.key, y.key) })
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.key)
		b = append(b, ':')
		var err error
		if b, err = appendOpaqueValue(b, e.value); err != nil {
			return nil, fmt.Errorf("opaque %q: %w", e.key, err)
		}
	}
	return append(b, '}'), nil
}

type opaqueEntry struct {
	key   string
	value any
}

// jsonSizeHint is the length of o's JSON when nothing needs escaping (a guess for values that are
// neither strings nor json.RawMessage), to size a buffer once.
func (o Opaque) jsonSizeHint() int {
	n := 2
	for k, v := range o {
		n += len(k) + 4 // quotes, colon, comma
		switch x := v.(type) {
		case string:
			n += len(x) + 2
		case json.RawMessage:
			n += max(len(x), len("null"))
		default:
			n += 16
		}
	}
	return n
}

// appendOpaqueValue appends one opaque value as encoding/json writes it inside a map[string]any.
func appendOpaqueValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendJSONString(b, x), nil
	case json.RawMessage:
		if x == nil {
			return append(b, "null"...), nil // what RawMessage.MarshalJSON says for nil
		}
		if plainJSON(x) {
			return append(b, x...), nil
		}
	case nil:
		return append(b, "null"...), nil
	}
	raw, err := json.Marshal(v) // also what compacts and HTML-escapes an untidy json.RawMessage
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// plainJSON reports whether raw is valid JSON that encoding/json would write unchanged: nothing for
// compaction to drop (no whitespace at all, even inside strings, to keep the check simple) and
// nothing for HTML escaping (<, >, &, or the lead byte of U+2028 and U+2029).
func plainJSON(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
			return false
		}
	}
	return json.Valid(raw)
}

// UnmarshalJSON decodes a JSON object keeping keys exactly and values with their JSON types
// (strings as strings, anything else as its exact JSON text).
func (o *Opaque) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*o = nil
		return nil
	}
	*o = opaqueFromRaw(raw)
	return nil
}

// opaqueFromRaw keeps keys exactly; string values are unquoted, the rest kept as JSON text.
func opaqueFromRaw(raw map[string]json.RawMessage) Opaque {
	o := make(Opaque, len(raw)+6)
	for k, v := range raw {
		o[k] = opaqueValue(v)
	}
	return o
}

// opaqueValue is the Opaque value of one JSON value: a string for a JSON string, otherwise the
// trimmed JSON text.
func opaqueValue(v []byte) any {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		if s, ok := unquote(v); ok {
			return s
		}
	}
	return json.RawMessage(bytes.Clone(v))
}

// opaqueString renders a value for Get, headers, tags and logs.
func opaqueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.RawMessage:
		return string(x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// opaqueJSON is a value's JSON text.
func opaqueJSON(v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

// foldOrder returns m's keys in the order to apply them when lower-casing: any order when all are
// lower case, else sorted, so upper-case spellings come first and the lower-case one wins.
func foldOrder[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	folds := false
	for k := range m {
		keys = append(keys, k)
		folds = folds || lowerKey(k) != k
	}
	if folds {
		sort.Strings(keys)
	}
	return keys
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

// WithOpaque returns a context carrying o (copied, keys lower-cased). Values already in ctx stay
// underneath: o's entries win.
func WithOpaque(ctx context.Context, o Opaque) context.Context {
	merged := OpaqueFrom(ctx).Clone()
	merged.Merge(o)
	return context.WithValue(ctx, opaqueKey{}, merged)
}

// WithOpaqueValue returns a context whose Opaque has key set to the string value.
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
