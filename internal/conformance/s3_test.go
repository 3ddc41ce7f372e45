package conformance

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/microcosm-go/pubsub/internal/awstest"
)

// TestS3Conformance holds the in-memory S3 (put, get, head, delete: what large messages use) to
// the behaviour of fauxqs's and moto's S3.
func TestS3Conformance(t *testing.T) {
	for _, tg := range awstest.All(t) {
		t.Run(tg.Name, func(t *testing.T) {
			tg.Require(t)
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			bucket := uniq("s3conf")
			if _, err := tg.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatalf("create bucket: %v", err)
			}
			t.Run("PutGetRoundTrip", func(t *testing.T) {
				for _, size := range []int{0, 1, 300_000, 2 << 20} {
					key := uniq("k")
					data := bytes.Repeat([]byte("a€z"), size/5+1)[:size]
					put, err := tg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(size))})
					if err != nil {
						t.Fatalf("put %d bytes: %v", size, err)
					}
					if aws.ToString(put.ETag) == "" {
						t.Errorf("put %d bytes: no ETag", size)
					}
					got, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
					if err != nil {
						t.Fatalf("get %d bytes: %v", size, err)
					}
					body, err := io.ReadAll(got.Body)
					_ = got.Body.Close()
					if err != nil || !bytes.Equal(body, data) {
						t.Fatalf("get %d bytes: got %d bytes (err %v), want the bytes put", size, len(body), err)
					}
					if aws.ToInt64(got.ContentLength) != int64(size) {
						t.Errorf("get: ContentLength %d, want %d", aws.ToInt64(got.ContentLength), size)
					}
					if aws.ToString(got.ETag) != aws.ToString(put.ETag) {
						t.Errorf("get: ETag %s, put said %s", aws.ToString(got.ETag), aws.ToString(put.ETag))
					}
					head, err := tg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
					if err != nil || aws.ToInt64(head.ContentLength) != int64(size) {
						t.Fatalf("head: %v, ContentLength %d, want %d", err, aws.ToInt64(head.ContentLength), size)
					}
				}
			})
			t.Run("PutReplaces", func(t *testing.T) {
				key := uniq("k")
				for _, v := range []string{"first", "second"} {
					if _, err := tg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(v)}); err != nil {
						t.Fatal(err)
					}
				}
				got, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(got.Body)
				_ = got.Body.Close()
				if string(body) != "second" {
					t.Fatalf("got %q, want the second put", body)
				}
			})
			t.Run("MissingKey", func(t *testing.T) {
				key := uniq("missing")
				_, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				var nsk *s3types.NoSuchKey
				if !errors.As(err, &nsk) {
					t.Errorf("get missing key: %v (%T), want *types.NoSuchKey", err, err)
				}
				_, err = tg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				var nf *s3types.NotFound
				if !errors.As(err, &nf) {
					t.Errorf("head missing key: %v (%T), want *types.NotFound", err, err)
				}
				if _, err := tg.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
					t.Errorf("delete missing key: %v, want success (S3 deletes idempotently)", err)
				}
			})
			t.Run("DeleteRemoves", func(t *testing.T) {
				key := uniq("k")
				if _, err := tg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
					t.Fatal(err)
				}
				if _, err := tg.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
					t.Fatal(err)
				}
				_, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				var nsk *s3types.NoSuchKey
				if !errors.As(err, &nsk) {
					t.Fatalf("get after delete: %v, want *types.NoSuchKey", err)
				}
			})
			t.Run("MissingBucket", func(t *testing.T) {
				missing := uniq("nobucket")
				// The SDK models NoSuchBucket as a type for bucket calls only: object calls get a
				// generic API error with that code.
				_, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(missing), Key: aws.String("k")})
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
					t.Errorf("get from missing bucket: %v, want code NoSuchBucket", err)
				}
				_, err = tg.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(missing), Key: aws.String("k"), Body: strings.NewReader("x")})
				if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
					t.Errorf("put to missing bucket: %v, want code NoSuchBucket", err)
				}
			})
		})
	}
}
