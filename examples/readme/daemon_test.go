package readme

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// The README's daemon, replaying the README's --stdin line on the in-memory backend.
func TestDaemonReplay(t *testing.T) {
	line := `{"mediaType":"application/vnd.globality.pubsub.simple","message":"hi","timestamp":1}` + "\n"
	var c *Collaborator
	var stdout, stderr bytes.Buffer
	code := fxpubsub.MainContext(context.Background(), "example", []string{"--stdin", "--testing", "--set", "logging.level=error"},
		strings.NewReader(line), &stdout, &stderr, append(daemonOptions(), fx.Populate(&c))...)
	if code != fxpubsub.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if len(c.seen) != 1 || c.seen[0] != "hi" {
		t.Fatalf("handled %v, want [hi]", c.seen)
	}
}
