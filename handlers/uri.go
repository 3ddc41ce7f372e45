package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// URIOptions configure a [URIHandler]; zero values mean defaults. R is the resource type the
// fetched JSON decodes into.
type URIOptions[R any] struct {
	// Name names the handler in logs and in the opaque "handler" key (default "URIHandler").
	Name string

	// Client performs the GET requests (default: http.DefaultTransport's settings without a proxy,
	// since through a proxy the address guard would see only the proxy's address). The handler uses
	// a copy whose CheckRedirect applies the URI check to every redirect and whose transport dials
	// through the address guard; its Transport must be nil or an *http.Transport without a custom
	// dialer (NewURIHandler fails otherwise).
	Client *http.Client
	// Timeout bounds one fetch, body included (default 5 s; the original had none).
	Timeout time.Duration
	// MaxBodySize bounds the resource body; a larger body fails the message (default 10 MiB).
	MaxBodySize int64

	// AllowedHosts, if not empty, is the SSRF allow-list: a message whose URI (or any redirect
	// target) has another host is SKIPPED and never fetched. Entries are host names or IPs,
	// matched case-insensitively and without the port; "*.example.com" matches every subdomain of
	// example.com (not example.com itself). Whatever the list, only http and https URIs are
	// fetched, and the address guard below still applies to the addresses allowed names resolve to.
	AllowedHosts []string

	// The address guard is always on: every connection (first request and each redirect) is
	// checked at dial time, on the address the host resolved to, and refused before any packet is
	// sent if it is loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::), link-local
	// (169.254.0.0/16 with the instance-metadata address, fe80::/10, fd00:ec2::254), multicast or
	// broadcast, including the IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms of those. The
	// message is SKIPPED with a *[ForbiddenAddressError] as its cause. Private ranges (10/8,
	// 172.16/12, 192.168/16, 100.64/10, fc00::/7) are allowed unless DenyPrivate is set: fetching
	// internal services is what this handler is for.

	// AllowLoopback lets the handler connect to loopback addresses. It is meant for tests and local
	// development (an httptest server, a service on localhost); never set it in production, where
	// it lets any publisher make the consumer fetch from its own host.
	AllowLoopback bool
	// DenyPrivate also refuses the private ranges.
	DenyPrivate bool
	// Resolver resolves host names for the fetches (default: net.DefaultResolver).
	Resolver *net.Resolver
	// exemptAddr is let through the dial-time guard (tests only; see addressGuard.exempt).
	exemptAddr netip.AddrPort

	// ResourceNackTimeout is the retry delay for a resource that is not there yet (HTTP 404) or is
	// stale (a changed message whose field value differs), default 1 s.
	ResourceNackTimeout time.Duration
	// FailIfNotFound makes a 404 FAILED instead of RETRIED (the original's nack_if_not_found=False).
	FailIfNotFound bool

	// Cache, if set, stores fetched bodies by URI, for URIs that Cacheable accepts.
	Cache Cache
	// Cacheable says whether a message's resource may come from, and go to, the cache (default:
	// media types of the created lifecycle, whose resources don't change). Changed messages that
	// carry field_name are never served from the cache.
	Cacheable func(mediaType, uri string) bool

	// SkipIf, if set, runs before fetching; a non-empty reason SKIPS the message (the original's
	// get_reason_to_skip).
	SkipIf func(ctx context.Context, msg *fxpubsub.ChangedURIMessage) string
	// Handle, if set, handles the fetched resource; its error decides the result as for any
	// handler. Unset: the message SUCCEEDS once the resource is fetched.
	Handle func(ctx context.Context, msg *fxpubsub.ChangedURIMessage, resource *R) error
}

// URIHandler is the standard handler for messages that reference a resource: it GETs the
// message's uri, decodes the JSON body into an R and passes it to the Handle hook. It implements
// [fxpubsub.Handler][fxpubsub.ChangedURIMessage], the convention schema of URI messages (uri, and
// for changed messages field_name and new_value), so it serves created, changed and custom
// lifecycle media types alike:
//
//	fxpubsub.AsHandler[fxpubsub.ChangedURIMessage](fxpubsub.Created("Order"), func() (*handlers.URIHandler[Order], error) {
//		return handlers.NewURIHandler(handlers.URIOptions[Order]{AllowedHosts: []string{"orders.internal"}, Handle: ship})
//	})
//
// Results:
//   - uri not http(s), or its host (or a redirect's) outside AllowedHosts: SKIPPED, never fetched
//     (a *[ForbiddenURIError] is the SkipMessage's cause, in Extra["error"]).
//   - an address the guard refuses (see [URIOptions.AllowLoopback]): SKIPPED, no connection made
//     (the cause is a *[ForbiddenURIError] for a literal IP, a *[ForbiddenAddressError] for a name).
//   - SkipIf gives a reason: SKIPPED.
//   - HTTP 404: RETRIED after ResourceNackTimeout, reason "URI resource not found".
//   - a changed message whose resource[field_name] differs from new_value: RETRIED, reason
//     "resource field value does not match message".
//   - any other HTTP status outside 2xx (a *[StatusError]), a transport error, a timeout, a body
//     that is not JSON or too large: FAILED.
//   - otherwise: Handle's result.
//
// Only the opaque keys starting with x-request- are sent, as request headers (the original sent
// every opaque key, receipt handle included).
type URIHandler[R any] struct {
	opts   URIOptions[R]
	guard  addressGuard
	client *http.Client
}

var _ fxpubsub.Handler[fxpubsub.ChangedURIMessage] = (*URIHandler[struct{}])(nil)

// ForbiddenURIError reports a URI the handler refuses to fetch.
type ForbiddenURIError struct {
	URI    string
	Reason string
}

func (e *ForbiddenURIError) Error() string {
	return fmt.Sprintf("uri %q not allowed: %s", e.URI, e.Reason)
}

// StatusError reports an HTTP status outside 2xx.
type StatusError struct {
	URI        string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URI, e.StatusCode, http.StatusText(e.StatusCode))
}

// Reasons of the RETRIED results of a [URIHandler].
const (
	ReasonNotFound      = "URI resource not found"
	ReasonFieldMismatch = "resource field value does not match message"
)

// NewURIHandler returns a URI handler; it fails on a malformed allow-list entry.
func NewURIHandler[R any](opts URIOptions[R]) (*URIHandler[R], error) {
	if opts.Name == "" {
		opts.Name = "URIHandler"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = 10 << 20
	}
	if opts.ResourceNackTimeout <= 0 {
		opts.ResourceNackTimeout = time.Second
	}
	if opts.Cacheable == nil {
		opts.Cacheable = createdLifecycle
	}
	hosts := make([]string, len(opts.AllowedHosts))
	for i, h := range opts.AllowedHosts {
		h = strings.Trim(strings.ToLower(strings.TrimSpace(h)), "[]")
		if h == "" || (strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil) {
			return nil, fmt.Errorf("allowed host %q: want a host name or IP, without scheme or port", opts.AllowedHosts[i])
		}
		hosts[i] = h
	}
	opts.AllowedHosts = hosts
	guard := addressGuard{allowLoopback: opts.AllowLoopback, denyPrivate: opts.DenyPrivate, exempt: opts.exemptAddr}
	c, err := guardedClient(opts.Client, guard, opts.Resolver)
	if err != nil {
		return nil, err
	}
	prev := c.CheckRedirect
	h := &URIHandler[R]{opts: opts, guard: guard, client: c}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := h.check(req.URL); err != nil {
			return err
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return h, nil
}

// HandlerName returns the configured name.
func (h *URIHandler[R]) HandlerName() string { return h.opts.Name }

// Handle runs SkipIf, fetches the resource and runs the Handle hook.
func (h *URIHandler[R]) Handle(ctx context.Context, msg *fxpubsub.ChangedURIMessage) error {
	if h.opts.SkipIf != nil {
		if reason := h.opts.SkipIf(ctx, msg); reason != "" {
			return &fxpubsub.SkipMessage{Reason: reason}
		}
	}
	res, err := h.Fetch(ctx, msg)
	if err != nil {
		return err
	}
	if h.opts.Handle == nil {
		return nil
	}
	return h.opts.Handle(ctx, msg, res)
}

// Fetch returns the resource msg refers to, or the outcome error described on [URIHandler]. It is
// a [Step], so it composes with [Then].
func (h *URIHandler[R]) Fetch(ctx context.Context, msg *fxpubsub.ChangedURIMessage) (*R, error) {
	u, err := url.Parse(msg.URI)
	if err != nil {
		return nil, skipForbidden(&ForbiddenURIError{URI: msg.URI, Reason: "not a URL"})
	}
	if err := h.check(u); err != nil {
		return nil, skipForbidden(err)
	}
	mediaType := ""
	if m := fxpubsub.MessageFrom(ctx); m != nil {
		mediaType = m.MediaType
	}
	cacheable := h.opts.Cache != nil && h.opts.Cacheable(mediaType, msg.URI)
	var body []byte
	if cacheable && msg.FieldName == "" {
		body, _ = h.opts.Cache.Get(msg.URI)
	}
	if body == nil {
		if body, err = h.get(ctx, msg.URI); err != nil {
			return nil, err
		}
		if err := h.checkField(msg, body); err != nil {
			return nil, err
		}
		if cacheable {
			h.opts.Cache.Set(msg.URI, body)
		}
	}
	res := new(R)
	if err := json.Unmarshal(body, res); err != nil {
		return nil, fmt.Errorf("decode resource %s: %w", msg.URI, err)
	}
	return res, nil
}

func skipForbidden(err error) error {
	return &fxpubsub.SkipMessage{Reason: err.Error(), Extra: map[string]any{"error": err}}
}

// check applies the scheme rule, the address guard to a literal IP host, and the allow-list. Host
// names are checked again at dial time, by the addresses they resolve to.
func (h *URIHandler[R]) check(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &ForbiddenURIError{URI: u.String(), Reason: "scheme must be http or https"}
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return &ForbiddenURIError{URI: u.String(), Reason: "no host"}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if reason := h.guard.refuse(ip); reason != "" {
			return &ForbiddenURIError{URI: u.String(), Reason: fmt.Sprintf("address %s refused: %s", host, reason)}
		}
	}
	if len(h.opts.AllowedHosts) == 0 {
		return nil
	}
	for _, a := range h.opts.AllowedHosts {
		if host == a || (strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:])) {
			return nil
		}
	}
	return &ForbiddenURIError{URI: u.String(), Reason: fmt.Sprintf("host %q is not in the allowed hosts", host)}
}

// get fetches uri and returns its body, or an outcome error.
func (h *URIHandler[R]) get(ctx context.Context, uri string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, skipForbidden(&ForbiddenURIError{URI: uri, Reason: err.Error()})
	}
	req.Header.Set("Accept", "application/json")
	opaque := fxpubsub.OpaqueFrom(ctx)
	for k := range opaque {
		if strings.HasPrefix(k, "x-request-") {
			req.Header.Set(k, opaque.Get(k)) // a number or boolean as its JSON text
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		var forbidden *ForbiddenURIError
		if errors.As(err, &forbidden) {
			return nil, skipForbidden(forbidden)
		}
		var refused *ForbiddenAddressError
		if errors.As(err, &refused) {
			return nil, &fxpubsub.SkipMessage{Reason: fmt.Sprintf("uri %q not allowed: %v", uri, refused), Extra: map[string]any{"error": refused}}
		}
		return nil, fmt.Errorf("GET %s: %w", uri, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound && !h.opts.FailIfNotFound:
		return nil, &fxpubsub.Nack{Timeout: h.opts.ResourceNackTimeout, Reason: ReasonNotFound, Extra: map[string]any{"uri": uri}}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, &StatusError{URI: uri, StatusCode: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.opts.MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", uri, err)
	}
	if int64(len(body)) > h.opts.MaxBodySize {
		return nil, fmt.Errorf("GET %s: body over %d bytes", uri, h.opts.MaxBodySize)
	}
	return body, nil
}

// checkField nacks a changed message whose resource field does not have the new value yet. A
// string field compares as is; any other JSON value by its JSON text (so 5 matches "5").
func (h *URIHandler[R]) checkField(msg *fxpubsub.ChangedURIMessage, body []byte) error {
	if msg.FieldName == "" {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("decode resource %s: %w", msg.URI, err)
	}
	raw, ok := fields[msg.FieldName]
	got := string(bytes.TrimSpace(raw))
	var s string
	if ok && json.Unmarshal(raw, &s) == nil {
		got = s
	}
	if !ok || got != msg.NewValue {
		return &fxpubsub.Nack{Timeout: h.opts.ResourceNackTimeout, Reason: ReasonFieldMismatch,
			Extra: map[string]any{"uri": msg.URI, "field_name": msg.FieldName, "new_value": msg.NewValue, "resource_value": got}}
	}
	return nil
}

// createdLifecycle reports whether a dot-separated segment of the media type is "created".
func createdLifecycle(mediaType, _ string) bool {
	for _, part := range strings.Split(mediaType, ".") {
		if part == fxpubsub.LifecycleCreated {
			return true
		}
	}
	return false
}
