package pubsubmem

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // S3's ETag of a single-part object is its MD5
	"encoding/hex"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 is a minimal in-memory S3 (buckets; put, get, head and delete of whole objects; multipart
// uploads, see s3multipart.go), enough for large messages stored in the extended clients' format.
// Its methods have the signatures of *s3.Client; errors are the SDK's typed errors (*s3types.NoSuchKey,
// *s3types.NotFound; a missing bucket is code NoSuchBucket) inside a *smithy.OperationError, as
// from AWS.
type S3 struct {
	b       *Backend
	mu      sync.RWMutex
	buckets map[string]map[string]*object
	uploads map[string]*multipartUpload // by upload id
}

type object struct {
	data     []byte
	etag     string
	modified time.Time
}

// S3 returns the backend's S3 client.
func (b *Backend) S3() *S3 {
	b.s3Once.Do(func() {
		b.s3 = &S3{b: b, buckets: map[string]map[string]*object{}, uploads: map[string]*multipartUpload{}}
	})
	return b.s3
}

func s3Err(op string, err error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err}
}

// noSuchBucket is what the SDK returns for a missing bucket on object calls: a generic API error
// with code NoSuchBucket (it models *s3types.NoSuchBucket for bucket calls only).
func noSuchBucket() error {
	return &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Fault: smithy.FaultClient}
}

// bucket returns the named bucket's objects (the caller holds s.mu).
func (s *S3) bucket(ctx context.Context, name *string) (map[string]*object, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	if aws.ToString(name) == "" {
		return nil, apiErr("InvalidBucketName", "The specified bucket is not valid.")
	}
	bk, ok := s.buckets[*name]
	if !ok {
		return nil, noSuchBucket()
	}
	return bk, nil
}

// CreateBucket creates a bucket; creating one that exists succeeds (as in us-east-1).
func (s *S3) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, s3Err("CreateBucket", err)
	}
	name := aws.ToString(in.Bucket)
	if len(name) < 3 || len(name) > 63 {
		return nil, s3Err("CreateBucket", apiErr("InvalidBucketName", "The specified bucket is not valid."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; !ok {
		s.buckets[name] = map[string]*object{}
	}
	return &s3.CreateBucketOutput{Location: aws.String("/" + name)}, nil
}

// PutObject stores the whole body under the key, replacing any object there.
func (s *S3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if aws.ToString(in.Key) == "" {
		return nil, s3Err("PutObject", apiErr("InvalidArgument", "Key must not be empty"))
	}
	data, etag, err := readBody(in.Body, in.ContentLength)
	if err != nil {
		return nil, s3Err("PutObject", err)
	}
	o := &object{data: data, etag: etag, modified: s.b.clock().UTC().Truncate(time.Second)}
	s.mu.Lock()
	defer s.mu.Unlock()
	bk, err := s.bucket(ctx, in.Bucket)
	if err != nil {
		return nil, s3Err("PutObject", err)
	}
	bk[*in.Key] = o
	return &s3.PutObjectOutput{ETag: aws.String(o.etag)}, nil
}

// readBody reads a request body of length bytes (nil: any) and returns it with its ETag (its
// quoted MD5, as S3 gives a single-part object or a part).
func readBody(body io.Reader, length *int64) (data []byte, etag string, err error) {
	if body != nil {
		buf := bytes.NewBuffer(make([]byte, 0, max(aws.ToInt64(length), 0)+bytes.MinRead))
		if _, err := buf.ReadFrom(body); err != nil {
			return nil, "", err
		}
		data = buf.Bytes()
	}
	if length != nil && *length != int64(len(data)) {
		return nil, "", apiErr("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	sum := md5.Sum(data) //nolint:gosec // ETag
	return data, `"` + hex.EncodeToString(sum[:]) + `"`, nil
}

// lookup finds an object; a missing key is notFound().
func (s *S3) lookup(ctx context.Context, op string, bucket, key *string, notFound func() error) (*object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	bk, err := s.bucket(ctx, bucket)
	if err != nil {
		return nil, s3Err(op, err)
	}
	o, ok := bk[aws.ToString(key)]
	if !ok {
		return nil, s3Err(op, notFound())
	}
	return o, nil
}

// GetObject returns the whole object (ranges are not supported).
func (s *S3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	o, err := s.lookup(ctx, "GetObject", in.Bucket, in.Key, func() error {
		return &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	})
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{
		Body: io.NopCloser(bytes.NewReader(o.data)), ContentLength: aws.Int64(int64(len(o.data))),
		ETag: aws.String(o.etag), LastModified: aws.Time(o.modified),
	}, nil
}

// HeadObject returns the object's size and ETag; a missing key is *s3types.NotFound (a HEAD
// response has no error body).
func (s *S3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	o, err := s.lookup(ctx, "HeadObject", in.Bucket, in.Key, func() error {
		return &s3types.NotFound{Message: aws.String("Not Found")}
	})
	if err != nil {
		return nil, err
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(o.data))), ETag: aws.String(o.etag), LastModified: aws.Time(o.modified)}, nil
}

// DeleteObject removes the object; deleting a missing key succeeds, as in S3.
func (s *S3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bk, err := s.bucket(ctx, in.Bucket)
	if err != nil {
		return nil, s3Err("DeleteObject", err)
	}
	delete(bk, aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

// ObjectCount returns how many objects the bucket holds (-1: no such bucket), for tests.
func (s *S3) ObjectCount(bucket string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	bk, ok := s.buckets[bucket]
	if !ok {
		return -1
	}
	return len(bk)
}
