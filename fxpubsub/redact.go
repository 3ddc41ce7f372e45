package fxpubsub

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Redacted replaces secrets removed from error messages and logs (no characters that JSON, XML or
// URLs escape, so it can replace text inside any of them).
const Redacted = "[redacted]"

// maxErrorBody bounds how much of an error response is read to be scrubbed (AWS error bodies are
// a few hundred bytes).
const maxErrorBody = 1 << 20

// RedactSecrets is an SDK API option (aws.Config.APIOptions, sqs.Options.APIOptions,
// sns.Options.APIOptions) that keeps request secrets out of errors: when a call fails with an
// HTTP error, every secret the request carried (the SigV4 signature of its Authorization header
// or X-Amz-Signature query, and the X-Amz-Security-Token session token) is replaced by
// "[redacted]" in the response body before the SDK turns it into an error. So an endpoint or proxy
// that echoes the request in its error message (some do) cannot put credentials in the error, the
// logs that print it, or Sentry. The secret access key itself is never sent, so never echoed.
// [LoadAWSConfig] installs it, so every client built by this library has it.
func RedactSecrets(stack *middleware.Stack) error {
	return stack.Deserialize.Insert(redactErrors{}, "OperationDeserializer", middleware.After)
}

type redactErrors struct{}

func (redactErrors) ID() string { return "pubsub.RedactSecrets" }

func (redactErrors) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp == nil || resp.StatusCode < 300 || resp.Body == nil {
		return out, md, err
	}
	req, _ := in.Request.(*smithyhttp.Request)
	secrets := requestSecrets(req)
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if rerr != nil && len(body) == 0 {
		resp.Body = io.NopCloser(bytes.NewReader(nil))
		return out, md, err
	}
	resp.Body = io.NopCloser(bytes.NewReader([]byte(RedactText(string(body), secrets...))))
	return out, md, err
}

// requestSecrets returns the secrets a signed request carries.
func requestSecrets(req *smithyhttp.Request) []string {
	if req == nil || req.Request == nil {
		return nil
	}
	var out []string
	if m := authSignature.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		out = append(out, m[1])
	}
	if tok := req.Header.Get("X-Amz-Security-Token"); tok != "" {
		out = append(out, tok)
	}
	if req.URL != nil {
		q := req.URL.Query()
		for _, k := range []string{"X-Amz-Signature", "X-Amz-Security-Token"} {
			if v := q.Get(k); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

var (
	authSignature = regexp.MustCompile(`Signature=([0-9a-fA-F]+)`)
	// secretPatterns catch secrets by shape where their values are unknown: SigV4 signatures
	// (64 hex digits after Signature=), session tokens in header or query form, Sentry keys.
	secretPatterns = []*regexp.Regexp{
		regexp.MustCompile(`((?i:x-amz-)?Signature=)[0-9a-fA-F]{16,}`),
		regexp.MustCompile(`((?i:x-amz-security-token)["']?\s*[:=]\s*["']?)[^\s"'&,;<]+`),
		regexp.MustCompile(`((?i:sentry_key|sentry_secret)\s*[:=]\s*)[^\s"'&,;<]+`),
	}
)

// RedactText replaces every occurrence of secrets in s, raw or as JSON (escaped "/") and URL
// query encodings render them, and anything shaped like a SigV4 signature, a session token or a
// Sentry key, by "[redacted]".
func RedactText(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 8 { // too short to be a secret, and replacing it would mangle the text
			continue
		}
		for _, form := range []string{sec, strings.ReplaceAll(sec, "/", `\/`), url.QueryEscape(sec)} {
			s = strings.ReplaceAll(s, form, Redacted)
		}
	}
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, "${1}"+Redacted)
	}
	return s
}
