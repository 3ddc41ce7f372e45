package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// pubsub runs the command in-process, as the binary would, with a 60 s bound.
func pubsub(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// must runs the command and fails the test unless it exits 0.
func must(t *testing.T, args ...string) result {
	t.Helper()
	r := pubsub(t, args...)
	if r.code != exitOK {
		t.Fatalf("pubsub %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// emulator returns the fauxqs target and the common flags that point the command at it. The
// credentials are the emulator's dummy ones.
func emulator(t *testing.T) (awstest.Target, []string) {
	t.Helper()
	tg := awstest.Fauxqs(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_PROFILE", "")
	return tg, []string{"--endpoint-url", tg.Endpoint, "--region", awstest.Region}
}

func with(common []string, args ...string) []string {
	return append(args, common...)
}

// provision runs provision --json with unique names and deletes what it made when the test ends.
func provision(t *testing.T, tg awstest.Target, common []string, extra ...string) provisioned {
	t.Helper()
	name := awstest.UniqueName("cli")
	r := must(t, with(common, append([]string{"provision", "--topic", name, "--json"}, extra...)...)...)
	var p provisioned
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("provision output: %v\n%s", err, r.stdout)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = tg.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(p.SubscriptionARN)})
		_, _ = tg.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(p.QueueURL)})
		_, _ = tg.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(p.DLQURL)})
		_, _ = tg.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(p.TopicARN)})
	})
	for _, v := range []string{p.TopicARN, p.QueueURL, p.QueueARN, p.DLQURL, p.DLQARN, p.SubscriptionARN} {
		if v == "" {
			t.Fatalf("provision left something empty: %+v", p)
		}
	}
	return p
}

// readAll runs read until n messages were printed (or 20 s passed) and returns the parsed lines.
func readAll(t *testing.T, common []string, queueURL string, n int, extra ...string) []readOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got []readOutput
	for len(got) < n && time.Now().Before(deadline) {
		r := must(t, with(common, append([]string{"read", "--queue-url", queueURL, "--wait", "1"}, extra...)...)...)
		got = append(got, parseRead(t, r.stdout)...)
	}
	if len(got) != n {
		t.Fatalf("read %d messages, want %d: %+v", len(got), n, got)
	}
	return got
}

func parseRead(t *testing.T, out string) []readOutput {
	t.Helper()
	var got []readOutput
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var o struct {
			readOutput
			Content map[string]any `json:"content"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("read line %q: %v", line, err)
		}
		o.readOutput.Content = o.Content
		got = append(got, o.readOutput)
	}
	return got
}

// expectEmpty reads once and fails if anything arrives.
func expectEmpty(t *testing.T, common []string, queueURL string) {
	t.Helper()
	r := must(t, with(common, "read", "--queue-url", queueURL, "--wait", "1")...)
	if got := parseRead(t, r.stdout); len(got) != 0 {
		t.Fatalf("queue not empty: %+v", got)
	}
}
