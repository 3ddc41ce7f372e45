package handlers_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/handlers"
)

// wantRefused asserts that uri is SKIPPED with a forbidden-URI or forbidden-address cause.
func wantRefused(t *testing.T, h *handlers.URIHandler[order], uri string) fxpubsub.Result {
	t.Helper()
	r := dispatch(t, orderCreated, h, &fxpubsub.ChangedURIMessage{URI: uri}, nil)
	if r.Type != fxpubsub.Skipped || !strings.Contains(r.Reason, "not allowed") {
		t.Fatalf("%s: %s (%q, %v), want SKIPPED as not allowed", uri, r.Type, r.Reason, r.Err)
	}
	return r
}

// TestURIGuardRefusesLocalAddressesByDefault: with the default options (no allow-list), loopback in
// every spelling and the unspecified address are refused, and the server never sees a request.
func TestURIGuardRefusesLocalAddressesByDefault(t *testing.T) {
	target := newSite(t, "")
	port := strconv.Itoa(target.Listener.Addr().(*net.TCPAddr).Port)
	at := func(host string) string { return "http://" + net.JoinHostPort(host, port) + "/orders/1" }
	h := newURIHandler(t, handlers.URIOptions[order]{})
	for _, uri := range []string{
		at("127.0.0.1"), at("127.1.2.3"), at("localhost"), at("LOCALHOST"), at("0.0.0.0"), at("::1"), at("::ffff:127.0.0.1"),
		at("::127.0.0.1"), at("::ffff:0.0.0.0"), at("::"), at("64:ff9b::127.0.0.1"),
	} {
		t.Run(uri, func(t *testing.T) { wantRefused(t, h, uri) })
	}
	if n := target.total(); n != 0 {
		t.Fatalf("the loopback server was reached %d times", n)
	}
}

// TestURIGuardAllowListNameResolvingToLoopback: an allowed name is no pass for the address it
// resolves to: a name that resolves to 127.0.0.1 through a (custom) resolver is refused at dial
// time; with AllowLoopback the same name is fetched, which shows the resolver was used.
func TestURIGuardAllowListNameResolvingToLoopback(t *testing.T) {
	s := newSite(t, "")
	dns := fakeDNS(t, map[string]net.IP{"orders.test": net.IPv4(127, 0, 0, 1)})
	uri := strings.Replace(s.URL, "127.0.0.1", "orders.test", 1) + "/orders/1"

	h := newURIHandler(t, handlers.URIOptions[order]{AllowedHosts: []string{"orders.test"}, Resolver: dns})
	r := wantRefused(t, h, uri)
	var fa *handlers.ForbiddenAddressError
	if err, _ := r.Extra["error"].(error); !errors.As(err, &fa) || !strings.Contains(fa.Reason, "loopback") || !strings.HasPrefix(fa.Address, "127.0.0.1:") {
		t.Fatalf("cause %#v (%q), want a *ForbiddenAddressError for 127.0.0.1", r.Extra["error"], r.Reason)
	}
	if s.total() != 0 {
		t.Fatal("the server was reached")
	}

	h = newURIHandler(t, handlers.URIOptions[order]{AllowedHosts: []string{"orders.test"}, Resolver: dns, AllowLoopback: true})
	if r := dispatch(t, orderCreated, h, &fxpubsub.ChangedURIMessage{URI: uri}, nil); r.Type != fxpubsub.Succeeded {
		t.Fatalf("with AllowLoopback: %s %q %v", r.Type, r.Reason, r.Err)
	}
	if s.hitCount("/orders/1") != 1 {
		t.Fatal("with AllowLoopback the resource was not fetched through the custom resolver")
	}
}

// TestURIGuardRefusesMetadataBeforeDialling: the instance-metadata address is refused without a
// connection attempt, both as a literal (the URI check) and as a name resolving to it (the dialer's
// Control hook runs before connect, so the refusal is immediate, not a connect timeout).
func TestURIGuardRefusesMetadataBeforeDialling(t *testing.T) {
	dns := fakeDNS(t, map[string]net.IP{"metadata.test": net.IPv4(169, 254, 169, 254), "metadata6.test": net.ParseIP("fd00:ec2::254")})
	h := newURIHandler(t, handlers.URIOptions[order]{Resolver: dns, Timeout: time.Minute})
	for _, uri := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/", "http://[fe80::1]/", "http://224.0.0.1/", "http://[ff02::1]/",
		"http://metadata.test/latest/meta-data/", "http://metadata6.test/latest/meta-data/",
	} {
		t.Run(uri, func(t *testing.T) {
			start := time.Now()
			r := wantRefused(t, h, uri)
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %s: a connection was attempted", d)
			}
			var fu *handlers.ForbiddenURIError
			var fa *handlers.ForbiddenAddressError
			err, _ := r.Extra["error"].(error)
			if !errors.As(err, &fu) && !errors.As(err, &fa) {
				t.Fatalf("cause %#v", r.Extra["error"])
			}
		})
	}
}

// TestURIGuardDenyPrivate: with DenyPrivate the private ranges are refused too (allowed by
// default: see TestAddressGuardRanges).
func TestURIGuardDenyPrivate(t *testing.T) {
	h := newURIHandler(t, handlers.URIOptions[order]{DenyPrivate: true})
	for _, uri := range []string{"http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fd12::1]/", "http://[::ffff:10.0.0.1]/"} {
		r := wantRefused(t, h, uri)
		if !strings.Contains(r.Reason, "private") {
			t.Errorf("%s: reason %q", uri, r.Reason)
		}
	}
}

func TestURIGuardNeedsAGuardableTransport(t *testing.T) {
	for _, c := range []*http.Client{
		{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })},
		{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}},
	} {
		if _, err := handlers.NewURIHandler(handlers.URIOptions[order]{Client: c}); err == nil || !strings.Contains(err.Error(), "address guard") {
			t.Errorf("client %T accepted: %v", c.Transport, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeDNS starts a DNS server on a loopback UDP port that answers A and AAAA queries for the names
// in records (others: no answer), and returns a resolver that uses only it.
func fakeDNS(t *testing.T, records map[string]net.IP) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := dnsReply(buf[:n], records); reply != nil {
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-done })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// dnsReply answers one DNS query (RFC 1035): the header, the question copied, and one answer.
func dnsReply(q []byte, records map[string]net.IP) []byte {
	if len(q) < 12 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	var rdata []byte
	if ip := records[strings.ToLower(strings.Join(labels, "."))]; ip != nil {
		switch {
		case qtype == 1 && ip.To4() != nil:
			rdata = ip.To4()
		case qtype == 28 && ip.To4() == nil:
			rdata = ip.To16()
		}
	}
	out := make([]byte, 0, 64)
	out = append(out, q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0) // id, response + RD + RA, 1 question
	if rdata != nil {
		out[7] = 1 // one answer
	}
	out = append(out, question...)
	if rdata != nil {
		out = append(out, 0xc0, 12) // the name: a pointer to the question's
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = append(out, 0, 1, 0, 0, 0, 60) // class IN, TTL 60
		out = binary.BigEndian.AppendUint16(out, uint16(len(rdata)))
		out = append(out, rdata...)
	}
	return out
}
