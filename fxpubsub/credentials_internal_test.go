package fxpubsub

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// A fatal error whose code says the service refused the credentials says what to set; other
// errors stay as they are.
func TestExplainRejected(t *testing.T) {
	for code := range rejectedCredentialCodes {
		err := fmt.Errorf("receive: %w", &smithy.GenericAPIError{Code: code, Message: "The security token included in the request is invalid."})
		got := explainRejected(err)
		var ce *CredentialsError
		if !errors.As(got, &ce) || !ce.Rejected || !errors.Is(got, err) {
			t.Fatalf("%s: explainRejected = %#v, want a rejected *CredentialsError wrapping the original", code, got)
		}
		for _, w := range []string{"rejected", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "IAM role", code} {
			if !strings.Contains(got.Error(), w) {
				t.Errorf("%q does not contain %q", got, w)
			}
		}
	}
	other := &smithy.GenericAPIError{Code: "QueueDoesNotExist"}
	if got := explainRejected(other); got != error(other) {
		t.Errorf("explainRejected(%v) = %v, want it unchanged", other, got)
	}
	if explainRejected(nil) != nil {
		t.Error("explainRejected(nil) != nil")
	}
}
