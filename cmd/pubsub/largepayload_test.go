package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// bucket creates a bucket on the target's S3.
func bucket(t *testing.T, tg awstest.Target) string {
	t.Helper()
	name := strings.ToLower(awstest.UniqueName("cli-lp"))
	if _, err := tg.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return name
}

// With a large_payload section, write --file offloads a message over 256 KiB (the queue gets the
// pointer with ExtendedPayloadSize and media_type), and read prints the payload's content.
func TestWriteReadLargePayload(t *testing.T) {
	tg, common := emulator(t)
	p := provision(t, tg, common, "--raw")
	b := bucket(t, tg)
	lp := with(common, "--set", "large_payload.bucket="+b)
	// A created message keeps only its convention fields, so the size is in the URI.
	uri := "https://blobs.example/" + strings.Repeat("large-payload_", 300_000/14)
	file := filepath.Join(t.TempDir(), "content.json")
	content, _ := json.Marshal(map[string]string{"uri": uri})
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	w := must(t, with(lp, "write", "--topic-arn", p.TopicARN, "--media-type", "blob", "--file", file)...)
	if strings.TrimSpace(w.stdout) == "" {
		t.Fatal("write printed no message id")
	}

	// What the queue holds: the pointer, as the extended clients send it (looked at, then made
	// visible again for read).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var m sqstypes.Message
	if !awstest.Eventually(20*time.Second, 50*time.Millisecond, func() bool {
		out, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.QueueURL), MessageAttributeNames: []string{"All"}})
		if err != nil || len(out.Messages) == 0 {
			return false
		}
		m = out.Messages[0]
		return true
	}) {
		t.Fatal("the message did not arrive")
	}
	if _, err := tg.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(p.QueueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	ptr, err := fxpubsub.ParsePayloadPointer([]byte(aws.ToString(m.Body)))
	if err != nil || ptr.Bucket != b {
		t.Fatalf("queued body %.200q is not a pointer into %s: %v", aws.ToString(m.Body), b, err)
	}
	size := m.MessageAttributes[fxpubsub.ExtendedPayloadSizeAttribute]
	mt := m.MessageAttributes[fxpubsub.MediaTypeAttribute]
	if aws.ToString(size.DataType) != "Number" || aws.ToString(mt.StringValue) != fxpubsub.Created("blob") {
		t.Fatalf("attributes %v, want %s (Number) and media_type", m.MessageAttributes, fxpubsub.ExtendedPayloadSizeAttribute)
	}
	head, err := tg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(ptr.Key)})
	if err != nil || aws.ToString(size.StringValue) != strconv.FormatInt(aws.ToInt64(head.ContentLength), 10) {
		t.Fatalf("object %s: %v, %d bytes; size attribute %s", ptr, err, aws.ToInt64(head.ContentLength), aws.ToString(size.StringValue))
	}

	got := readAll(t, lp, p.QueueURL, 1)[0]
	if got.Error != "" {
		t.Fatalf("read: %s", got.Error)
	}
	c, _ := got.Content.(map[string]any)
	if u, _ := c["uri"].(string); u != uri || got.MediaType != fxpubsub.Created("blob") {
		t.Fatalf("read %s: a URI of %d bytes, want the one written (%d bytes)", got.MediaType, len(u), len(uri))
	}
	expectEmpty(t, lp, p.QueueURL)
}

// read refuses a pointer into a bucket the configuration does not trust, and says so; without a
// large_payload section it says that is what is missing.
func TestReadLargePayloadRefusals(t *testing.T) {
	tg, common := emulator(t)
	p := provision(t, tg, common, "--raw")
	trusted, other := bucket(t, tg), bucket(t, tg)
	ctx := context.Background()
	body := `{"mediaType":"` + fxpubsub.Created("blob") + `","uri":"https://blobs/2"}`
	if _, err := tg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(other), Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	pointer := fxpubsub.PayloadPointer{Bucket: other, Key: "k"}.Body()
	send := func() {
		t.Helper()
		if _, err := tg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(p.QueueURL), MessageBody: aws.String(pointer)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"untrusted bucket", with(common, "--set", "large_payload.bucket="+trusted),
			[]string{"large payload: untrusted bucket", `"s3://` + other + `/k"`, "trusted: [" + trusted + "]", "large_payload.trusted_buckets"}},
		{"no large_payload section", common, []string{"large_payload"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			send()
			got := readAll(t, c.args, p.QueueURL, 1)[0]
			for _, w := range c.wants {
				if !strings.Contains(got.Error, w) {
					t.Errorf("error %q does not contain %q", got.Error, w)
				}
			}
			if got.Body != pointer {
				t.Errorf("body %q, want the pointer", got.Body)
			}
		})
	}
}

// --file and --json both give the content: one of them only.
func TestWriteFileAndJSONExclusive(t *testing.T) {
	r := pubsub(t, "write", "--media-type", "blob", "--json", "{}", "--file", "content.json", "--endpoint-url", "http://127.0.0.1:1", "--region", awstest.Region)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--json and --file are exclusive") {
		t.Fatalf("exit %d, stderr %q; want a usage error naming both flags", r.code, r.stderr)
	}
}
