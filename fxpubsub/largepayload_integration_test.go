package fxpubsub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

type blobCreated struct {
	URI  string `json:"uri" validate:"required"`
	Data string `json:"data"`
}

var blobMT = fxpubsub.Created("Blob")

// largeRig is a rig whose producer and consumer share a payload store over the target's S3.
type largeRig struct {
	*rig
	bucket string
	store  *fxpubsub.PayloadStore
}

func newLargeRig(t *testing.T, tg awstest.Target, raw bool, opts fxpubsub.PayloadStoreOptions) *largeRig {
	t.Helper()
	r := newRig(t, tg, awstest.PipelineOptions{Raw: raw})
	ctx := context.Background()
	bucket := strings.ToLower(awstest.UniqueName("lp"))
	if _, err := tg.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if opts.Bucket == "" {
		opts.Bucket = bucket
	}
	store, err := fxpubsub.NewPayloadStore(tg.S3, opts)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT), fxpubsub.SchemaFor[blobCreated](blobMT))
	if err != nil {
		t.Fatal(err)
	}
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": r.pipe.TopicARN})
	if err != nil {
		t.Fatal(err)
	}
	r.producer = fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{LargePayloads: store})
	r.consumer, err = fxpubsub.NewConsumer(tg.SQS, reg, r.pipe.QueueURL, fxpubsub.ConsumerOptions{Wait: time.Second, Backoff: fxpubsub.NaiveBackoff{Timeout: 0}, LargePayloads: store})
	if err != nil {
		t.Fatal(err)
	}
	return &largeRig{rig: r, bucket: bucket, store: store}
}

// payload returns n bytes of text with multi-byte UTF-8 in it, different per seed.
func payload(n int, seed string) string {
	unit := seed + "-large message é€ payload; "
	return strings.Repeat(unit, n/len(unit)+1)[:n-1] + "."
}

func stopDaemon(t *testing.T, d *fxpubsub.Daemon) {
	t.Helper()
	stop, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Stop(stop); err != nil {
		t.Fatal(err)
	}
}

func (r *largeRig) put(t *testing.T, key string, body []byte) {
	t.Helper()
	if _, err := r.target.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}); err != nil {
		t.Fatal(err)
	}
}

// End to end: 1 MiB and 20 MiB payloads through SNS (envelope and raw delivery) -> SQS -> daemon:
// handled exactly once, byte-identical, the SQS body a pointer. 20 MiB goes up in parts (fauxqs
// refuses a single request body over 11 MiB).
func TestLargePayloadEndToEnd(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		for _, c := range []struct {
			raw  bool
			size int
		}{{false, 1 << 20}, {true, 1 << 20}, {false, 20 << 20}} {
			t.Run(fmt.Sprintf("raw=%v/size=%d", c.raw, c.size), func(t *testing.T) {
				key := awstest.UniqueName("e2e")
				r := newLargeRig(t, tg, c.raw, fxpubsub.PayloadStoreOptions{NewKey: func() string { return key }})
				data := payload(c.size, tg.Name)
				var (
					mu      sync.Mutex
					handled []string
					bodies  []string
				)
				h := mustReg(t, blobMT, func(ctx context.Context, b *blobCreated) error {
					mu.Lock()
					defer mu.Unlock()
					handled = append(handled, b.Data)
					bodies = append(bodies, string(fxpubsub.MessageFrom(ctx).Body))
					return nil
				})
				d := newDaemon(t, r.rig, []fxpubsub.Registration{h}, fxpubsub.DaemonOptions{})
				if err := d.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				_, err := r.producer.Produce(context.Background(), blobMT, blobCreated{URI: "https://blobs/1", Data: data})
				if err != nil {
					t.Fatalf("produce %d bytes: %v", c.size, err)
				}
				waitFor(t, 60*time.Second, "the large message to be handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) > 0 })
				stopDaemon(t, d)
				r.expectEmpty(t)
				mu.Lock()
				defer mu.Unlock()
				if len(handled) != 1 {
					t.Fatalf("handled %d times, want once", len(handled))
				}
				if handled[0] != data {
					t.Fatalf("payload differs: got %d bytes, want %d", len(handled[0]), len(data))
				}
				if !strings.Contains(bodies[0], fxpubsub.PayloadPointerClass) || !strings.Contains(bodies[0], r.bucket) {
					t.Fatalf("SQS body is not a pointer into %s: %.300s", r.bucket, bodies[0])
				}
				head, err := tg.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				// One PutObject up to the part size (a plain MD5 ETag), parts above it ("-N").
				parts := ""
				if n := (c.size + fxpubsub.DefaultPartSize - 1) / fxpubsub.DefaultPartSize; n > 1 {
					parts = fmt.Sprintf("-%d", n)
				}
				if etag := strings.Trim(aws.ToString(head.ETag), `"`); len(etag) != 32+len(parts) || !strings.HasSuffix(etag, parts) {
					t.Fatalf("stored object's ETag %s, want an MD5 with suffix %q", etag, parts)
				}
			})
		}
	})
}

// Messages built exactly as the extended clients send them are read: both class names, Python's
// spaced JSON, the Number size attribute (current and legacy name, or none), direct to SQS and
// through SNS with raw delivery and with the envelope (size in the envelope's MessageAttributes).
func TestLargePayloadExtendedClientFormats(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		for _, raw := range []bool{false, true} {
			t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
				r := newLargeRig(t, tg, raw, fxpubsub.PayloadStoreOptions{})
				ctx := context.Background()
				type form struct {
					name, class, sep, attr string
					viaSNS                 bool
				}
				forms := []form{
					{"python sqs", fxpubsub.PayloadPointerClass, ", ", fxpubsub.ExtendedPayloadSizeAttribute, false},
					{"java legacy", fxpubsub.LegacyPayloadPointerClass, ",", fxpubsub.LegacyPayloadSizeAttribute, false},
					{"no attribute", fxpubsub.PayloadPointerClass, ",", "", false},
					{"python sns", fxpubsub.PayloadPointerClass, ", ", fxpubsub.ExtendedPayloadSizeAttribute, true},
					{"sns legacy class", fxpubsub.LegacyPayloadPointerClass, ", ", fxpubsub.ExtendedPayloadSizeAttribute, true},
				}
				want := map[string]string{}
				for i, f := range forms {
					key := awstest.UniqueName("k")
					data := payload(300_000+i, f.name)
					body := fmt.Sprintf(`{"mediaType": %q, "uri": "https://blobs/%d", "data": %q, "opaqueData": {}}`, blobMT, i, data)
					r.put(t, key, []byte(body))
					pointer := fmt.Sprintf(`[%q%s{"s3BucketName": %q, "s3Key": %q}]`, f.class, f.sep, r.bucket, key)
					if f.sep == "," {
						pointer = fmt.Sprintf(`[%q,{"s3BucketName":%q,"s3Key":%q}]`, f.class, r.bucket, key)
					}
					want[fmt.Sprintf("https://blobs/%d", i)] = data
					if f.viaSNS {
						attrs := map[string]snstypes.MessageAttributeValue{
							fxpubsub.MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(blobMT)},
							f.attr:                      {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(body)))},
						}
						if _, err := tg.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(r.pipe.TopicARN), Message: aws.String(pointer), MessageAttributes: attrs}); err != nil {
							t.Fatalf("%s: publish: %v", f.name, err)
						}
						continue
					}
					in := &sqs.SendMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MessageBody: aws.String(pointer), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
						fxpubsub.MediaTypeAttribute: {DataType: aws.String("String"), StringValue: aws.String(blobMT)},
					}}
					if f.attr != "" {
						in.MessageAttributes[f.attr] = sqstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(body)))}
					}
					if _, err := tg.SQS.SendMessage(ctx, in); err != nil {
						t.Fatalf("%s: send: %v", f.name, err)
					}
				}
				for _, m := range r.consumeN(t, len(forms), 30*time.Second) {
					if m.Err != nil {
						t.Errorf("decode: %v (body %.200s)", m.Err, m.Body)
						continue
					}
					b, _ := fxpubsub.ContentAs[blobCreated](m)
					if want[b.URI] != b.Data {
						t.Errorf("%s: payload differs (%d bytes, want %d)", b.URI, len(b.Data), len(want[b.URI]))
					}
					delete(want, b.URI)
					if err := m.Ack(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if len(want) != 0 {
					t.Errorf("not read: %v", len(want))
				}
			})
		}
	})
}

// What we publish at the boundary: a message of exactly 262,144 bytes (body and attributes) stays
// inline; one byte more goes to S3, published with media_type and ExtendedPayloadSize (Number, the
// payload's bytes), the pointer in the extended clients' shape.
func TestLargePayloadBoundary(t *testing.T) {
	tg := awstest.Memory(t)
	r := newLargeRig(t, tg, true, fxpubsub.PayloadStoreOptions{})
	now := time.Unix(1795775410, 21493000)
	r.producer = fxpubsub.NewProducer(tg.SNS, r.producer.Registry(), mustTopics(t, r.pipe.TopicARN), fxpubsub.ProducerOptions{LargePayloads: r.store, Now: func() time.Time { return now }})
	ctx := context.Background()
	attrSize := len(fxpubsub.MediaTypeAttribute) + len("String") + len(blobMT)
	// Measure the encoding overhead with a small message, then pad to the exact boundary.
	if _, err := r.producer.Produce(ctx, blobMT, blobCreated{URI: "https://b/1", Data: "x"}); err != nil {
		t.Fatal(err)
	}
	small := r.consumeN(t, 1, 10*time.Second)[0]
	overhead := len(small.Body) - 1 + attrSize
	_ = small.Ack(ctx)
	for _, total := range []int{fxpubsub.MaxMessageSize, fxpubsub.MaxMessageSize + 1} {
		data := strings.Repeat("y", total-overhead)
		if _, err := r.producer.Produce(ctx, blobMT, blobCreated{URI: "https://b/1", Data: data}); err != nil {
			t.Fatalf("%d bytes: %v", total, err)
		}
		out, err := tg.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("%d bytes: receive: %v, %d messages", total, err, len(out.Messages))
		}
		m := out.Messages[0]
		body := aws.ToString(m.Body)
		size, offloaded := m.MessageAttributes[fxpubsub.ExtendedPayloadSizeAttribute]
		if total == fxpubsub.MaxMessageSize {
			if offloaded || len(body)+attrSize != total {
				t.Fatalf("exactly %d bytes: offloaded=%v, body+attributes %d; want inline", total, offloaded, len(body)+attrSize)
			}
		} else {
			if !offloaded || aws.ToString(size.DataType) != "Number" || aws.ToString(size.StringValue) != fmt.Sprint(total-attrSize) {
				t.Fatalf("%d bytes: size attribute %+v, want Number %d", total, size, total-attrSize)
			}
			if aws.ToString(m.MessageAttributes[fxpubsub.MediaTypeAttribute].StringValue) != blobMT {
				t.Fatalf("media_type lost: %v", m.MessageAttributes)
			}
			p, err := fxpubsub.ParsePayloadPointer([]byte(body))
			if err != nil || p.Bucket != r.bucket || !strings.HasPrefix(body, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":`) {
				t.Fatalf("pointer %s: %v", body, err)
			}
			obj, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := io.ReadAll(obj.Body)
			if len(stored) != total-attrSize || !bytes.Contains(stored, []byte(data)) {
				t.Fatalf("stored object is %d bytes, want %d", len(stored), total-attrSize)
			}
		}
		if _, err := tg.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
}

func mustTopics(t *testing.T, arn string) *fxpubsub.TopicMap {
	t.Helper()
	topics, err := fxpubsub.NewTopicMap(map[string]any{"default": arn})
	if err != nil {
		t.Fatal(err)
	}
	return topics
}

// Bad pointers are FAILED with a typed error naming what was wrong; the message is kept (nacked,
// not deleted) and the rest of the receive proceeds.
func TestLargePayloadBadInput(t *testing.T) {
	tg := awstest.Memory(t)
	r := newLargeRig(t, tg, true, fxpubsub.PayloadStoreOptions{MaxFetchSize: 1000})
	ctx := context.Background()
	other := "untrusted-" + r.bucket
	if _, err := tg.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	okBody := fmt.Sprintf(`{"mediaType":%q,"uri":"https://b/ok","data":"fine"}`, blobMT)
	r.put(t, "ok", []byte(okBody))
	r.put(t, "big", bytes.Repeat([]byte("z"), 1001))
	ptr := func(bucket, key string) string { return fxpubsub.PayloadPointer{Bucket: bucket, Key: key}.Body() }
	cases := []struct {
		body, size string
		op         fxpubsub.PayloadOp
	}{
		{`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + r.bucket + `"}]`, "", fxpubsub.PayloadMalformed},
		{`not a pointer`, "12", fxpubsub.PayloadMalformed},
		{ptr(r.bucket, "ok"), "x12", fxpubsub.PayloadMalformed},
		{ptr(r.bucket, "missing"), "", fxpubsub.PayloadMissing},
		{ptr(other, "ok"), "", fxpubsub.PayloadUntrustedBucket},
		{ptr(r.bucket, "big"), "", fxpubsub.PayloadTooLarge},
		{ptr(r.bucket, "ok"), fmt.Sprint(len(okBody) + 1), fxpubsub.PayloadSizeMismatch},
	}
	byBody := map[string]fxpubsub.PayloadOp{}
	for _, c := range cases {
		in := &sqs.SendMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MessageBody: aws.String(c.body)}
		if c.size != "" {
			dt := "Number"
			if strings.HasPrefix(c.size, "x") { // SQS refuses a Number that is none; a String one gets through
				dt = "String"
			}
			in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{fxpubsub.ExtendedPayloadSizeAttribute: {DataType: aws.String(dt), StringValue: aws.String(c.size)}}
		}
		if _, err := tg.SQS.SendMessage(ctx, in); err != nil {
			t.Fatal(err)
		}
		byBody[c.body+"|"+c.size] = c.op
	}
	if _, err := tg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.pipe.QueueURL), MessageBody: aws.String(ptr(r.bucket, "ok"))}); err != nil {
		t.Fatal(err)
	}
	handlers, err := fxpubsub.NewHandlerRegistry(mustReg(t, blobMT, func(context.Context, *blobCreated) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{})
	seen := 0
	for _, m := range r.consumeN(t, len(cases)+1, 10*time.Second) {
		_, res := disp.Handle(ctx, m)
		if m.Err == nil {
			if res.Type != fxpubsub.Succeeded {
				t.Errorf("good pointer: %v", res.Type)
			}
			continue
		}
		var pe *fxpubsub.PayloadError
		if !errors.As(m.Err, &pe) {
			t.Errorf("%.80s: error %v is not a *PayloadError", m.Body, m.Err)
			continue
		}
		seen++
		size := ""
		for k, v := range byBody {
			if strings.HasPrefix(k, string(m.Body)+"|") && v == pe.Op {
				size = "found"
			}
		}
		if size == "" {
			t.Errorf("%.80s: Op %q not the one expected (error %v)", m.Body, pe.Op, m.Err)
		}
		if res.Type != fxpubsub.Failed {
			t.Errorf("%q: result %v, want FAILED (retried with backoff, never IGNORED)", pe.Op, res.Type)
		}
	}
	if seen != len(cases) {
		t.Errorf("%d typed failures, want %d", seen, len(cases))
	}
}
