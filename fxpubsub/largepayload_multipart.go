package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Uploads: a body up to PartSize is one PutObject; a larger one is an S3 multipart upload whose
// parts are views of the caller's body (no copies), a few in flight at once. A failed multipart
// upload is aborted, so no parts are left behind.

const (
	// DefaultPartSize is the default [PayloadStoreOptions.PartSize] (8 MiB): a body over it is
	// uploaded in parts of this size.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest part (5 MiB; the last part may be smaller).
	MinPartSize = 5 << 20
	// MaxPartSize is S3's largest part (5 GiB).
	MaxPartSize = 5 << 30
	// DefaultUploadConcurrency is the default [PayloadStoreOptions.UploadConcurrency]: parts of one
	// upload in flight at once.
	DefaultUploadConcurrency = 4
	// maxParts is S3's limit on the parts of one upload.
	maxParts = 10_000
	// abortTimeout bounds aborting a failed multipart upload, which runs even when the caller's
	// context is done (else its parts would stay, billed, until a lifecycle rule removes them).
	abortTimeout = 30 * time.Second
)

// payloadBody is what an upload reads: *strings.Reader and *bytes.Reader. Parts are sections of
// it, so a multipart upload copies nothing.
type payloadBody interface {
	io.ReadSeeker
	io.ReaderAt
}

// upload stores size bytes of body under a new key: one PutObject up to PartSize, a multipart
// upload above it. Errors are *PayloadError with Op [PayloadUpload].
func (s *PayloadStore) upload(ctx context.Context, body payloadBody, size int64) (PayloadPointer, error) {
	p := PayloadPointer{Bucket: s.opts.Bucket, Key: s.opts.KeyPrefix + s.opts.NewKey()}
	if size > s.opts.PartSize {
		return p, s.uploadParts(ctx, p, body, size)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), Body: body, ContentLength: aws.Int64(size)})
	if err != nil {
		return p, &PayloadError{Op: PayloadUpload, Pointer: p, Err: fmt.Errorf("put object: %w", err)}
	}
	return p, nil
}

// uploadParts stores body as a multipart upload, aborting it on any failure.
func (s *PayloadStore) uploadParts(ctx context.Context, p PayloadPointer, body payloadBody, size int64) error {
	partSize := max(s.opts.PartSize, (size+maxParts-1)/maxParts)
	n := int((size + partSize - 1) / partSize)
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		return &PayloadError{Op: PayloadUpload, Pointer: p, Err: fmt.Errorf("create multipart upload: %w", err)}
	}
	id := created.UploadId
	err = s.sendParts(ctx, p, id, body, size, partSize, n)
	if err == nil {
		return nil
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), UploadId: id}); aerr != nil {
		err = errors.Join(err, fmt.Errorf("abort multipart upload %s (its parts stay until the bucket's lifecycle rule removes them): %w", aws.ToString(id), aerr))
	}
	return &PayloadError{Op: PayloadUpload, Pointer: p, Err: err}
}

// sendParts uploads the n parts of body (UploadConcurrency at once) and completes the upload.
func (s *PayloadStore) sendParts(ctx context.Context, p PayloadPointer, id *string, body payloadBody, size, partSize int64, n int) error {
	parts := make([]s3types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.UploadConcurrency)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		off := int64(i) * partSize
		num := aws.Int32(int32(i + 1)) //nolint:gosec // at most maxParts
		g.Go(func() error {
			n := min(partSize, size-off)
			out, err := s.client.UploadPart(gctx, &s3.UploadPartInput{
				Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), UploadId: id, PartNumber: num,
				Body: io.NewSectionReader(body, off, n), ContentLength: aws.Int64(n),
			})
			if err != nil {
				return fmt.Errorf("upload part %d: %w", *num, err)
			}
			// The ETag goes back without its quotes: Go's XML encoder writes a quote as &#34;,
			// which fauxqs does not unescape; S3 and moto accept either form.
			parts[i] = s3types.CompletedPart{ETag: aws.String(strings.Trim(aws.ToString(out.ETag), `"`)), PartNumber: num}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("upload parts: %w", err)
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), UploadId: id,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}
