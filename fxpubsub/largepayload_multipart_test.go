package fxpubsub_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
)

// Upload: a body up to the part size is one PutObject (a plain MD5 ETag), a larger one a
// multipart upload of ceil(size/part) parts ("-N"); both read back byte-identical.
func TestPayloadStoreMultipartUpload(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		ctx := context.Background()
		bucket := strings.ToLower(awstest.UniqueName("mp"))
		if _, err := tg.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		store, err := fxpubsub.NewPayloadStore(tg.S3, fxpubsub.PayloadStoreOptions{Bucket: bucket, PartSize: fxpubsub.MinPartSize, UploadConcurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			size  int
			parts string
		}{{fxpubsub.MinPartSize, ""}, {fxpubsub.MinPartSize + 1, "-2"}, {2*fxpubsub.MinPartSize + 12345, "-3"}} {
			body := []byte(payload(c.size, tg.Name))
			p, err := store.Upload(ctx, body)
			if err != nil {
				t.Fatalf("upload %d bytes: %v", c.size, err)
			}
			got, err := store.Fetch(ctx, p, int64(c.size))
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("fetch %d bytes: %d bytes back, %v", c.size, len(got), err)
			}
			head, err := tg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(p.Key)})
			if err != nil {
				t.Fatal(err)
			}
			if etag := strings.Trim(aws.ToString(head.ETag), `"`); len(etag) != 32+len(c.parts) || !strings.HasSuffix(etag, c.parts) {
				t.Errorf("%d bytes: ETag %s, want an MD5 with suffix %q", c.size, etag, c.parts)
			}
		}
	})
}

// uploadTracker is the target's real S3 client, noting each multipart upload's id and cancelling
// the caller's context once failAfter parts have been stored.
type uploadTracker struct {
	fxpubsub.S3Client
	failAfter int
	cancel    context.CancelFunc

	mu    sync.Mutex
	ids   []string
	parts int
}

func (u *uploadTracker) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	out, err := u.S3Client.CreateMultipartUpload(ctx, in, o...)
	if err == nil {
		u.mu.Lock()
		u.ids = append(u.ids, aws.ToString(out.UploadId))
		u.mu.Unlock()
	}
	return out, err
}

func (u *uploadTracker) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	out, err := u.S3Client.UploadPart(ctx, in, o...)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err == nil {
		if u.parts++; u.cancel != nil && u.parts == u.failAfter {
			u.cancel()
		}
	}
	return out, err
}

// A multipart upload that fails part-way (the caller's context cancelled after the first part; on
// fauxqs also a part over its request limit) is aborted, leaving no upload and no object, and
// Produce returns a *PayloadError upload: nothing is published.
func TestLargePayloadMultipartFailureAborts(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		type failure struct {
			name     string
			partSize int64
			size     int
			cancel   bool
			want     error
		}
		cases := []failure{{"cancelled after a part", fxpubsub.MinPartSize, 3 * fxpubsub.MinPartSize, true, context.Canceled}}
		if limit := tg.Caps.S3MaxRequestBody; limit > 0 {
			cases = append(cases, failure{"part over the server's limit", limit + 1<<20, int(limit) + 2<<20, false, nil})
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := newLargeRig(t, tg, true, fxpubsub.PayloadStoreOptions{})
				key := awstest.UniqueName("abort")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				tr := &uploadTracker{S3Client: tg.S3, failAfter: 1}
				if c.cancel {
					tr.cancel = cancel
				}
				store, err := fxpubsub.NewPayloadStore(tr, fxpubsub.PayloadStoreOptions{Bucket: r.bucket, PartSize: c.partSize, UploadConcurrency: 1, NewKey: func() string { return key }})
				if err != nil {
					t.Fatal(err)
				}
				p := fxpubsub.NewProducer(tg.SNS, r.producer.Registry(), mustTopics(t, r.pipe.TopicARN), fxpubsub.ProducerOptions{LargePayloads: store})
				_, err = p.Produce(ctx, blobMT, blobCreated{URI: "https://b/1", Data: payload(c.size, "abort")})
				var pe *fxpubsub.PayloadError
				if !errors.As(err, &pe) || pe.Op != fxpubsub.PayloadUpload || pe.Pointer.Key != key {
					t.Fatalf("produce: %v, want a *PayloadError %q naming %s", err, fxpubsub.PayloadUpload, key)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Fatalf("produce: %v, want it to wrap %v", err, c.want)
				}
				if strings.Contains(err.Error(), "abort multipart upload") {
					t.Fatalf("the abort failed: %v", err)
				}
				r.expectEmpty(t)
				tr.mu.Lock()
				ids := tr.ids
				tr.mu.Unlock()
				if len(ids) != 1 {
					t.Fatalf("%d multipart uploads started, want 1", len(ids))
				}
				check := context.Background()
				if err := awstest.UploadGone(check, tg, r.bucket, key, ids[0]); err != nil {
					t.Fatalf("after the failed upload: %v", err)
				}
				_, err = tg.S3.HeadObject(check, &s3.HeadObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
				var nf *s3types.NotFound
				if !errors.As(err, &nf) {
					t.Fatalf("head %s: %v, want *types.NotFound (no object)", key, err)
				}
				if store.Orphans() != 0 {
					t.Fatalf("%d orphans counted, want 0 (nothing was stored)", store.Orphans())
				}
			})
		}
	})
}

// Part size and concurrency outside S3's limits are refused, naming the option.
func TestPayloadStorePartOptions(t *testing.T) {
	tg := awstest.Memory(t)
	for _, o := range []fxpubsub.PayloadStoreOptions{
		{Bucket: "b", PartSize: fxpubsub.MinPartSize - 1},
		{Bucket: "b", PartSize: fxpubsub.MaxPartSize + 1},
		{Bucket: "b", UploadConcurrency: -1},
	} {
		_, err := fxpubsub.NewPayloadStore(tg.S3, o)
		if err == nil {
			t.Errorf("%+v: no error", o)
			continue
		}
		if !strings.Contains(err.Error(), "large_payload.part_size") && !strings.Contains(err.Error(), "large_payload.upload_concurrency") {
			t.Errorf("%+v: %v does not name the option", o, err)
		}
	}
	s, err := fxpubsub.NewPayloadStore(tg.S3, fxpubsub.PayloadStoreOptions{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Options(); o.PartSize != fxpubsub.DefaultPartSize || o.UploadConcurrency != fxpubsub.DefaultUploadConcurrency {
		t.Fatalf("defaults: part size %d, concurrency %d", o.PartSize, o.UploadConcurrency)
	}
}

// Section large_payload sets the part size and upload concurrency; a part size S3 would refuse
// is an error naming the key.
func TestPayloadStoreFromConfigPartOptions(t *testing.T) {
	tg := awstest.Memory(t)
	settings, err := fxconfig.Load(fxconfig.Input{Name: "lp", Environ: []string{"LP__LARGE_PAYLOAD__UPLOAD_CONCURRENCY=2"}, Values: map[string]any{
		"large_payload.bucket": "b", "large_payload.part_size": 6 << 20,
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := fxpubsub.LoadConfig(settings)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fxpubsub.NewPayloadStoreFromConfig(tg.S3, cfg.LargePayload)
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Options(); o.PartSize != 6<<20 || o.UploadConcurrency != 2 {
		t.Fatalf("part size %d, concurrency %d; want %d, 2", o.PartSize, o.UploadConcurrency, 6<<20)
	}
	_, err = fxpubsub.NewPayloadStoreFromConfig(tg.S3, fxpubsub.LargePayloadConfig{Bucket: "b", PartSize: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "large_payload.part_size") || !strings.Contains(err.Error(), "1048576") {
		t.Fatalf("part size 1 MiB: %v; want an error naming large_payload.part_size and the value", err)
	}
}
