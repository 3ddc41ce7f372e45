package fxsentry

import (
	"net/url"
	"reflect"
	"strings"

	"github.com/getsentry/sentry-go"
)

// BeforeSend is the sentry_before_send component, with the signature of
// sentry.ClientOptions.BeforeSend: sentry-go calls it for every error event just before sending
// it, and sends what it returns (nil drops the event). It may modify the event; it must not keep
// it. The default is [StrictBeforeSend]; replace it with [DecorateBeforeSend].
type BeforeSend func(event *sentry.Event, hint *sentry.EventHint) *sentry.Event

// Redacted replaces values [StrictBeforeSend] removes.
const Redacted = "<redacted>"

// sdkContexts are the contexts sentry-go fills itself (Go version, GOOS, GOARCH, CPU count); they
// carry no application data and are left alone.
var sdkContexts = map[string]bool{"runtime": true, "os": true, "device": true}

// StrictBeforeSend returns the default sentry_before_send: the original's "reasonably strict,
// removing most data in a generic way", applied to what a Go event carries. In contexts (where
// sentry-go keeps what other SDKs call extra; the SDK's own runtime, os and device contexts are
// left alone), breadcrumb data, request data (body, query string, cookies, headers, env, URL),
// user fields other than the id, and stack-frame variables, a value is kept only if
//
//   - it is empty (nil, "", false, 0, an empty map or list);
//   - its key is an id: "id", or ending in "_id", "-id" or "Id"/"ID" (such as trace_id);
//   - its key is one of keep, compared case-insensitively (the fxsentry module passes the
//     opaque keys and tag names of the tag mapping and the user-id key);
//   - it is a string that looks like a UUID; or
//   - it is an http(s) URL, kept without credentials and with any query replaced by
//     "?<redacted>".
//
// Maps and lists are walked (a list's items are judged under the list's key); every other value
// becomes [Redacted] (an IP address is removed). Exception types and messages, the event message,
// breadcrumb messages, tags, and stack frames themselves are kept: they are what makes an event
// useful, so keep secrets out of error strings. StrictBeforeSend copies what it changes, never
// modifying maps shared with a scope, and never panics, whatever parts the event lacks.
func StrictBeforeSend(keep ...string) BeforeSend {
	s := &scrubber{keep: make(map[string]bool, len(keep))}
	for _, k := range keep {
		s.keep[strings.ToLower(k)] = true
	}
	return s.event
}

type scrubber struct {
	keep map[string]bool
}

func (s *scrubber) event(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if e == nil {
		return nil
	}
	if e.Contexts != nil {
		contexts := make(map[string]sentry.Context, len(e.Contexts))
		for name, c := range e.Contexts {
			if sdkContexts[name] || c == nil {
				contexts[name] = c
				continue
			}
			contexts[name] = s.mapAny(c)
		}
		e.Contexts = contexts
	}
	if e.Breadcrumbs != nil {
		crumbs := make([]*sentry.Breadcrumb, 0, len(e.Breadcrumbs))
		for _, b := range e.Breadcrumbs {
			if b == nil {
				continue
			}
			c := *b
			c.Data = s.mapAny(b.Data)
			crumbs = append(crumbs, &c)
		}
		e.Breadcrumbs = crumbs
	}
	if e.Request != nil {
		r := *e.Request
		r.URL = s.str("url", r.URL)
		r.Data = s.str("data", r.Data)
		r.QueryString = s.str("query_string", r.QueryString)
		r.Cookies = s.str("cookies", r.Cookies)
		r.Headers = s.mapString(r.Headers)
		r.Env = s.mapString(r.Env)
		e.Request = &r
	}
	e.User.Email = s.str("email", e.User.Email)
	e.User.Username = s.str("username", e.User.Username)
	e.User.Name = s.str("name", e.User.Name)
	e.User.IPAddress = ""
	e.User.Data = s.mapString(e.User.Data)
	if e.Exception != nil {
		exceptions := make([]sentry.Exception, len(e.Exception))
		for i, x := range e.Exception {
			x.Stacktrace = s.stacktrace(x.Stacktrace)
			exceptions[i] = x
		}
		e.Exception = exceptions
	}
	if e.Threads != nil {
		threads := make([]sentry.Thread, len(e.Threads))
		for i, t := range e.Threads {
			t.Stacktrace = s.stacktrace(t.Stacktrace)
			threads[i] = t
		}
		e.Threads = threads
	}
	return e
}

// stacktrace scrubs frame variables, copying the stack trace only if a frame has any.
func (s *scrubber) stacktrace(st *sentry.Stacktrace) *sentry.Stacktrace {
	if st == nil {
		return nil
	}
	var frames []sentry.Frame
	for i, f := range st.Frames {
		if len(f.Vars) == 0 {
			continue
		}
		if frames == nil {
			frames = append([]sentry.Frame(nil), st.Frames...)
		}
		frames[i].Vars = s.mapAny(f.Vars)
	}
	if frames == nil {
		return st
	}
	c := *st
	c.Frames = frames
	return &c
}

// keepKey reports whether values under key are kept as they are.
func (s *scrubber) keepKey(key string) bool {
	return s.keep[strings.ToLower(key)] || isIDKey(key)
}

func isIDKey(key string) bool {
	l := strings.ToLower(key)
	if l == "id" || strings.HasSuffix(l, "_id") || strings.HasSuffix(l, "-id") {
		return true
	}
	// camelCase: orderId, OrderID.
	n := len(key)
	return n > 2 && (key[n-2:] == "Id" || key[n-2:] == "ID") && 'a' <= key[n-3] && key[n-3] <= 'z'
}

func (s *scrubber) mapAny(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = s.value(k, v)
	}
	return out
}

func (s *scrubber) mapString(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = s.str(k, v)
	}
	return out
}

// str applies the rule to a string value under key.
func (s *scrubber) str(key, v string) string {
	if v == "" || s.keepKey(key) || looksLikeUUID(v) {
		return v
	}
	if u, ok := safeURL(v); ok {
		return u
	}
	return Redacted
}

// value applies the rule to any value under key, copying containers.
func (s *scrubber) value(key string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return s.str(key, x)
	case map[string]any:
		return s.mapAny(x)
	case map[string]string:
		return s.mapString(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = s.value(key, item)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, item := range x {
			out[i] = s.str(key, item)
		}
		return out
	}
	if s.keepKey(key) {
		return v
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		if rv.Len() == 0 {
			return v
		}
		return Redacted
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return v
		}
		return Redacted
	}
	if rv.IsZero() {
		return v
	}
	return Redacted
}

// safeURL returns v if it is an absolute http(s) URL, without user info and with any query or
// fragment replaced by "?<redacted>".
func safeURL(v string) (string, bool) {
	if len(v) < 8 || !(strings.EqualFold(v[:7], "http://") || strings.EqualFold(v[:8], "https://")) {
		return "", false
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "", false
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery {
		return v, true
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String() + "?" + Redacted, true
}

// looksLikeUUID reports whether v is a UUID: 32 hex digits, optionally hyphenated 8-4-4-4-12.
func looksLikeUUID(v string) bool {
	switch len(v) {
	case 32:
		return isHex(v)
	case 36:
		return v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-' &&
			isHex(v[:8]) && isHex(v[9:13]) && isHex(v[14:18]) && isHex(v[19:23]) && isHex(v[24:])
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
