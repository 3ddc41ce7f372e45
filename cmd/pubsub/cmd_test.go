package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

func TestProvisionWriteReadRoundTrip(t *testing.T) {
	tg, common := emulator(t)
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprint("raw=", raw), func(t *testing.T) {
			var extra []string
			if raw {
				extra = append(extra, "--raw")
			}
			p := provision(t, tg, common, extra...)

			// Provisioning again converges to the same resources.
			name := p.TopicARN[strings.LastIndexByte(p.TopicARN, ':')+1:]
			again := must(t, with(common, append([]string{"provision", "--topic", name, "--json"}, extra...)...)...)
			var p2 provisioned
			if err := json.Unmarshal([]byte(again.stdout), &p2); err != nil || p2 != p {
				t.Fatalf("second provision: %+v (%v), first %+v", p2, err, p)
			}
			sub, err := tg.SNS.GetSubscriptionAttributes(context.Background(), &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(p.SubscriptionARN)})
			if err != nil || sub.Attributes["RawMessageDelivery"] != fmt.Sprint(raw) {
				t.Fatalf("subscription attributes %v, %v", sub.Attributes, err)
			}

			w := must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", "order", "--uri", "https://orders.example/1",
				"--opaque", "X-Request-Id=req-1")...)
			if strings.TrimSpace(w.stdout) == "" {
				t.Fatal("write printed no message id")
			}
			got := readAll(t, common, p.QueueURL, 1)[0]
			if got.MediaType != fxpubsub.Created("order") || got.ReceiveCount != 1 || got.MessageID == "" {
				t.Fatalf("read %+v", got)
			}
			if c, _ := got.Content.(map[string]any); c["uri"] != "https://orders.example/1" {
				t.Fatalf("content %v", got.Content)
			}
			if got.Opaque["x-request-id"] != "req-1" || got.Opaque["x-request-published"] == "" {
				t.Fatalf("opaque %v", got.Opaque)
			}
			expectEmpty(t, common, p.QueueURL) // read acked it
		})
	}
}

func TestProvisionFilterPolicy(t *testing.T) {
	tg, common := emulator(t)
	p := provision(t, tg, common, "--filter-media-type", "order", "--raw")
	must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", "invoice", "--uri", "https://invoices/1")...)
	must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", fxpubsub.Created("order"), "--uri", "https://orders/1")...)
	got := readAll(t, common, p.QueueURL, 1)
	if got[0].MediaType != fxpubsub.Created("order") {
		t.Fatalf("filtered subscription delivered %s", got[0].MediaType)
	}
	expectEmpty(t, common, p.QueueURL)
}

func TestNackDepthAndRedrive(t *testing.T) {
	tg, common := emulator(t)
	p := provision(t, tg, common, "--max-receive-count", "1", "--raw")
	for i := range 3 {
		must(t, with(common, "write", "--topic-arn", p.TopicARN, "--media-type", "order", "--uri", fmt.Sprint("https://orders/", i))...)
	}
	// Nack all three: visible again at once, and one receive over maxReceiveCount moves them to the DLQ.
	readAll(t, common, p.QueueURL, 3, "--nack", "--nack-timeout", "0")
	expectEmpty(t, common, p.QueueURL)

	d := depthOf(t, common, p.QueueURL)
	if len(d) != 2 || d[0].Visible != 0 || !d[1].DLQ || d[1].Visible != 3 || d[1].URL != p.DLQURL {
		t.Fatalf("depth before redrive: %+v", d)
	}
	table := must(t, with(common, "depth", "--queue-url", p.QueueURL)...)
	if !strings.Contains(table.stdout, "(DLQ)") || !strings.Contains(table.stdout, "VISIBLE") {
		t.Fatalf("depth table:\n%s", table.stdout)
	}

	r := must(t, with(common, "redrive", "--queue-url", p.QueueURL)...)
	if !strings.Contains(r.stdout, "moved 3 message(s)") || !strings.Contains(r.stderr, "moved 3/3") {
		t.Fatalf("redrive: %+v", r)
	}
	d = depthOf(t, common, p.QueueURL)
	if d[0].Visible != 3 || d[1].Visible != 0 {
		t.Fatalf("depth after redrive: %+v", d)
	}
	uris := map[any]bool{}
	for _, m := range readAll(t, common, p.QueueURL, 3) {
		if m.ReceiveCount != 1 || m.MediaType != fxpubsub.Created("order") {
			t.Fatalf("redriven message %+v", m)
		}
		uris[m.Content.(map[string]any)["uri"]] = true
	}
	if len(uris) != 3 {
		t.Fatalf("redriven uris %v", uris)
	}

	// Nothing left: redrive moves nothing and succeeds.
	if r := must(t, with(common, "redrive", "--queue-url", p.QueueURL, "--dlq-url", p.DLQURL)...); !strings.Contains(r.stdout, "moved 0") {
		t.Fatalf("empty redrive: %+v", r)
	}
}

func depthOf(t *testing.T, common []string, queueURL string) []depth {
	t.Helper()
	r := must(t, with(common, "depth", "--queue-url", queueURL, "--json")...)
	var d []depth
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("depth --json: %v\n%s", err, r.stdout)
	}
	return d
}

// TestEndpointAndQueueFromEnvironment: AWS_ENDPOINT_URL replaces --endpoint-url, and the shared
// configuration (PUBSUB__ environment, --set) replaces --queue-url and --topic-arn.
func TestEndpointAndQueueFromEnvironment(t *testing.T) {
	tg, _ := emulator(t)
	p := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "cli-env", Raw: true})
	t.Setenv("AWS_ENDPOINT_URL", tg.Endpoint)
	t.Setenv("AWS_REGION", awstest.Region)
	t.Setenv("PUBSUB__SQS_CONSUMER__SQS_QUEUE_URL", p.QueueURL)

	must(t, "write", "--set", "sns_topic_arns.default="+p.TopicARN, "--media-type", "order", "--uri", "https://orders/env")
	got := readAll(t, nil, "", 1) // no --queue-url: from PUBSUB__SQS_CONSUMER__SQS_QUEUE_URL
	if got[0].Content.(map[string]any)["uri"] != "https://orders/env" {
		t.Fatalf("read %+v", got)
	}
	if d := depthOf(t, nil, ""); len(d) != 1 || d[0].URL != p.QueueURL { // the pipeline's queue has no redrive policy
		t.Fatalf("depth %+v", d)
	}
}

func TestRuntimeErrorsExitOne(t *testing.T) {
	tg, common := emulator(t)
	_ = tg
	missingQueue := strings.TrimSuffix(tg.Endpoint, "/") + "/000000000000/" + awstest.UniqueName("missing")
	for _, args := range [][]string{
		{"read", "--queue-url", missingQueue},
		{"depth", "--queue-url", awstest.UniqueName("missing")},
		{"write", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:" + awstest.UniqueName("missing"), "--media-type", "order", "--uri", "https://o/1"},
		{"write", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:x", "--media-type", "order"}, // created needs a uri
	} {
		r := pubsub(t, with(common, args...)...)
		if r.code != exitFailure || !strings.HasPrefix(r.stderr, "pubsub "+args[0]+": ") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("pubsub %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

func TestReadDecodeFailureIsReported(t *testing.T) {
	tg, common := emulator(t)
	url, _ := tg.Queue(t, "cli-bad", nil)
	if _, err := tg.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"mediaType":"` + fxpubsub.Created("order") + `"}`)}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, common, url, 1)
	if got[0].Error == "" || got[0].Body == "" {
		t.Fatalf("a message failing its schema must show error and body: %+v", got[0])
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{args: nil, code: exitUsage, wantStderr: "Usage: pubsub COMMAND"},
		{args: []string{"--help"}, code: exitOK, wantStdout: "provision"},
		{args: []string{"help", "redrive"}, code: exitOK, wantStdout: "StartMessageMoveTask"},
		{args: []string{"frobnicate"}, code: exitUsage, wantStderr: `unknown command "frobnicate"`},
		{args: []string{"write", "--uri", "https://o/1"}, code: exitUsage, wantStderr: "--media-type is required"},
		{args: []string{"write", "--bogus"}, code: exitUsage, wantStderr: "unknown flag --bogus"},
		{args: []string{"write", "extra"}, code: exitUsage, wantStderr: `unexpected argument "extra"`},
		{args: []string{"read", "--max", "11"}, code: exitUsage, wantStderr: "--max must be between 1 and 10"},
		{args: []string{"read", "--queue-url", "q", "--testing"}, code: exitUsage, wantStderr: "--testing is not supported"},
		{args: []string{"read", "--set", "x"}, code: exitUsage, wantStderr: "want key=value"},
		{args: []string{"provision"}, code: exitUsage, wantStderr: "--topic is required"},
		{args: []string{"provision", "--topic", "t", "--max-receive-count", "0"}, code: exitUsage, wantStderr: "--max-receive-count"},
		{args: []string{"redrive", "--max", "-1"}, code: exitUsage, wantStderr: "--max must not be negative"},
		{args: []string{"naive", "--action", "exploded", "--resource-name", "x", "--uri", "u"}, code: exitUsage, wantStderr: "--action must be"},
		{args: []string{"naive", "--action", "deleted", "--resource-name", "x"}, code: exitUsage, wantStderr: "--id is required"},
		{args: []string{"depth", "--queue-url", "q", "--endpoint-url", "localhost:4566"}, code: exitUsage, wantStderr: `--endpoint-url "localhost:4566": want an absolute http or https URL`},
		{args: []string{"purge", "--queue-url", "q", "--endpoint-url", "127.0.0.1:4566"}, code: exitUsage, wantStderr: "--endpoint-url"},
		{args: []string{"write", "--media-type", "x", "--json", "[1]"}, code: exitUsage, wantStderr: "--json: want a JSON object"},
		{args: []string{"write", "--media-type", "x", "--json", "@/nonexistent/body.json"}, code: exitUsage, wantStderr: "--json @/nonexistent/body.json"},
		{args: []string{"write", "--media-type", "x", "--field", "novalue"}, code: exitUsage, wantStderr: "want key=value"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL", "")
			r := pubsub(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.wantStdout) || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
		})
	}
	for _, c := range commands {
		r := pubsub(t, c.name, "--help")
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "Usage: pubsub "+c.name) || !strings.Contains(r.stdout, "--endpoint-url") {
			t.Errorf("%s --help: exit %d\n%s", c.name, r.code, r.stdout)
		}
	}
}

func TestNaive(t *testing.T) {
	r := must(t, "naive", "--action", "changed", "--resource-name", "FooBar", "--uri", "https://x/1", "--field-name", "state", "--new-value", "done")
	want := `{"mediaType":"application/vnd.globality.pubsub._.changed.foo_bar","uri":"https://x/1","field_name":"state","new_value":"done"}` + "\n"
	if r.stdout != want {
		t.Fatalf("got %q, want %q", r.stdout, want)
	}
	// The line is what a daemon's --stdin replay reads with the naive envelope.
	reg, _ := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig())
	replay := fxpubsub.NewReplayReader(strings.NewReader(r.stdout), "stdin")
	defer replay.Close()
	dec, err := fxpubsub.NewDecoder(reg, fxpubsub.DecoderOptions{Envelope: fxpubsub.EnvelopeNaive})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := replay.Source(dec).Receive(context.Background(), 10)
	if err != nil || len(msgs) != 1 || msgs[0].Err != nil || msgs[0].MediaType != fxpubsub.Changed("FooBar") {
		t.Fatalf("replayed %v %v", msgs, err)
	}
}
