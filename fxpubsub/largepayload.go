package fxpubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Large messages travel through S3 in the format of AWS's extended client libraries (Java
// amazon-sqs-java-extended-client-lib and amazon-sns-java-extended-client-lib, Python
// amazon-sqs-extended-client, Powertools for Lambda): the payload is an S3 object, the message body
// is a pointer to it, and the attribute ExtendedPayloadSize (Number) holds the payload's size.

// Pointer class names: the first element of a pointer body.
const (
	// PayloadPointerClass is what current extended clients write.
	PayloadPointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"
	// LegacyPayloadPointerClass is what older Java SQS extended clients wrote.
	LegacyPayloadPointerClass = "com.amazon.sqs.javamessaging.MessageS3Pointer"
)

// Size attributes of an offloaded message.
const (
	// ExtendedPayloadSizeAttribute carries the payload's size in bytes (DataType Number).
	ExtendedPayloadSizeAttribute = "ExtendedPayloadSize"
	// LegacyPayloadSizeAttribute is the name older extended clients used.
	LegacyPayloadSizeAttribute = "SQSLargePayloadSize"
)

const (
	// DefaultPayloadThreshold is the default large_payload.threshold: a message (body and
	// attributes, counted as SNS counts them) over it is offloaded, so exactly 262,144 bytes stays
	// inline, as with the extended clients.
	DefaultPayloadThreshold = MaxMessageSize
	// DefaultMaxFetchSize is the default large_payload.max_fetch_size (64 MiB).
	DefaultMaxFetchSize = 64 << 20
	// DefaultFetchTimeout is the default large_payload.fetch_timeout.
	DefaultFetchTimeout = 30 * time.Second
	// maxAttributes is the SNS/SQS limit on message attributes; an offloaded message keeps one slot
	// for the size attribute, leaving 9 to the caller.
	maxAttributes = 10
)

// PayloadPointer names the S3 object holding an offloaded payload.
type PayloadPointer struct {
	Bucket string
	Key    string
}

// String returns s3://bucket/key.
func (p PayloadPointer) String() string { return "s3://" + p.Bucket + "/" + p.Key }

// Body returns the message body the extended clients write for p:
// ["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}].
func (p PayloadPointer) Body() string {
	b := make([]byte, 0, len(PayloadPointerClass)+len(p.Bucket)+len(p.Key)+40)
	b = append(b, `["`+PayloadPointerClass+`",{"s3BucketName":`...)
	b = appendJSONString(b, p.Bucket)
	b = append(b, `,"s3Key":`...)
	b = appendJSONString(b, p.Key)
	b = append(b, "}]"...)
	return string(b)
}

// PayloadError reports a large-message pointer or payload that cannot be used. Op says what
// failed (see the Payload* constants); Pointer is the pointer when it was read; Err is the cause.
// Consumers see it (inside a *DecodeError) as a FAILED message, retried with backoff; producers
// get it from Produce when the upload fails, and then nothing was published.
type PayloadError struct {
	Op      PayloadOp
	Pointer PayloadPointer
	Err     error
}

// PayloadOp names what went wrong with a large message.
type PayloadOp string

// What a [PayloadError] reports.
const (
	PayloadMalformed       PayloadOp = "malformed pointer"
	PayloadUntrustedBucket PayloadOp = "untrusted bucket"
	PayloadMissing         PayloadOp = "missing object"
	PayloadTooLarge        PayloadOp = "object over max_fetch_size"
	PayloadSizeMismatch    PayloadOp = "size attribute disagrees with the object"
	PayloadFetch           PayloadOp = "fetch"
	PayloadUpload          PayloadOp = "upload"
	PayloadAttributes      PayloadOp = "too many attributes"
	PayloadNotConfigured   PayloadOp = "large_payload not configured"
)

func (e *PayloadError) Error() string {
	var b bytes.Buffer
	b.WriteString("large payload: ")
	b.WriteString(string(e.Op))
	if e.Pointer.Bucket != "" || e.Pointer.Key != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Pointer.String()))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *PayloadError) Unwrap() error { return e.Err }

// ParsePayloadPointer reads a pointer body: a JSON array of a pointer class name (either class)
// and an object with non-empty strings s3BucketName and s3Key, in any JSON spacing and key order
// (Python's client writes json.dumps with spaces, Java's writes compact JSON). Errors are
// *PayloadError with Op [PayloadMalformed].
func ParsePayloadPointer(body []byte) (PayloadPointer, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(body, &parts); err != nil {
		return PayloadPointer{}, malformed("not a JSON array: %v", err)
	}
	if len(parts) != 2 {
		return PayloadPointer{}, malformed("want [class, {s3BucketName, s3Key}], got %d elements", len(parts))
	}
	var class string
	if err := json.Unmarshal(parts[0], &class); err != nil {
		return PayloadPointer{}, malformed("class name is not a string")
	}
	if class != PayloadPointerClass && class != LegacyPayloadPointerClass {
		return PayloadPointer{}, malformed("unknown class %q", clip(class))
	}
	var loc struct {
		Bucket *string `json:"s3BucketName"`
		Key    *string `json:"s3Key"`
	}
	if err := json.Unmarshal(parts[1], &loc); err != nil {
		return PayloadPointer{}, malformed("location is not an object of strings: %v", err)
	}
	if loc.Bucket == nil || *loc.Bucket == "" {
		return PayloadPointer{}, malformed("s3BucketName missing or empty")
	}
	if loc.Key == nil || *loc.Key == "" {
		return PayloadPointer{}, malformed("s3Key missing or empty")
	}
	return PayloadPointer{Bucket: *loc.Bucket, Key: *loc.Key}, nil
}

func malformed(format string, args ...any) *PayloadError {
	return &PayloadError{Op: PayloadMalformed, Err: fmt.Errorf(format, args...)}
}

// pointerClassMarker is in every pointer body (both class names end in S3Pointer).
var pointerClassMarker = []byte(`S3Pointer"`)

// looksLikePointer is the cheap test for a pointer body: a JSON array naming a pointer class
// (or with \u escapes, which could spell one). A microcosm message is a JSON object, so no message
// is mistaken for one.
func looksLikePointer(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) > 0 && t[0] == '[' && (bytes.Contains(t, pointerClassMarker) || bytes.Contains(t, []byte(`\u`)))
}

// attributesSize counts attributes as SNS and SQS do: name, DataType and value of each.
func attributesSize(attrs map[string]snstypes.MessageAttributeValue) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// pointerAttributes returns attrs plus ExtendedPayloadSize = size (Number), as the extended clients
// send them; more than 9 caller attributes is a *PayloadError (one slot is the size's).
func pointerAttributes(attrs map[string]snstypes.MessageAttributeValue, size int) (map[string]snstypes.MessageAttributeValue, error) {
	if len(attrs) > maxAttributes-1 {
		return nil, &PayloadError{Op: PayloadAttributes, Err: fmt.Errorf("an offloaded message carries at most %d attributes besides %s, got %d", maxAttributes-1, ExtendedPayloadSizeAttribute, len(attrs))}
	}
	if _, ok := attrs[ExtendedPayloadSizeAttribute]; ok {
		return nil, &PayloadError{Op: PayloadAttributes, Err: fmt.Errorf("attribute %s is reserved", ExtendedPayloadSizeAttribute)}
	}
	out := make(map[string]snstypes.MessageAttributeValue, len(attrs)+1)
	for k, v := range attrs {
		out[k] = v
	}
	out[ExtendedPayloadSizeAttribute] = snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(size))}
	return out, nil
}

// parsePayloadSize reads a size attribute's value: a non-negative integer.
func parsePayloadSize(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, malformed("attribute %s = %q is not a byte count", name, clip(v))
	}
	return n, nil
}

var errNoStore = errors.New("the consumer has no large_payload section (bucket or trusted_buckets)")
