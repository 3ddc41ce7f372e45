package conformance

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // S3's multipart ETag
	"encoding/hex"
	"errors"
	"fmt"
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

// TestS3MultipartConformance holds the in-memory S3's multipart uploads (what large payloads over
// the part size use) to fauxqs's and moto's.
func TestS3MultipartConformance(t *testing.T) {
	const part = 5 << 20 // S3's smallest part but the last
	for _, tg := range awstest.All(t) {
		t.Run(tg.Name, func(t *testing.T) {
			tg.Require(t)
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			bucket := uniq("s3mp")
			if _, err := tg.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatalf("create bucket: %v", err)
			}
			start := func(t *testing.T, key string) *string {
				t.Helper()
				out, err := tg.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil || aws.ToString(out.UploadId) == "" {
					t.Fatalf("create multipart upload: %v", err)
				}
				return out.UploadId
			}
			send := func(t *testing.T, key string, id *string, num int32, data []byte) s3types.CompletedPart {
				t.Helper()
				out, err := tg.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(num),
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
				if err != nil {
					t.Fatalf("upload part %d: %v", num, err)
				}
				sum := md5.Sum(data) //nolint:gosec // ETag
				if want := `"` + hex.EncodeToString(sum[:]) + `"`; aws.ToString(out.ETag) != want {
					t.Errorf("part %d: ETag %s, want its quoted MD5 %s", num, aws.ToString(out.ETag), want)
				}
				// Unquoted: fauxqs does not unescape the &#34; Go's XML encoder writes for a quote.
				return s3types.CompletedPart{PartNumber: aws.Int32(num), ETag: aws.String(strings.Trim(aws.ToString(out.ETag), `"`))}
			}
			complete := func(key string, id *string, parts ...s3types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
				return tg.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
					MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
			}
			inProgress := func(t *testing.T, key string) int {
				t.Helper()
				if tg.Caps.S3NoListMultipartUploads {
					return -1
				}
				out, err := tg.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
				if err != nil {
					t.Fatalf("list multipart uploads: %v", err)
				}
				n := 0
				for _, u := range out.Uploads {
					if aws.ToString(u.Key) == key {
						n++
					}
				}
				return n
			}
			code := func(err error) string {
				var ae smithy.APIError
				if errors.As(err, &ae) {
					return ae.ErrorCode()
				}
				return fmt.Sprintf("no API error (%v)", err)
			}

			t.Run("RoundTrip", func(t *testing.T) {
				key := uniq("k")
				id := start(t, key)
				if n := inProgress(t, key); n != 1 && n != -1 {
					t.Errorf("%d uploads in progress after create, want 1", n)
				}
				data := bytes.Repeat([]byte("a€z"), (2*part+100)/5+1)[:2*part+100]
				p3 := send(t, key, id, 3, data[2*part:]) // parts may arrive in any order
				p1 := send(t, key, id, 1, data[:part])
				p2 := send(t, key, id, 2, data[part:2*part])
				out, err := complete(key, id, p1, p2, p3)
				if err != nil {
					t.Fatalf("complete: %v", err)
				}
				var sums []byte
				for _, p := range []s3types.CompletedPart{p1, p2, p3} {
					b, _ := hex.DecodeString(aws.ToString(p.ETag))
					sums = append(sums, b...)
				}
				sum := md5.Sum(sums) //nolint:gosec // ETag
				if want := `"` + hex.EncodeToString(sum[:]) + `-3"`; aws.ToString(out.ETag) != want {
					t.Errorf("complete: ETag %s, want %s (MD5 of the parts' MD5s, -3)", aws.ToString(out.ETag), want)
				}
				got, err := tg.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(got.Body)
				_ = got.Body.Close()
				if err != nil || !bytes.Equal(body, data) {
					t.Fatalf("get: %d bytes (err %v), want the %d bytes uploaded", len(body), err, len(data))
				}
				if aws.ToString(got.ETag) != aws.ToString(out.ETag) {
					t.Errorf("get: ETag %s, complete said %s", aws.ToString(got.ETag), aws.ToString(out.ETag))
				}
				if err := awstest.UploadGone(ctx, tg, bucket, key, *id); err != nil {
					t.Errorf("after complete: %v", err)
				}
			})
			t.Run("AbortLeavesNothing", func(t *testing.T) {
				key := uniq("k")
				id := start(t, key)
				send(t, key, id, 1, bytes.Repeat([]byte("b"), part))
				if _, err := tg.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id}); err != nil {
					t.Fatalf("abort: %v", err)
				}
				if err := awstest.UploadGone(ctx, tg, bucket, key, *id); err != nil {
					t.Errorf("after abort: %v", err)
				}
				_, err := tg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				var nf *s3types.NotFound
				if !errors.As(err, &nf) {
					t.Errorf("head after abort: %v, want *types.NotFound", err)
				}
			})
			t.Run("Refusals", func(t *testing.T) {
				key := uniq("k")
				id := start(t, key)
				big := bytes.Repeat([]byte("c"), part)
				p1 := send(t, key, id, 1, big)
				p2 := send(t, key, id, 2, big)
				p3 := send(t, key, id, 3, []byte("small"))
				p4 := send(t, key, id, 4, []byte("tail"))
				if _, err := complete(key, id, p1, p3, p4); code(err) != "EntityTooSmall" {
					t.Errorf("complete with a part under 5 MiB before the last: %v, want code EntityTooSmall", err)
				}
				if tg.Caps.S3LaxMultipartComplete {
					t.Logf("%s completes uploads without checking part order or ETags: those refusals are checked on the other targets only", tg.Name)
				} else {
					if _, err := complete(key, id, p2, p1, p4); code(err) != "InvalidPartOrder" {
						t.Errorf("complete with parts out of order: %v, want code InvalidPartOrder", err)
					}
					bad := p4
					bad.ETag = aws.String(strings.Repeat("0", 32))
					if _, err := complete(key, id, p1, bad); code(err) != "InvalidPart" {
						t.Errorf("complete with a wrong ETag: %v, want code InvalidPart", err)
					}
					if _, err := complete(key, id, p1, s3types.CompletedPart{PartNumber: aws.Int32(7), ETag: p4.ETag}); code(err) != "InvalidPart" {
						t.Errorf("complete with a part never uploaded: %v, want code InvalidPart", err)
					}
				}
				// A refused completion leaves the upload open; a subset of its parts completes it.
				out, err := complete(key, id, p1, p4)
				if err != nil {
					t.Fatalf("complete after refusals: %v", err)
				}
				if !strings.HasSuffix(aws.ToString(out.ETag), `-2"`) {
					t.Errorf("ETag %s, want two parts", aws.ToString(out.ETag))
				}
				head, err := tg.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil || aws.ToInt64(head.ContentLength) != part+4 {
					t.Errorf("head: %v, ContentLength %d, want %d (parts 1 and 4)", err, aws.ToInt64(head.ContentLength), part+4)
				}
			})
			t.Run("MissingBucket", func(t *testing.T) {
				_, err := tg.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(uniq("nobucket")), Key: aws.String("k")})
				if code(err) != "NoSuchBucket" {
					t.Errorf("create multipart upload in a missing bucket: %v, want code NoSuchBucket", err)
				}
			})
		})
	}
}
