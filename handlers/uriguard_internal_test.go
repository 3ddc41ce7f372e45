package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

func TestAddressGuardRanges(t *testing.T) {
	def, loop, priv := addressGuard{}, addressGuard{allowLoopback: true}, addressGuard{denyPrivate: true}
	tests := []struct {
		addr          string
		def, loop, pr bool // allowed by the default guard, with AllowLoopback, with DenyPrivate
	}{
		{"127.0.0.1", false, true, false},
		{"127.255.0.9", false, true, false},
		{"::1", false, true, false},
		{"::ffff:127.0.0.1", false, true, false},
		{"::127.0.0.1", false, true, false},
		{"64:ff9b::7f00:1", false, true, false},
		{"0.0.0.0", false, false, false},
		{"0.1.2.3", false, false, false},
		{"::", false, false, false},
		{"::ffff:0.0.0.0", false, false, false},
		{"169.254.169.254", false, false, false},
		{"169.254.0.1", false, false, false},
		{"::ffff:169.254.169.254", false, false, false},
		{"::169.254.169.254", false, false, false},
		{"fe80::1", false, false, false},
		{"fe80::1%eth0", false, false, false},
		{"fd00:ec2::254", false, false, false},
		{"224.0.0.1", false, false, false},
		{"239.255.255.250", false, false, false},
		{"::ffff:224.0.0.1", false, false, false},
		{"ff02::1", false, false, false},
		{"255.255.255.255", false, false, false},
		{"10.0.0.1", true, true, false},
		{"172.16.5.4", true, true, false},
		{"192.168.0.1", true, true, false},
		{"100.64.0.1", true, true, false},
		{"fd12:3456::1", true, true, false},
		{"::ffff:10.0.0.1", true, true, false},
		{"93.184.215.14", true, true, true},
		{"2606:4700::1111", true, true, true},
		{"::ffff:93.184.215.14", true, true, true},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		for _, g := range []struct {
			name  string
			guard addressGuard
			want  bool
		}{{"default", def, tt.def}, {"AllowLoopback", loop, tt.loop}, {"DenyPrivate", priv, tt.pr}} {
			reason := g.guard.refuse(a)
			if (reason == "") != g.want {
				t.Errorf("%s with %s: refused %q, want allowed=%v", tt.addr, g.name, reason, g.want)
			}
			// The dial-time hook decides the same for the address with a port.
			err := g.guard.control("tcp", netip.AddrPortFrom(a, 80).String(), nil)
			var fa *ForbiddenAddressError
			if (err == nil) != g.want || (err != nil && !errors.As(err, &fa)) {
				t.Errorf("control(%s) with %s: %v", tt.addr, g.name, err)
			}
		}
	}
	if err := def.control("tcp", "not-an-address", nil); err == nil {
		t.Error("an unparseable address must be refused")
	}
}

// TestURIGuardRedirectToLoopback: a redirect from a server the handler may reach to a loopback
// address is refused (a literal IP by the redirect check, a name at dial time), and the target is
// never reached. The first server is on loopback too, let through by the guard's test exemption
// for its exact address, standing for a public server.
func TestURIGuardRedirectToLoopback(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		fmt.Fprint(w, `{}`)
	}))
	defer target.Close()
	port := strconv.Itoa(target.Listener.Addr().(*net.TCPAddr).Port)
	for _, to := range []string{"http://127.0.0.1:" + port + "/", "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		t.Run(to, func(t *testing.T) {
			var redirects atomic.Int32
			redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				redirects.Add(1)
				http.Redirect(w, r, to, http.StatusFound)
			}))
			defer redirector.Close()
			h, err := NewURIHandler(URIOptions[struct{}]{exemptAddr: netip.MustParseAddrPort(redirector.Listener.Addr().String())})
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Fetch(context.Background(), &fxpubsub.ChangedURIMessage{URI: strings.Replace(redirector.URL, "127.0.0.1", "localhost", 1) + "/"})
			var skip *fxpubsub.SkipMessage
			if !errors.As(err, &skip) {
				t.Fatalf("want SkipMessage, got %v", err)
			}
			if redirects.Load() != 1 || targetHits.Load() != 0 {
				t.Fatalf("redirector reached %d times (want 1), target %d (want 0); %v", redirects.Load(), targetHits.Load(), err)
			}
			t.Log(skip.Reason)
		})
	}
}
