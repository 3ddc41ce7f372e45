package fxpubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// CredentialsError reports AWS credentials that are missing (none of the SDK's sources had any, or
// the named profile does not exist) or rejected by the service. Its message is one line that says
// what to set; Err is the SDK's own error.
type CredentialsError struct {
	Profile  string // the profile asked for (profile_name or AWS_PROFILE), "" for the default chain
	Rejected bool   // the service refused them, rather than none being found
	Err      error
}

// Error says what went wrong, what to set, and the SDK's error.
func (e *CredentialsError) Error() string {
	what := "none found"
	switch {
	case e.Rejected:
		what = "rejected by the service"
	case e.Profile != "":
		what = fmt.Sprintf("none found for profile %q", e.Profile)
	}
	return fmt.Sprintf("aws credentials: %s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), "+
		"or AWS_PROFILE (or profile_name) to a profile in ~/.aws/config, or run with an IAM role (instance profile, ECS task role, "+
		"or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE): %v", what, e.Err)
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// checkCredentials retrieves cfg's credentials once, so that an app with none fails at start-up
// rather than on its first call (the SDK resolves them lazily, and a daemon would retry for ever).
// The retrieved credentials stay in cfg's cache for the clients built from it.
func checkCredentials(ctx context.Context, cfg aws.Config, profile string) error {
	if cfg.Credentials == nil {
		return &CredentialsError{Profile: profile, Err: errors.New("no credential provider")}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return &CredentialsError{Profile: profile, Err: err}
	}
	return nil
}

// missingProfile turns the SDK's error for a profile that does not exist into a [CredentialsError].
func missingProfile(err error, profile string) error {
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		if profile == "" {
			profile = pe.Profile
		}
		return &CredentialsError{Profile: profile, Err: err}
	}
	return err
}

// rejectedCredentialCodes are the error codes with which AWS refuses a request's credentials.
var rejectedCredentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "SignatureDoesNotMatch": true,
	"InvalidSecurity": true, "ExpiredToken": true, "ExpiredTokenException": true,
}

// explainRejected wraps an error whose code says the service refused the credentials in a
// [CredentialsError] that says what to set; other errors are returned as they are.
func explainRejected(err error) error {
	var ce *CredentialsError
	var ae smithy.APIError
	if err == nil || errors.As(err, &ce) || !errors.As(err, &ae) || !rejectedCredentialCodes[ae.ErrorCode()] {
		return err
	}
	return &CredentialsError{Rejected: true, Err: err}
}
