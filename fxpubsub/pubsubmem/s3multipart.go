package pubsubmem

import (
	"cmp"
	"context"
	"crypto/md5" //nolint:gosec // S3's multipart ETag is built from the parts' MD5s
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Multipart uploads, as S3 checks them: part numbers 1 to 10,000; on completion the parts listed
// in ascending order, each uploaded with the ETag given (quoted or not), every part but the last
// at least 5 MiB. The object's ETag is the MD5 of the parts' MD5s, then "-" and the part count.

const (
	minPartSize = 5 << 20
	maxPartNum  = 10_000
)

type multipartUpload struct {
	bucket, key string
	initiated   time.Time
	parts       map[int32]*object
}

// noSuchUpload is the error for an unknown (or completed, or aborted) upload id: the SDK models
// it as *s3types.NoSuchUpload for AbortMultipartUpload and ListParts only, a generic API error
// with that code elsewhere.
func noSuchUpload(typed bool) error {
	const msg = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
	if typed {
		return &s3types.NoSuchUpload{Message: aws.String(msg)}
	}
	return apiErr("NoSuchUpload", msg)
}

// CreateMultipartUpload starts an upload to an existing bucket.
func (s *S3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	const op = "CreateMultipartUpload"
	if aws.ToString(in.Key) == "" {
		return nil, s3Err(op, apiErr("InvalidArgument", "Key must not be empty"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.bucket(ctx, in.Bucket); err != nil {
		return nil, s3Err(op, err)
	}
	id := s.b.ids.newUUID()
	s.uploads[id] = &multipartUpload{bucket: *in.Bucket, key: *in.Key, initiated: s.b.clock().UTC().Truncate(time.Second), parts: map[int32]*object{}}
	return &s3.CreateMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, UploadId: aws.String(id)}, nil
}

// upload returns the upload id names for bucket and key (the caller holds s.mu).
func (s *S3) upload(ctx context.Context, id, bucket, key *string, typed bool) (*multipartUpload, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	u, ok := s.uploads[aws.ToString(id)]
	if !ok || u.bucket != aws.ToString(bucket) || u.key != aws.ToString(key) {
		return nil, noSuchUpload(typed)
	}
	return u, nil
}

// UploadPart stores one part, replacing an earlier upload of the same part number.
func (s *S3) UploadPart(ctx context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	const op = "UploadPart"
	num := aws.ToInt32(in.PartNumber)
	if num < 1 || num > maxPartNum {
		return nil, s3Err(op, apiErr("InvalidArgument", "Part number must be an integer between 1 and %d, inclusive", maxPartNum))
	}
	data, etag, err := readBody(in.Body, in.ContentLength)
	if err != nil {
		return nil, s3Err(op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.upload(ctx, in.UploadId, in.Bucket, in.Key, false)
	if err != nil {
		return nil, s3Err(op, err)
	}
	u.parts[num] = &object{data: data, etag: etag, modified: s.b.clock().UTC().Truncate(time.Second)}
	return &s3.UploadPartOutput{ETag: aws.String(etag)}, nil
}

// CompleteMultipartUpload joins the listed parts into the object, replacing any object there.
func (s *S3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	const op = "CompleteMultipartUpload"
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.upload(ctx, in.UploadId, in.Bucket, in.Key, false)
	if err != nil {
		return nil, s3Err(op, err)
	}
	bk, err := s.bucket(ctx, in.Bucket)
	if err != nil {
		return nil, s3Err(op, err)
	}
	var listed []s3types.CompletedPart
	if in.MultipartUpload != nil {
		listed = in.MultipartUpload.Parts
	}
	if len(listed) == 0 {
		return nil, s3Err(op, apiErr("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"))
	}
	parts := make([]*object, len(listed))
	size := 0
	for i, l := range listed {
		num := aws.ToInt32(l.PartNumber)
		if i > 0 && num <= aws.ToInt32(listed[i-1].PartNumber) {
			return nil, s3Err(op, apiErr("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."))
		}
		p, ok := u.parts[num]
		if !ok || strings.Trim(aws.ToString(l.ETag), `"`) != strings.Trim(p.etag, `"`) {
			return nil, s3Err(op, apiErr("InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."))
		}
		if i < len(listed)-1 && len(p.data) < minPartSize {
			return nil, s3Err(op, apiErr("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"))
		}
		parts[i] = p
		size += len(p.data)
	}
	data := make([]byte, 0, size)
	sums := make([]byte, 0, md5.Size*len(parts))
	for _, p := range parts {
		data = append(data, p.data...)
		sum, _ := hex.DecodeString(strings.Trim(p.etag, `"`)) // we wrote it
		sums = append(sums, sum...)
	}
	sum := md5.Sum(sums) //nolint:gosec // ETag
	o := &object{data: data, etag: `"` + hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(len(parts)) + `"`, modified: s.b.clock().UTC().Truncate(time.Second)}
	bk[u.key] = o
	delete(s.uploads, aws.ToString(in.UploadId))
	return &s3.CompleteMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, ETag: aws.String(o.etag), Location: aws.String("/" + u.bucket + "/" + u.key)}, nil
}

// AbortMultipartUpload drops the upload and its parts.
func (s *S3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.upload(ctx, in.UploadId, in.Bucket, in.Key, true); err != nil {
		return nil, s3Err("AbortMultipartUpload", err)
	}
	delete(s.uploads, aws.ToString(in.UploadId))
	return &s3.AbortMultipartUploadOutput{}, nil
}

// ListMultipartUploads lists the bucket's uploads in progress by key (key, upload id and start;
// no paging).
func (s *S3) ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, _ ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, err := s.bucket(ctx, in.Bucket); err != nil {
		return nil, s3Err("ListMultipartUploads", err)
	}
	out := &s3.ListMultipartUploadsOutput{Bucket: in.Bucket}
	for id, u := range s.uploads {
		if u.bucket == *in.Bucket {
			out.Uploads = append(out.Uploads, s3types.MultipartUpload{Key: aws.String(u.key), UploadId: aws.String(id), Initiated: aws.Time(u.initiated)})
		}
	}
	slices.SortFunc(out.Uploads, func(a, b s3types.MultipartUpload) int {
		return cmp.Or(strings.Compare(*a.Key, *b.Key), strings.Compare(*a.UploadId, *b.UploadId))
	})
	return out, nil
}
