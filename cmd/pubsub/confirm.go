package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// errNotConfirmed: a command that changes data on a remote endpoint was not confirmed.
var errNotConfirmed = errors.New("not confirmed")

// target is where the last client built by a command sends its requests.
type target struct {
	cfg      aws.Config
	endpoint string // "" for AWS itself
}

// confirm guards a command that changes or moves data. Against a loopback endpoint (an emulator on
// this machine) it does nothing. Otherwise it prints the account (STS GetCallerIdentity), region,
// endpoint and resources to stderr, and then: with --yes it goes on; on a terminal it asks; without
// a terminal it refuses, so a script cannot change production resources without saying --yes.
func (g *globals) confirm(ctx context.Context, s *streams, action string, resources ...string) error {
	t := g.target
	if s.loopback(t.endpoint) {
		return nil
	}
	fmt.Fprintf(s.stderr, "pubsub will %s:\n", action)
	fmt.Fprintf(s.stderr, "  account:  %s\n", callerIdentity(ctx, t))
	fmt.Fprintf(s.stderr, "  region:   %s\n", t.cfg.Region)
	fmt.Fprintf(s.stderr, "  endpoint: %s\n", firstNonEmpty(t.endpoint, "AWS"))
	for _, r := range resources {
		fmt.Fprintf(s.stderr, "  %s\n", r)
	}
	if g.yes {
		return nil
	}
	if !s.terminal() {
		return fmt.Errorf("%w: stdin is not a terminal; pass --yes to %s on this endpoint", errNotConfirmed, action)
	}
	fmt.Fprint(s.stderr, "Proceed? [y/N] ")
	answer, _ := bufio.NewReader(s.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%w: nothing changed", errNotConfirmed)
}

// callerIdentity returns "<account> (<arn>)", or why it is unknown.
func callerIdentity(ctx context.Context, t target) string {
	c := sts.NewFromConfig(t.cfg, func(o *sts.Options) {
		if t.endpoint != "" {
			o.BaseEndpoint = aws.String(t.endpoint)
		}
	})
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "unknown (sts GetCallerIdentity: " + oneLine(err) + ")"
	}
	return aws.ToString(out.Account) + " (" + aws.ToString(out.Arn) + ")"
}

// isLoopbackEndpoint reports whether endpoint is on this machine: a loopback IP, or localhost.
// "" (AWS itself) and every other name are not.
func isLoopbackEndpoint(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().IsLoopback()
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// stdinIsTerminal reports whether stdin is a terminal (a character device).
func stdinIsTerminal(stdin any) func() bool {
	return func() bool {
		f, ok := stdin.(*os.File)
		if !ok {
			return false
		}
		st, err := f.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0
	}
}

// bindYes adds --yes to a command that changes data.
func bindYes(fs interface {
	BoolVar(p *bool, name string, value bool, usage string)
}, g *globals) {
	fs.BoolVar(&g.yes, "yes", false, "don't ask before changing data on an endpoint that is not loopback")
}
