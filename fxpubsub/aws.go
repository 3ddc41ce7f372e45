package fxpubsub

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.uber.org/zap"
)

// AWSOptions configure an SDK client built by [NewSNSClient] or [NewSQSClient].
type AWSOptions struct {
	EndpointURL    string        // "" = AWS (or AWS_ENDPOINT_URL)
	Region         string        // "" = the SDK's resolution (AWS_REGION, profile)
	Profile        string        // "" = the default profile
	ConnectTimeout time.Duration // TCP connect bound
	RequestTimeout time.Duration // whole-request bound (0: none; SQS long polls rely on contexts)
	MaxAttempts    int           // SDK attempts per call
	// Logger receives the SDK's own log lines (such as its IMDSv1 fallback warning), named "aws";
	// nil leaves the SDK's default (plain text on stderr).
	Logger *zap.Logger
}

// LoadAWSConfig loads the SDK configuration from the default chain (credentials are never
// configured here) with a buildable HTTP client (so AWS_CA_BUNDLE keeps working), connect and
// request timeouts, and a standard retryer that also retries SNS throttling and never runs out of
// retry tokens under sustained faults (the library's own backoff bounds the rate instead). Its API
// options keep request secrets out of errors ([RedactSecrets]) and work around an SDK/net/http
// race that fails applied calls (see addHideWriterTo).
func LoadAWSConfig(ctx context.Context, o AWSOptions) (aws.Config, error) {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 128
	})
	if o.ConnectTimeout > 0 {
		hc = hc.WithDialerOptions(func(d *net.Dialer) { d.Timeout = o.ConnectTimeout })
	}
	if o.RequestTimeout > 0 {
		hc = hc.WithTimeout(o.RequestTimeout)
	}
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = defaultMaxAttempts
	}
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(hc),
		config.WithAPIOptions([]func(*middleware.Stack) error{addHideWriterTo, RedactSecrets}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.RateLimiter = ratelimit.None
				so.Retryables = append(so.Retryables, retry.RetryableErrorCode{Codes: throttleCodes()})
			})
		}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Logger != nil {
		opts = append(opts, config.WithLogger(newSDKLogger(o.Logger)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", missingProfile(err, o.Profile))
	}
	return cfg, nil
}

// NewSNSClient returns an SNS client for o.
func NewSNSClient(ctx context.Context, o AWSOptions) (*sns.Client, error) {
	cfg, err := LoadAWSConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return snsFromConfig(cfg, o), nil
}

// NewSQSClient returns an SQS client for o.
func NewSQSClient(ctx context.Context, o AWSOptions) (*sqs.Client, error) {
	cfg, err := LoadAWSConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return sqsFromConfig(cfg, o), nil
}

func snsFromConfig(cfg aws.Config, o AWSOptions) *sns.Client {
	return sns.NewFromConfig(cfg, func(so *sns.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
	})
}

func sqsFromConfig(cfg aws.Config, o AWSOptions) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(so *sqs.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
	})
}

// addHideWriterTo adds, at the end of the finalize step (once per attempt, after the retryer has
// rewound the body), a middleware that hides io.WriterTo of the request body.
//
// Why: smithy-go's ClientHandler closes the request body as soon as http.Client.Do returns, that
// is when the response headers arrived, while net/http's writeLoop may still be finishing the
// request: after sending ContentLength bytes it makes one more read of the body (io.Copy to
// io.Discard, to catch an over-long body). For a body that implements io.WriterTo (the SDK's
// in-memory request bodies do), that read is WriteTo, and smithy's closed body answers WriteTo
// with io.EOF as an *error* (only Read may use io.EOF to mean "the end"). net/http then takes the
// request write as failed and closes the connection under the response being read: the attempt
// fails with "StatusCode: 200 … deserialization failed … use of closed network connection"
// although the server applied it. The SDK retries; for a ReceiveMessage, the messages of the lost
// response stay invisible until their visibility timeout (seen as 30 s stalls against fauxqs,
// which answers in about a millisecond). With WriterTo hidden, the extra read is a Read, which
// returns io.EOF, the end of the body, and nothing fails.
func addHideWriterTo(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("fxpubsubHideBodyWriterTo",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if s, ok := req.GetStream().(io.ReadSeeker); ok {
					if _, wt := s.(io.WriterTo); wt {
						if r, err := req.SetStream(readSeekerOnly{s}); err == nil {
							in.Request = r
						}
					}
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// readSeekerOnly exposes Read and Seek only (no WriteTo).
type readSeekerOnly struct{ io.ReadSeeker }
