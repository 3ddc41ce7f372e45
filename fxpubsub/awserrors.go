package fxpubsub

import (
	"context"
	"errors"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// awsErrorClass is what an AWS error code means to this library.
type awsErrorClass int

const (
	awsOther     awsErrorClass = iota // not in the table: the error's fault decides
	awsThrottled                      // slow down and retry
	awsFatal                          // no retry can fix it: a missing queue, rejected credentials
	awsNotFound                       // the S3 object or bucket is gone
)

// awsErrorCodes is the one table of the AWS error codes the library branches on: the SDK's
// retryer, the producer's batch retries, the daemon's settle retries, its fatal receive errors
// and large-payload fetches all read it.
func awsErrorCodes() map[string]awsErrorClass {
	return map[string]awsErrorClass{
		// Throttling: SNS says "Throttled" (HTTP 429), which the SDK's default retryer does not retry.
		"Throttled": awsThrottled, "Throttling": awsThrottled, "ThrottlingException": awsThrottled,
		"ThrottledException": awsThrottled, "RequestThrottled": awsThrottled, "RequestThrottledException": awsThrottled,
		"TooManyRequestsException": awsThrottled, "RequestLimitExceeded": awsThrottled, "SlowDown": awsThrottled,
		// Fatal to a consumer: the queue is missing, or the credentials are rejected.
		"AWS.SimpleQueueService.NonExistentQueue": awsFatal, "QueueDoesNotExist": awsFatal,
		"InvalidClientTokenId": awsFatal, "UnrecognizedClientException": awsFatal, "SignatureDoesNotMatch": awsFatal,
		"AccessDenied": awsFatal, "AccessDeniedException": awsFatal, "InvalidAddress": awsFatal,
		"InvalidSecurity": awsFatal, "KMS.AccessDeniedException": awsFatal,
		// S3: the large payload is gone.
		"NoSuchKey": awsNotFound, "NotFound": awsNotFound, "NoSuchBucket": awsNotFound,
	}
}

// awsErrorClassOf classifies err by its AWS error code (awsOther when it has none in the table).
func awsErrorClassOf(err error) awsErrorClass {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return awsOther
	}
	return awsErrorCodes()[ae.ErrorCode()]
}

// throttleCodes are the table's throttling codes, for the SDK's retryer.
func throttleCodes() map[string]struct{} {
	codes := map[string]struct{}{}
	for code, class := range awsErrorCodes() {
		if class == awsThrottled {
			codes[code] = struct{}{}
		}
	}
	return codes
}

// isFatal reports errors no retry can fix: a missing queue, rejected credentials.
func isFatal(err error) bool {
	var qne *sqstypes.QueueDoesNotExist
	return errors.As(err, &qne) || awsErrorClassOf(err) == awsFatal
}

// isNoSuchKey reports that an S3 object (or its bucket) does not exist.
func isNoSuchKey(err error) bool {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || awsErrorClassOf(err) == awsNotFound
}

// retryableCallError reports whether a whole-call failure is worth retrying: not when the context
// is done, nor for client faults other than throttling.
func retryableCallError(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if awsErrorClassOf(err) == awsThrottled {
			return true
		}
		return ae.ErrorFault() != smithy.FaultClient
	}
	return true
}
