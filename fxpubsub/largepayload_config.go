package fxpubsub

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LargePayloadConfig is section large_payload: messages over 256 KiB through S3, in the AWS
// extended clients' format (see "Large messages" in the README). Off unless bucket or
// trusted_buckets is set.
type LargePayloadConfig struct {
	// Bucket receives the payloads this service offloads; setting it turns offloading on. Its
	// consumers trust it by default.
	Bucket string `koanf:"bucket"`
	// KeyPrefix goes before each object key (a random UUID). Default "": the bucket root, as the
	// extended clients do.
	KeyPrefix string `koanf:"key_prefix"`
	// Threshold in bytes (body plus attributes, as SNS counts them): a larger message is
	// offloaded. Default and maximum 262144 (a message that would not fit).
	Threshold int `koanf:"threshold" validate:"min=0,max=262144"`
	// Always offloads every message. Default false.
	Always bool `koanf:"always"`
	// TrustedBuckets are the buckets the consumer reads pointers from. Default: [bucket].
	TrustedBuckets []string `koanf:"trusted_buckets"`
	// MaxFetchSize bounds a fetched payload in bytes. Default 67108864 (64 MiB).
	MaxFetchSize int64 `koanf:"max_fetch_size" validate:"min=0"`
	// FetchTimeout bounds one fetch. Default 30s.
	FetchTimeout time.Duration `koanf:"fetch_timeout" validate:"gte=0"`
	// PartSize in bytes: a larger payload is uploaded as an S3 multipart upload in parts of this
	// size, a smaller one with one PutObject. Default 8388608 (8 MiB); between 5 MiB and 5 GiB,
	// S3's limits.
	PartSize int64 `koanf:"part_size" validate:"min=0"`
	// UploadConcurrency is how many parts of one multipart upload are sent at once. Default 4.
	UploadConcurrency int `koanf:"upload_concurrency" validate:"min=0"`
	// DeletePayloadOnAck deletes the object once its message is deleted. Default false: with SNS
	// fan-out several queues read one object.
	DeletePayloadOnAck bool `koanf:"delete_payload_on_ack"`
	// EndpointURL points the S3 client elsewhere (path-style addressing). Default:
	// sns_producer.endpoint_url, else sqs_consumer.endpoint_url, else AWS.
	EndpointURL string `koanf:"endpoint_url" validate:"omitempty,url"`
	// RegionName overrides the SDK's region resolution. Default: sns_producer.region_name.
	RegionName string `koanf:"region_name"`
	// ProfileName selects a shared-config profile. Default: sns_producer.profile_name.
	ProfileName string `koanf:"profile_name"`
	// ForcePathStyle uses path-style addressing against AWS too. Default false.
	ForcePathStyle bool `koanf:"force_path_style"`
}

// Enabled reports whether the section turns large messages on.
func (c LargePayloadConfig) Enabled() bool { return c.Bucket != "" || len(c.TrustedBuckets) > 0 }

// storeOptions turns the section into [PayloadStoreOptions].
func (c LargePayloadConfig) storeOptions() PayloadStoreOptions {
	return PayloadStoreOptions{
		Bucket: c.Bucket, KeyPrefix: c.KeyPrefix, Threshold: c.Threshold, Always: c.Always, TrustedBuckets: c.TrustedBuckets,
		MaxFetchSize: c.MaxFetchSize, FetchTimeout: c.FetchTimeout, DeleteOnAck: c.DeletePayloadOnAck,
		PartSize: c.PartSize, UploadConcurrency: c.UploadConcurrency,
	}
}

// memoryBuckets creates the configured buckets in the in-memory S3 (testing mode).
func memoryBuckets(ctx context.Context, b *Backend, lp LargePayloadConfig) error {
	s3c := b.Memory.S3()
	b.S3 = s3c
	for _, name := range append([]string{lp.Bucket}, lp.TrustedBuckets...) {
		if name == "" {
			continue
		}
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			return fmt.Errorf("memory bucket %q: %w", name, err)
		}
	}
	return nil
}
