package pubsubmem

import (
	"fmt"

	"github.com/aws/smithy-go"
)

// Errors are returned as the real SDK returns them: a *smithy.OperationError naming the service and
// operation, wrapping the service's typed error (e.g. *sqstypes.QueueDoesNotExist) or, where the SDK
// has no type for the code, a *smithy.GenericAPIError. errors.As works as against AWS.

func sqsErr(op string, err error) error {
	return &smithy.OperationError{ServiceID: "SQS", OperationName: op, Err: err}
}

func snsErr(op string, err error) error {
	return &smithy.OperationError{ServiceID: "SNS", OperationName: op, Err: err}
}

func apiErr(code, format string, args ...any) *smithy.GenericAPIError {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// SQS codes without an SDK type.
func missingParam(name string) error {
	return apiErr("MissingParameter", "The request must contain the parameter %s.", name)
}

func invalidValue(format string, args ...any) error {
	return apiErr("InvalidParameterValue", format, args...)
}

// codeOf extracts an error code and message for a batch result entry.
func codeOf(err error) (code, msg string) {
	if ae, ok := err.(smithy.APIError); ok {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "InternalError", err.Error()
}
