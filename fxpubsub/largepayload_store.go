package fxpubsub

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/otel/metric"
)

// S3Client is the part of the S3 API large messages use. *s3.Client satisfies it, and so does the
// in-memory backend's S3 (package pubsubmem).
type S3Client interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ S3Client = (*s3.Client)(nil)

// PayloadStoreOptions configure a [PayloadStore]; zero values mean the documented defaults.
type PayloadStoreOptions struct {
	// Bucket receives offloaded payloads; "" makes the store read-only (a consumer of other
	// services' large messages).
	Bucket string
	// KeyPrefix is put before each key (a random UUID); default none (the bucket root, as the
	// extended clients do).
	KeyPrefix string
	// Threshold: a message whose body and attributes exceed it is offloaded (default and maximum
	// [DefaultPayloadThreshold], 262,144 bytes).
	Threshold int
	// Always offloads every message.
	Always bool
	// TrustedBuckets are the buckets pointers may name; default: Bucket alone.
	TrustedBuckets []string
	// MaxFetchSize bounds a fetched payload (default [DefaultMaxFetchSize], 64 MiB).
	MaxFetchSize int64
	// FetchTimeout bounds one fetch (default [DefaultFetchTimeout]).
	FetchTimeout time.Duration
	// PartSize: a larger payload is uploaded in parts of this size, a few at once (S3 multipart);
	// a smaller one is one PutObject. Default [DefaultPartSize] (8 MiB); between [MinPartSize]
	// and [MaxPartSize].
	PartSize int64
	// UploadConcurrency is how many parts of one upload are in flight at once (default
	// [DefaultUploadConcurrency]).
	UploadConcurrency int
	// DeleteOnAck deletes a payload once its message is deleted from the queue (default false:
	// with SNS fan-out several queues share one object).
	DeleteOnAck bool
	// NewKey makes object keys (default: a random UUID).
	NewKey func() string
	// Telemetry registers the sns_producer.large_payload.orphans counter (default nil: none).
	Telemetry *Telemetry
}

// PayloadStore offloads large messages to S3 and fetches them back, in the extended clients'
// format. Pass one to [ProducerOptions] and [ConsumerOptions].
type PayloadStore struct {
	client  S3Client
	opts    PayloadStoreOptions
	trusted map[string]struct{}
	orphans atomic.Int64
	reg     metric.Registration
}

// NewPayloadStore returns a store over client. An invalid option is an error naming it.
func NewPayloadStore(client S3Client, opts PayloadStoreOptions) (*PayloadStore, error) {
	if client == nil {
		return nil, errors.New("payload store: no S3 client")
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultPayloadThreshold
	}
	if opts.Threshold < 0 || opts.Threshold > MaxMessageSize {
		return nil, fmt.Errorf("large_payload.threshold: must be between 1 and %d, got %d", MaxMessageSize, opts.Threshold)
	}
	if opts.MaxFetchSize == 0 {
		opts.MaxFetchSize = DefaultMaxFetchSize
	}
	if opts.MaxFetchSize < 0 {
		return nil, fmt.Errorf("large_payload.max_fetch_size: must be positive, got %d", opts.MaxFetchSize)
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < MinPartSize || opts.PartSize > MaxPartSize {
		return nil, fmt.Errorf("large_payload.part_size: must be between %d and %d bytes (S3's part sizes), got %d", MinPartSize, MaxPartSize, opts.PartSize)
	}
	if opts.UploadConcurrency == 0 {
		opts.UploadConcurrency = DefaultUploadConcurrency
	}
	if opts.UploadConcurrency < 0 {
		return nil, fmt.Errorf("large_payload.upload_concurrency: must be positive, got %d", opts.UploadConcurrency)
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.NewKey == nil {
		opts.NewKey = newUUID
	}
	trusted := opts.TrustedBuckets
	if len(trusted) == 0 && opts.Bucket != "" {
		trusted = []string{opts.Bucket}
	}
	s := &PayloadStore{client: client, opts: opts, trusted: make(map[string]struct{}, len(trusted))}
	for _, b := range trusted {
		s.trusted[b] = struct{}{}
	}
	if t := opts.Telemetry; t != nil {
		c, err := t.meter.Int64ObservableCounter("sns_producer.large_payload.orphans", metric.WithUnit("{object}"),
			metric.WithDescription("Payloads uploaded to S3 whose message was then not published (left for the bucket's lifecycle rule)."))
		if err != nil {
			return nil, fmt.Errorf("large payload telemetry: %w", err)
		}
		if s.reg, err = t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
			o.ObserveInt64(c, s.orphans.Load())
			return nil
		}, c); err != nil {
			return nil, fmt.Errorf("large payload telemetry: %w", err)
		}
	}
	return s, nil
}

// NewPayloadStoreFromConfig returns the store section large_payload describes, over client (no
// telemetry: set [PayloadStoreOptions.Telemetry] through [NewPayloadStore] for the orphans metric).
func NewPayloadStoreFromConfig(client S3Client, c LargePayloadConfig) (*PayloadStore, error) {
	return NewPayloadStore(client, c.storeOptions())
}

// Close unregisters the store's metric callback.
func (s *PayloadStore) Close() error {
	if s.reg != nil {
		return s.reg.Unregister()
	}
	return nil
}

// Orphans counts payloads uploaded whose message was then not published.
func (s *PayloadStore) Orphans() int64 { return s.orphans.Load() }

// Options returns the store's effective options.
func (s *PayloadStore) Options() PayloadStoreOptions { return s.opts }

// offloads reports whether a message of size bytes (body and attributes) goes to S3.
func (s *PayloadStore) offloads(size int) bool {
	return s != nil && s.opts.Bucket != "" && (s.opts.Always || size > s.opts.Threshold)
}

// Upload stores body under a new key (a random UUID after KeyPrefix, no content type, as the
// extended clients store it) and returns its pointer; a body over PartSize goes up in parts, and a
// failed multipart upload is aborted. Errors are *PayloadError.
func (s *PayloadStore) Upload(ctx context.Context, body []byte) (PayloadPointer, error) {
	if s.opts.Bucket == "" {
		return PayloadPointer{}, &PayloadError{Op: PayloadNotConfigured, Err: errors.New("large_payload.bucket is not set")}
	}
	return s.upload(ctx, bytes.NewReader(body), int64(len(body)))
}

// Fetch reads the payload p names, refusing untrusted buckets and objects over MaxFetchSize;
// want >= 0 is the size the message's attribute claims, checked against the object. Errors are
// *PayloadError.
func (s *PayloadStore) Fetch(ctx context.Context, p PayloadPointer, want int64) ([]byte, error) {
	if _, ok := s.trusted[p.Bucket]; !ok {
		return nil, &PayloadError{Op: PayloadUntrustedBucket, Pointer: p, Err: fmt.Errorf("trusted: %v (large_payload.trusted_buckets)", s.trustedList())}
	}
	if want > s.opts.MaxFetchSize {
		return nil, &PayloadError{Op: PayloadTooLarge, Pointer: p, Err: fmt.Errorf("size attribute says %d bytes, max %d", want, s.opts.MaxFetchSize)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, &PayloadError{Op: PayloadMissing, Pointer: p, Err: err}
		}
		return nil, &PayloadError{Op: PayloadFetch, Pointer: p, Err: err}
	}
	defer func() { _ = out.Body.Close() }()
	n := aws.ToInt64(out.ContentLength)
	if n > s.opts.MaxFetchSize {
		return nil, &PayloadError{Op: PayloadTooLarge, Pointer: p, Err: fmt.Errorf("object is %d bytes, max %d", n, s.opts.MaxFetchSize)}
	}
	if want >= 0 && out.ContentLength != nil && n != want {
		return nil, &PayloadError{Op: PayloadSizeMismatch, Pointer: p, Err: fmt.Errorf("attribute says %d bytes, object is %d", want, n)}
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(n, 0)+bytes.MinRead))
	read, err := buf.ReadFrom(io.LimitReader(out.Body, s.opts.MaxFetchSize+1))
	if err != nil {
		return nil, &PayloadError{Op: PayloadFetch, Pointer: p, Err: fmt.Errorf("read object: %w", err)}
	}
	if read > s.opts.MaxFetchSize {
		return nil, &PayloadError{Op: PayloadTooLarge, Pointer: p, Err: fmt.Errorf("object is over %d bytes", s.opts.MaxFetchSize)}
	}
	if want >= 0 && read != want {
		return nil, &PayloadError{Op: PayloadSizeMismatch, Pointer: p, Err: fmt.Errorf("attribute says %d bytes, object is %d", want, read)}
	}
	return buf.Bytes(), nil
}

// Delete removes the payload p names (deleting a missing object is no error in S3).
func (s *PayloadStore) Delete(ctx context.Context, p PayloadPointer) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)}); err != nil {
		return fmt.Errorf("delete payload %s: %w", p, err)
	}
	return nil
}

func (s *PayloadStore) trustedList() []string {
	l := make([]string, 0, len(s.trusted))
	for b := range s.trusted {
		l = append(l, b)
	}
	slices.Sort(l)
	return l
}

// newUUID returns a random (version 4) UUID, the extended clients' key.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
