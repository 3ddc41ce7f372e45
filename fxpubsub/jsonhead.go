package fxpubsub

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// head is what the codec reads from a message before choosing its schema.
type head struct {
	mediaType    string
	hasMediaType bool
	uri          string
	opaque       Opaque
}

// scanHead reads the top level of a message object in one pass without reflection: mediaType,
// uri and opaqueData, skipping every other value. It does not fully validate JSON (the schema
// decode that follows does; for an unknown media type the caller checks json.Valid). ok is false
// for anything unusual, and the caller falls back to encoding/json for a precise error.
//
// Its answer must be encoding/json's (decodeHead) whenever it gives one (FuzzScanHead checks
// this), so it declines what encoding/json reads differently from a naive scan: keys that match
// ours only case-insensitively (encoding/json matches field names that way), a repeated opaqueData
// (encoding/json merges the objects).
func scanHead(b []byte) (h head, ok bool) {
	return scanHeadIn(b, nil)
}

// scanHeadIn is scanHead taking a media type registered in r (which may be nil) as the
// registered string instead of allocating a new one.
func scanHeadIn(b []byte, r *SchemaRegistry) (h head, ok bool) {
	seenOpaque := false
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return h, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return h, skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return h, false
		}
		keyStart := i
		i, ok = skipString(b, i)
		if !ok {
			return h, false
		}
		key := b[keyStart:i]
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ':' {
			return h, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return h, false
		}
		valStart := i
		if i, ok = skipValue(b, i, 0); !ok {
			return h, false
		}
		val := b[valStart:i]
		switch string(key) {
		case `"mediaType"`:
			if val[0] != '"' {
				return h, false
			}
			if h.mediaType, ok = r.unquoteMediaType(val); !ok {
				return h, false
			}
			h.hasMediaType = true
		case `"uri"`:
			if val[0] == '"' {
				h.uri, _ = unquote(val)
			} else {
				h.uri = ""
			}
		case `"opaqueData"`:
			if seenOpaque {
				return h, false
			}
			seenOpaque = true
			switch val[0] {
			case '{':
				if h.opaque, ok = scanOpaque(val); !ok {
					return h, false
				}
			case 'n':
				h.opaque = nil
			default:
				return h, false
			}
		default:
			if len(key) > 2 && hasEscape(key) {
				return h, false // an escaped key might spell one of ours: let encoding/json decide
			}
			if foldsToHeadKey(key[1 : len(key)-1]) {
				return h, false // "MediaType", "URI", ...: encoding/json takes them for ours
			}
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return h, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return h, skipWS(b, i+1) == len(b)
		default:
			return h, false
		}
	}
}

// scanOpaque reads opaqueData as decodeOpaque does: keys exactly as written, string values as
// strings, every other value (null included) as its exact JSON text.
func scanOpaque(b []byte) (Opaque, bool) {
	o := make(Opaque, 8)
	i := skipWS(b, 1)
	if i < len(b) && b[i] == '}' {
		return o, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		ks := i
		var ok bool
		if i, ok = skipString(b, i); !ok {
			return nil, false
		}
		key, ok := unquoteOpaqueKey(b[ks:i])
		if !ok {
			return nil, false
		}
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipWS(b, i+1)
		vs := i
		if i, ok = skipValue(b, i, 0); !ok {
			return nil, false
		}
		val := b[vs:i]
		if val[0] == '"' {
			s, ok := unquote(val)
			if !ok {
				return nil, false
			}
			o[key] = s
		} else {
			o[key] = json.RawMessage(bytes.Clone(val))
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return o, true
		default:
			return nil, false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			i++
		case c < 0x20:
			return i, false
		}
	}
	return i, false
}

// maxHeadDepth bounds nesting the head scanner walks through; deeper input falls back to
// encoding/json (which has its own limit).
const maxHeadDepth = 1000

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxHeadDepth {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			var ok bool
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, false
				}
				if i, ok = skipString(b, i); !ok {
					return i, false
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, false
				}
				i = skipWS(b, i+1)
			}
			if i, ok = skipValue(b, i, depth+1); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ',':
				i = skipWS(b, i+1)
			case closer:
				return i + 1, true
			default:
				return i, false
			}
		}
	default:
		start := i
		for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || (b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z')) {
			i++
		}
		return i, i > start
	}
}

// foldsToHeadKey reports whether an object key (without quotes or escapes) matches mediaType, uri
// or opaqueData case-insensitively as encoding/json matches field names. None of the three holds a
// letter with a non-ASCII case variant (only k and s have one: the Kelvin sign and the long s), so
// ASCII case folding is exact.
func foldsToHeadKey(k []byte) bool {
	switch len(k) {
	case 3:
		return bytes.EqualFold(k, []byte("uri"))
	case 9:
		return bytes.EqualFold(k, []byte("mediaType"))
	case 10:
		return bytes.EqualFold(k, []byte("opaqueData"))
	}
	return false
}

func hasEscape(s []byte) bool {
	for _, c := range s {
		if c == '\\' {
			return true
		}
	}
	return false
}

// unquoteOpaqueKey is unquote for an opaqueData key: the keys the library itself writes are
// returned as constants, without allocating them for every message.
func unquoteOpaqueKey(tok []byte) (string, bool) {
	switch string(tok[1 : len(tok)-1]) { // compared in place, not converted
	case OpaqueRequestID:
		return OpaqueRequestID, true
	case OpaquePublished:
		return OpaquePublished, true
	case OpaqueTTL:
		return OpaqueTTL, true
	case OpaqueRequestUser:
		return OpaqueRequestUser, true
	}
	return unquote(tok)
}

// unquoteMediaType is unquote for the mediaType token: a media type registered in r (which may
// be nil) exactly as written is returned as the registered string instead of a new one.
func (r *SchemaRegistry) unquoteMediaType(tok []byte) (string, bool) {
	if r != nil {
		inner := tok[1 : len(tok)-1]
		if s, ok := r.exact[string(inner)]; ok && s.mediaType == string(inner) && !hasEscape(inner) && utf8.Valid(inner) {
			return s.mediaType, true
		}
	}
	return unquote(tok)
}

// unquote decodes a JSON string token; the fast path needs no escapes and valid UTF-8.
func unquote(tok []byte) (string, bool) {
	inner := tok[1 : len(tok)-1]
	if !hasEscape(inner) && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}
