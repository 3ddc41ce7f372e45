package fxpubsub

import (
	"context"
	"fmt"
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
	"github.com/microcosm-go/pubsub/internal/sdkbody"
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
// race that fails applied calls (see [HideBodyWriterTo]).
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
		config.WithAPIOptions([]func(*middleware.Stack) error{HideBodyWriterTo, RedactSecrets}),
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

// HideBodyWriterTo is an SDK API option that works around a race between the SDK and net/http:
// when a response arrives before net/http has finished with the request body, the SDK's closed
// body makes net/http close the connection under the response, and a call the server applied
// fails (a ReceiveMessage's messages then stay invisible until their visibility timeout).
// [LoadAWSConfig] adds it; add it to the APIOptions of SNS, SQS and S3 clients you build
// yourself. The details are in internal/sdkbody.
func HideBodyWriterTo(stack *middleware.Stack) error { return sdkbody.HideWriterTo(stack) }
