package awstest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Admin is the part of the S3 API the tests use, with the exact *s3.Client method signatures.
// *s3.Client and the in-memory backend's S3 both satisfy it.
type S3Admin interface {
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, optFns ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

var _ S3Admin = (*s3.Client)(nil)

// NewS3Client returns an S3 client for endpoint with path-style addressing (the emulators serve
// http://host/bucket/key) and checksums only where required. A non-empty motoAccount adds the
// test-only x-moto-account-id header to every request.
func NewS3Client(endpoint, motoAccount string) *s3.Client {
	return s3.NewFromConfig(AWSConfig(endpoint), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		if motoAccount != "" {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", motoAccount))
		}
	})
}

// UploadGone returns nil when the multipart upload id of bucket/key no longer exists (completed or
// aborted, its parts dropped), asking the target as far as it can tell: ListMultipartUploads must
// not list it (where the target lists uploads), and completing it must fail with NoSuchUpload
// (where the target checks that).
func UploadGone(ctx context.Context, tg Target, bucket, key, id string) error {
	if !tg.Caps.S3NoListMultipartUploads {
		out, err := tg.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("list multipart uploads: %w", err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.UploadId) == id {
				return fmt.Errorf("upload %s of %s is still in progress", id, aws.ToString(u.Key))
			}
		}
	}
	if tg.Caps.S3LaxMultipartComplete {
		return nil
	}
	_, err := tg.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String("0")}}}})
	var ae smithy.APIError
	if err == nil {
		return fmt.Errorf("upload %s could still be completed", id)
	}
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchUpload" {
		return fmt.Errorf("complete upload %s: %w, want code NoSuchUpload", id, err)
	}
	return nil
}
