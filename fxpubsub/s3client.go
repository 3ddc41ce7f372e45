package fxpubsub

import (
	"cmp"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"
)

// NewS3Client returns an S3 client for o, built like [NewSNSClient] (the SDK's buildable HTTP
// client, so AWS_CA_BUNDLE keeps working; the same retryer and timeouts; the SDK's log lines on
// o.Logger). See [NewS3ClientFromConfig] for addressing and checksums.
func NewS3Client(ctx context.Context, o AWSOptions, pathStyle bool) (*s3.Client, error) {
	cfg, err := LoadAWSConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return NewS3ClientFromConfig(cfg, o.EndpointURL, pathStyle), nil
}

// NewS3ClientFromConfig returns an S3 client for an SDK configuration (from [LoadAWSConfig]).
// With an endpoint URL (an emulator, LocalStack, MinIO) it uses path-style addressing
// (http://host/bucket/key), which such servers need; against AWS it uses virtual-hosted
// addressing unless pathStyle is set. Checksums are computed and validated only where S3 requires
// them, so S3-compatible servers that do not support the SDK's default trailing checksums work.
func NewS3ClientFromConfig(cfg aws.Config, endpointURL string, pathStyle bool) *s3.Client {
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if endpointURL != "" {
			so.BaseEndpoint = aws.String(endpointURL)
			pathStyle = true
		}
		so.UsePathStyle = pathStyle
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

// s3Options are the S3 client's options for cfg's large_payload section: its own endpoint,
// region and profile, else the producer's (the endpoint also the consumer's).
func s3Options(cfg Config, log *zap.Logger) AWSOptions {
	lp := cfg.LargePayload
	return AWSOptions{
		EndpointURL: cmp.Or(lp.EndpointURL, cfg.Producer.EndpointURL, cfg.Consumer.EndpointURL),
		Region:      cmp.Or(lp.RegionName, cfg.Producer.RegionName), Profile: cmp.Or(lp.ProfileName, cfg.Producer.ProfileName),
		ConnectTimeout: cfg.Producer.ConnectTimeout, MaxAttempts: cfg.Producer.MaxAttempts, Logger: log,
	}
}

// newS3Client builds the S3 client for cfg's large_payload section as the SNS and SQS clients are
// built: the SDK's log lines on log (nil: the SDK's default), and the credentials retrieved once,
// so that missing ones fail at start-up with a [CredentialsError].
func newS3Client(ctx context.Context, cfg Config, log *zap.Logger) (*s3.Client, error) {
	o := s3Options(cfg, log)
	awsCfg, err := loadCheckedAWSConfig(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return NewS3ClientFromConfig(awsCfg, o.EndpointURL, cfg.LargePayload.ForcePathStyle), nil
}
