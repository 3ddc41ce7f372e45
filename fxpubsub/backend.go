package fxpubsub

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
	"go.uber.org/zap"
)

// sqsRequestMargin is how long an SQS attempt may take beyond its long-poll wait before it is
// abandoned and retried (a response that never comes would otherwise block a receiver or a
// settle call until TCP gives up).
const sqsRequestMargin = 30 * time.Second

// MemoryTopicName and MemoryQueueName name what testing mode creates when the configuration names
// no topic or queue.
const (
	MemoryTopicName = "pubsub-testing"
	MemoryQueueName = "pubsub-testing"
)

// Backend is what the module publishes to and consumes from: SNS and SQS clients, the topic map and
// the queue. Outside testing mode they are AWS SDK clients built from the configuration; in testing
// mode (--testing, or testing: true) they are an in-memory SNS/SQS ([pubsubmem]) with every
// configured topic created and the queue subscribed to all of them, so an app runs with no AWS.
// Apps may replace it with fx.Decorate.
type Backend struct {
	SNS SNSClient
	SQS SQSClient
	// S3 stores large messages (section large_payload); nil when that section is off.
	S3     S3Client
	Topics *TopicMap
	// Queue is the configured queue (URL or name); in testing mode the in-memory queue's URL.
	Queue string
	// Memory is the in-memory backend in testing mode, else nil.
	Memory *pubsubmem.Backend
}

// NewBackend builds the backend for cfg and meta: [NewMemoryBackend] in testing mode, else
// [NewAWSBackend]. An invalid cfg (see [Config.Validate]) is an error. Outside testing mode it
// retrieves the AWS credentials once, so that missing ones fail here with a [CredentialsError]
// that says what to set, rather than on the first call. The SDK's own log lines keep the SDK's
// default (stderr); [NewBackendWithLogger] sends them to zap.
func NewBackend(ctx context.Context, cfg Config, meta fxconfig.Metadata) (*Backend, error) {
	return NewBackendWithLogger(ctx, cfg, meta, nil)
}

// NewBackendWithLogger is [NewBackend] with the SDK's own log lines (such as its IMDSv1 fallback
// warning) on log, named "aws" (see [AWSOptions.Logger]); [Module] uses it with the app's logger.
func NewBackendWithLogger(ctx context.Context, cfg Config, meta fxconfig.Metadata, log *zap.Logger) (*Backend, error) {
	if meta.Testing {
		return NewMemoryBackend(ctx, cfg)
	}
	return newAWSBackend(ctx, cfg, log)
}

// NewMemoryBackend builds an in-memory backend ([pubsubmem]) holding cfg's topics, all subscribed
// to cfg's queue, and its large-payload buckets; an invalid cfg (see [Config.Validate]) is an
// error. Close its Memory when done.
func NewMemoryBackend(ctx context.Context, cfg Config) (*Backend, error) {
	topics, err := validTopics(cfg)
	if err != nil {
		return nil, err
	}
	b, err := newMemoryBackend(ctx, cfg, topics)
	if err == nil && cfg.LargePayload.Enabled() {
		err = memoryBuckets(ctx, b, cfg.LargePayload)
	}
	return b, err
}

// NewAWSBackend builds a backend of AWS SDK clients (SNS, SQS, and S3 when section large_payload
// is on) from cfg; an invalid cfg (see [Config.Validate]) is an error, and so are missing
// credentials (a [CredentialsError]).
func NewAWSBackend(ctx context.Context, cfg Config) (*Backend, error) {
	return newAWSBackend(ctx, cfg, nil)
}

// newAWSBackend is [NewAWSBackend] with the SDK's log lines on log (nil: the SDK's default).
func newAWSBackend(ctx context.Context, cfg Config, log *zap.Logger) (*Backend, error) {
	topics, err := validTopics(cfg)
	if err != nil {
		return nil, err
	}
	snsOpts := AWSOptions{
		EndpointURL: cfg.Producer.EndpointURL, Region: cfg.Producer.RegionName, Profile: cfg.Producer.ProfileName,
		ConnectTimeout: cfg.Producer.ConnectTimeout, RequestTimeout: cfg.Producer.ReadTimeout, MaxAttempts: cfg.Producer.MaxAttempts,
		Logger: log,
	}
	snsCfg, err := loadCheckedAWSConfig(ctx, snsOpts)
	if err != nil {
		return nil, fmt.Errorf("sns client: %w", err)
	}
	sqsOpts := AWSOptions{
		EndpointURL: cfg.Consumer.EndpointURL, Region: cfg.Consumer.RegionName, Profile: cfg.Consumer.ProfileName,
		ConnectTimeout: cfg.Consumer.ConnectTimeout, MaxAttempts: cfg.Consumer.MaxAttempts,
		// Every attempt ends: a long poll takes up to wait_seconds, anything else far less.
		RequestTimeout: time.Duration(cfg.Consumer.WaitSeconds)*time.Second + sqsRequestMargin,
		Logger:         log,
	}
	sqsCfg, err := loadCheckedAWSConfig(ctx, sqsOpts)
	if err != nil {
		return nil, fmt.Errorf("sqs client: %w", err)
	}
	snsc, sqsc := snsFromConfig(snsCfg, snsOpts), sqsFromConfig(sqsCfg, sqsOpts)
	b := &Backend{SNS: snsc, SQS: sqsc, Topics: topics, Queue: cfg.Consumer.SQSQueueURL}
	if cfg.LargePayload.Enabled() {
		if b.S3, err = newS3Client(ctx, cfg, log); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// loadCheckedAWSConfig loads the SDK configuration for o and retrieves its credentials once.
func loadCheckedAWSConfig(ctx context.Context, o AWSOptions) (aws.Config, error) {
	cfg, err := LoadAWSConfig(ctx, o)
	if err != nil {
		return aws.Config{}, err
	}
	return cfg, checkCredentials(ctx, cfg, o.Profile)
}

// validTopics validates cfg and returns its topic map.
func validTopics(cfg Config) (*TopicMap, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return NewTopicMap(cfg.Topics)
}

// newMemoryBackend creates an in-memory SNS/SQS holding the configured topics and queue.
func newMemoryBackend(ctx context.Context, cfg Config, topics *TopicMap) (*Backend, error) {
	region, account := "us-east-1", "000000000000"
	arns := topics.TopicARNs()
	if len(arns) > 0 {
		if r, a, _, ok := splitARN(arns[0]); ok {
			region, account = r, a
		}
	}
	mem := pubsubmem.New(pubsubmem.WithRegion(region), pubsubmem.WithAccountID(account))
	b := &Backend{SNS: mem.SNS(), SQS: mem.SQS(), Topics: topics, Memory: mem}
	if topics.def == "" {
		b.Topics = &TopicMap{def: joinARN("sns", region, account, MemoryTopicName), exact: topics.exact}
		arns = append(arns, b.Topics.def)
	}
	queueName := MemoryQueueName
	if q := strings.TrimRight(cfg.Consumer.SQSQueueURL, "/"); q != "" {
		queueName = q[strings.LastIndexByte(q, '/')+1:]
	}
	qout, err := mem.SQS().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName)})
	if err != nil {
		return nil, fmt.Errorf("memory queue %q: %w", queueName, err)
	}
	b.Queue = aws.ToString(qout.QueueUrl)
	queueARN := joinARN("sqs", region, account, queueName)
	for _, arn := range arns {
		_, _, name, ok := splitARN(arn)
		if !ok {
			return nil, fmt.Errorf("sns_topic_arns: %q is not a topic ARN", arn)
		}
		if _, err := mem.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)}); err != nil {
			return nil, fmt.Errorf("memory topic %q: %w", name, err)
		}
		if _, err := mem.SNS().Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN)}); err != nil {
			return nil, fmt.Errorf("memory subscription %q: %w", name, err)
		}
	}
	return b, nil
}
