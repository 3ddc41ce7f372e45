package fxpubsub

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewS3Client returns an S3 client for o, built like [NewSNSClient] (the SDK's buildable HTTP
// client, so AWS_CA_BUNDLE keeps working; the same retryer and timeouts). With an endpoint URL
// (an emulator, LocalStack, MinIO) it uses path-style addressing (http://host/bucket/key), which
// such servers need; against AWS it uses virtual-hosted addressing unless pathStyle is set.
// Checksums are computed and validated only where S3 requires them, so S3-compatible servers that
// do not support the SDK's default trailing checksums work.
func NewS3Client(ctx context.Context, o AWSOptions, pathStyle bool) (*s3.Client, error) {
	cfg, err := LoadAWSConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
			pathStyle = true
		}
		so.UsePathStyle = pathStyle
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}
