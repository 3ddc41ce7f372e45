package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ForbiddenAddressError reports a connection the URI handler refused to open: the address a host
// name resolved to (or a literal IP) is in a denied range. It is checked at dial time, before the
// socket connects, so no packet reaches the address.
type ForbiddenAddressError struct {
	Address string // ip:port
	Reason  string // e.g. "link-local (169.254.0.0/16)"
}

func (e *ForbiddenAddressError) Error() string {
	return fmt.Sprintf("address %s refused: %s", e.Address, e.Reason)
}

// addressGuard decides which IP addresses the URI handler may connect to.
type addressGuard struct {
	allowLoopback bool
	denyPrivate   bool
	// exempt is one address the guard lets through (tests only: a loopback server standing for a
	// public one, so a redirect from it can be checked).
	exempt netip.AddrPort
}

// Ranges the guard denies whatever the options (loopback and private ones are decided by them).
var (
	deniedPrefixes = []struct {
		prefix netip.Prefix
		reason string
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (0.0.0.0/8)"},
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local (169.254.0.0/16, instance metadata)"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast (224.0.0.0/4)"},
		{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
		{netip.MustParsePrefix("::/128"), "unspecified (::)"},
		{netip.MustParsePrefix("fe80::/10"), "link-local (fe80::/10)"},
		{netip.MustParsePrefix("fd00:ec2::254/128"), "instance metadata (fd00:ec2::254)"},
		{netip.MustParsePrefix("ff00::/8"), "multicast (ff00::/8)"},
	}
	loopbackPrefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	privatePrefixes  = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("fc00::/7"),
	}
	// nat64 is the well-known NAT64 prefix: its last 32 bits are an IPv4 address.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// refuse returns why addr is denied, or "" when it is allowed. An IPv6 address that embeds an
// IPv4 one (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d) is
// judged by both.
func (g addressGuard) refuse(addr netip.Addr) string {
	addr = addr.WithZone("")
	if reason := g.refuseOne(addr); reason != "" {
		return reason
	}
	if !addr.Is6() {
		return ""
	}
	b := addr.As16()
	compatible := [12]byte(b[:12]) == [12]byte{} && addr != netip.IPv6Loopback() && addr != netip.IPv6Unspecified()
	if addr.Is4In6() || nat64.Contains(addr) || compatible {
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if reason := g.refuseOne(v4); reason != "" {
			return reason + ", embedded in " + addr.String()
		}
	}
	return ""
}

func (g addressGuard) refuseOne(addr netip.Addr) string {
	for _, d := range deniedPrefixes {
		if d.prefix.Contains(addr) {
			return d.reason
		}
	}
	for _, p := range loopbackPrefixes {
		if p.Contains(addr) && !g.allowLoopback {
			return "loopback (" + p.String() + "; URIOptions.AllowLoopback allows it, for tests and local development)"
		}
	}
	for _, p := range privatePrefixes {
		if p.Contains(addr) && g.denyPrivate {
			return "private (" + p.String() + "; URIOptions.DenyPrivate is set)"
		}
	}
	return ""
}

// control is the dialer's Control hook: it runs for every connection attempt, after name
// resolution and before connect, so the address checked is the address dialled.
func (g addressGuard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &ForbiddenAddressError{Address: address, Reason: "not an IP address and port"}
	}
	if ap == g.exempt {
		return nil
	}
	if reason := g.refuse(ap.Addr()); reason != "" {
		return &ForbiddenAddressError{Address: address, Reason: reason}
	}
	return nil
}

// errUnguardedTransport: the address guard needs to dial, so it needs an *http.Transport.
var errUnguardedTransport = errors.New("URIOptions.Client: the address guard needs its Transport to be nil or an *http.Transport without a custom dialer")

// guardedClient returns a copy of base whose transport dials through the guard (with resolver, if
// set). The default transport is http.DefaultTransport's settings without a proxy: through a
// proxy, the guard would see the proxy's address instead of the resource's.
func guardedClient(base *http.Client, g addressGuard, resolver *net.Resolver) (*http.Client, error) {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	var tr *http.Transport
	switch t := c.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
	case *http.Transport:
		//lint:ignore SA1019 Dial and DialTLS are deprecated, but a caller may still set them
		if t.DialContext != nil || t.DialTLSContext != nil || t.Dial != nil || t.DialTLS != nil {
			return nil, errUnguardedTransport
		}
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("%w (got %T)", errUnguardedTransport, c.Transport)
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver, Control: g.control}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	c.Transport = tr
	return c, nil
}
