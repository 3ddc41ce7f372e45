package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// remote runs the command as if its (loopback) endpoint were remote, with stdin as typed input
// and terminal saying whether stdin is a terminal.
func remote(t *testing.T, stdin string, terminal bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := runWith(ctx, args, &streams{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		terminal: func() bool { return terminal }, loopback: func(string) bool { return false }})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func visible(t *testing.T, c cliTarget, url string) string {
	t.Helper()
	return c.attrs(t, url)["ApproximateNumberOfMessages"]
}

// TestConfirmBeforeChangingRemoteData: against an endpoint that is not loopback (moto, which
// answers STS, addressed through the test hook), purge prints the account, region and queue, asks
// on a terminal, refuses without one, and --yes skips the question. Read-only commands never ask.
func TestConfirmBeforeChangingRemoteData(t *testing.T) {
	c := cliTargets(t)[1] // moto
	url, _ := c.createQueue(t, awstest.UniqueName("confirm"), nil)
	if _, err := c.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	purge := with(c.common, "purge", "--queue-url", url)

	r := remote(t, "n\n", true, purge...)
	for _, want := range []string{"account:  123456789012", "region:   us-east-1", "queue:    " + url, "Proceed? [y/N]", "not confirmed"} {
		if r.code != exitFailure || !strings.Contains(r.stderr, want) {
			t.Fatalf("answered no: exit %d, want %q in\n%s", r.code, want, r.stderr)
		}
	}
	r = remote(t, "", false, purge...)
	if r.code != exitFailure || !strings.Contains(r.stderr, "pass --yes") || strings.Contains(r.stderr, "Proceed?") {
		t.Fatalf("no terminal: exit %d\n%s", r.code, r.stderr)
	}
	if n := visible(t, c, url); n != "1" {
		t.Fatalf("refused purges removed messages: %s visible", n)
	}

	// Read-only: no question, even on a terminal answering no.
	if r := remote(t, "n\n", true, with(c.common, "depth", "--queue-url", url)...); r.code != exitOK || strings.Contains(r.stderr, "Proceed?") {
		t.Fatalf("depth asked or failed: exit %d\n%s", r.code, r.stderr)
	}

	if r := remote(t, "y\n", true, purge...); r.code != exitOK || !strings.Contains(r.stdout, "purged "+url) {
		t.Fatalf("answered yes: exit %d\n%s", r.code, r.stderr)
	}
	if n := visible(t, c, url); n != "0" {
		t.Fatalf("after purge: %s visible", n)
	}
	if r := remote(t, "", false, append(purge, "--yes")...); r.code != exitOK || strings.Contains(r.stderr, "Proceed?") || !strings.Contains(r.stderr, "account:") {
		t.Fatalf("--yes: exit %d\n%s", r.code, r.stderr)
	}
}

func TestIsLoopbackEndpoint(t *testing.T) {
	for ep, want := range map[string]bool{
		"http://127.0.0.1:4566": true, "http://localhost:4566": true, "http://[::1]:9324": true, "http://sqs.localhost": true,
		"": false, "https://sqs.us-east-1.amazonaws.com": false, "http://10.0.0.5:4566": false, "http://localhost.example.com": false,
	} {
		if got := isLoopbackEndpoint(ep); got != want {
			t.Errorf("%q: %v, want %v", ep, got, want)
		}
	}
}

// TestWriteArbitraryContentAndPurge: write sends any JSON object (--json, --json @file, --field),
// and purge empties the queue (no question on loopback).
func TestWriteArbitraryContentAndPurge(t *testing.T) {
	tg, common := emulator(t)
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "cli-write", Raw: true})
	const mt = "application/vnd.globality.pubsub._.invoiced.order"
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(`{"amount": 12.5, "lines": [1, 2]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", mt, "--json", `{"amount": 7, "paid": true}`, "--field", "currency=EUR")...)
	must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", mt, "--json", "@"+file)...)
	got := readAll(t, common, p.QueueURL, 2)
	byAmount := map[any]map[string]any{}
	for _, m := range got { // read has no schema for the media type: the body shows what was sent
		var c map[string]any
		if err := json.Unmarshal([]byte(m.Body), &c); err != nil {
			t.Fatalf("body %q: %v", m.Body, err)
		}
		byAmount[c["amount"]] = c
	}
	if c := byAmount[float64(7)]; c == nil || c["paid"] != true || c["currency"] != "EUR" {
		t.Fatalf("--json with --field: %+v", got)
	}
	if c := byAmount[12.5]; c == nil || len(c["lines"].([]any)) != 2 {
		t.Fatalf("--json @file: %+v", got)
	}

	for range 3 {
		must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", fxpubsub.Created("order"), "--field", "uri=https://o/1")...)
	}
	if !awstest.Eventually(10*time.Second, 50*time.Millisecond, func() bool { return depthOf(t, common, p.QueueURL)[0].Visible == 3 }) {
		t.Fatal("the three messages did not arrive")
	}
	if r := must(t, with(common, "purge", "--queue-url", p.QueueURL)...); strings.Contains(r.stderr, "Proceed?") {
		t.Fatalf("purge asked on loopback:\n%s", r.stderr)
	}
	expectEmpty(t, common, p.QueueURL)
}

// TestRedriveMovesOnlyDeadLetters: a --dlq-url that the queue's RedrivePolicy does not name (here
// a live queue) is refused and nothing moves, unless --force; --max bounds the move.
func TestRedriveMovesOnlyDeadLetters(t *testing.T) {
	tg, common := emulator(t)
	p := provision(t, tg, common, "--raw")
	live, _ := tg.Queue(t, "cli-live", nil)
	for range 5 {
		if _, err := tg.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(live), MessageBody: aws.String(`{"mediaType":"x"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	r := pubsub(t, with(common, "redrive", "--queue-url", p.QueueURL, "--dlq-url", live)...)
	if r.code != exitFailure || !strings.Contains(r.stderr, "not the dead-letter queue") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("redrive from a live queue: exit %d\n%s", r.code, r.stderr)
	}
	if d := depthOf(t, common, live); d[0].Visible != 5 {
		t.Fatalf("the live queue lost messages: %+v", d)
	}
	r = must(t, with(common, "redrive", "--queue-url", p.QueueURL, "--dlq-url", live, "--force", "--max", "2")...)
	if !strings.Contains(r.stdout, "moved 2 message(s)") {
		t.Fatalf("--force --max 2: %s", r.stdout)
	}
	if d := depthOf(t, common, live); d[0].Visible != 3 {
		t.Fatalf("after moving 2 of 5: %+v", d)
	}
	// The real DLQ, named explicitly, is accepted.
	must(t, with(common, "redrive", "--queue-url", p.QueueURL, "--dlq-url", p.DLQURL)...)
}
