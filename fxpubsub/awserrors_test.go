package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

func apiError(code string, fault smithy.ErrorFault) error {
	return fmt.Errorf("operation: %w", &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault})
}

func TestAWSErrorTable(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		err                        error
		fatal, notFound, retryable bool
	}{
		{err: apiError("Throttled", smithy.FaultClient), retryable: true},
		{err: apiError("SlowDown", smithy.FaultClient), retryable: true},
		{err: apiError("InternalError", smithy.FaultServer), retryable: true},
		{err: apiError("InvalidParameterValue", smithy.FaultClient)},
		{err: apiError("AWS.SimpleQueueService.NonExistentQueue", smithy.FaultClient), fatal: true},
		{err: apiError("InvalidClientTokenId", smithy.FaultClient), fatal: true},
		{err: &sqstypes.QueueDoesNotExist{}, fatal: true},
		{err: apiError("NoSuchBucket", smithy.FaultClient), notFound: true},
		{err: &s3types.NoSuchKey{}, notFound: true},
		{err: errors.New("connection reset"), retryable: true},
	}
	for _, c := range cases {
		if got := isFatal(c.err); got != c.fatal {
			t.Errorf("isFatal(%v) = %v", c.err, got)
		}
		if got := isNoSuchKey(c.err); got != c.notFound {
			t.Errorf("isNoSuchKey(%v) = %v", c.err, got)
		}
		if c.fatal || c.notFound {
			continue
		}
		if got := retryableCallError(ctx, c.err); got != c.retryable {
			t.Errorf("retryableCallError(%v) = %v", c.err, got)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if retryableCallError(done, apiError("Throttled", smithy.FaultClient)) {
		t.Error("a call whose context is done is retried")
	}
}

func TestThrottleCodesForTheSDK(t *testing.T) {
	codes := throttleCodes()
	for _, code := range []string{"Throttled", "TooManyRequestsException", "RequestThrottled"} {
		if _, ok := codes[code]; !ok {
			t.Errorf("throttleCodes() lacks %q", code)
		}
	}
	if _, ok := codes["AccessDenied"]; ok {
		t.Error("throttleCodes() holds a fatal code")
	}
}
