package awstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/microcosm-go/pubsub/internal/sdkbody"
)

// Environment variables that point the tests at running emulators (scripts/test.sh sets them).
const (
	EnvFauxqsEndpoint = "PUBSUB_FAUXQS_ENDPOINT"
	EnvMotoEndpoint   = "PUBSUB_MOTO_ENDPOINT"
)

// Region is the region every target uses. fauxqs keys resources by the SigV4 region, so all clients
// must agree on it (emulators.md §6.3).
const Region = "us-east-1"

// SNSAdmin is the part of the SNS API the tests use, with the exact *sns.Client method signatures.
// *sns.Client and the in-memory backend's SNS both satisfy it.
type SNSAdmin interface {
	CreateTopic(ctx context.Context, in *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	DeleteTopic(ctx context.Context, in *sns.DeleteTopicInput, optFns ...func(*sns.Options)) (*sns.DeleteTopicOutput, error)
	Subscribe(ctx context.Context, in *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	Unsubscribe(ctx context.Context, in *sns.UnsubscribeInput, optFns ...func(*sns.Options)) (*sns.UnsubscribeOutput, error)
	SetSubscriptionAttributes(ctx context.Context, in *sns.SetSubscriptionAttributesInput, optFns ...func(*sns.Options)) (*sns.SetSubscriptionAttributesOutput, error)
	GetSubscriptionAttributes(ctx context.Context, in *sns.GetSubscriptionAttributesInput, optFns ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error)
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

// SQSAdmin is the part of the SQS API the tests use, with the exact *sqs.Client method signatures.
// *sqs.Client and the in-memory backend's SQS both satisfy it.
type SQSAdmin interface {
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	DeleteQueue(ctx context.Context, in *sqs.DeleteQueueInput, optFns ...func(*sqs.Options)) (*sqs.DeleteQueueOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	PurgeQueue(ctx context.Context, in *sqs.PurgeQueueInput, optFns ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error)
}

var (
	_ SNSAdmin = (*sns.Client)(nil)
	_ SQSAdmin = (*sqs.Client)(nil)
)

// Caps lists where a target is known to differ from AWS. Tests branch on these, never on Name, and
// say in a comment which documented quirk they work around.
type Caps struct {
	// AbandonedPollSwallows: a ReceiveMessage the client cancelled keeps running on the server and
	// takes the next message, which comes back only after the visibility timeout
	// (emulators.md §6.4, moto.md §3 "Long poll cancelled by the client").
	AbandonedPollSwallows bool

	// Slow: every call costs milliseconds and the cost grows with queue depth; keep queues shallow
	// (tens of messages) and message counts small (moto.md §5).
	Slow bool

	// BogusReceiptHandleAccepted: DeleteMessage(Batch) and ChangeMessageVisibility(Batch) with an
	// invalid receipt handle succeed instead of failing with ReceiptHandleIsInvalid
	// (emulators.md §6.6, fauxqs).
	BogusReceiptHandleAccepted bool

	// FIFOOneMessagePerGroupPerReceive: a FIFO ReceiveMessage returns at most one message per
	// MessageGroupId; order and dedup are still right, so don't assert batch sizes (emulators.md §6.5).
	FIFOOneMessagePerGroupPerReceive bool

	// LazyRedrive: a message that reached maxReceiveCount moves to the DLQ only when a later
	// ReceiveMessage on the source queue scans it (moto.md §3 "DLQ move timing").
	LazyRedrive bool

	// SupersededReceiptHandleValid: any receipt handle a message ever had still acts on it; AWS only
	// guarantees the latest one (moto.md §3).
	SupersededReceiptHandleValid bool

	// RawBinaryAttributeBroken: raw SNS delivery with a Binary message attribute breaks: moto.md §3
	// saw ReceiveMessage (MessageAttributeNames=All) fail with HTTP 500; the moto installed here drops
	// the message during delivery instead. The conformance case checks that it is still broken.
	RawBinaryAttributeBroken bool

	// SyncDelivery: SNS delivers to SQS inside Publish, so SQS-side errors reach the publisher
	// (moto.md §3 "Delivery is synchronous inside Publish").
	SyncDelivery bool

	// FIFOTopicDropsContentDedup: a FIFO topic with ContentBasedDeduplication does not pass the
	// dedup id on; the subscribed FIFO queue needs ContentBasedDeduplication too, or Publish must
	// carry MessageDeduplicationId (moto.md §3). Pipeline always sets it on FIFO queues.
	FIFOTopicDropsContentDedup bool

	// FIFOReceiveNotAtomic: concurrent ReceiveMessage calls on a FIFO queue can each take part of
	// one message group (moto checks the group lock against a snapshot taken when the call starts,
	// from several server threads), so two consumers get one group's messages at once and FIFO
	// order breaks. Seen with two receivers under load: one receive got c-01, c-04, c-06 and a
	// concurrent one c-02, c-03, c-05, all on their first receive. AWS locks the group. Consumers
	// that check FIFO order use one receiver here.
	FIFOReceiveNotAtomic bool

	// InProcess: the target is the in-memory backend (no HTTP, no SDK middleware).
	InProcess bool

	// S3MaxRequestBody (bytes, 0: none below S3's own 5 GiB): fauxqs refuses any request body over
	// 11 MiB with HTTP 413 RequestEntityTooLarge, so a single PutObject of more fails (its multipart
	// upload takes parts up to that size).
	S3MaxRequestBody int64

	// S3NoListMultipartUploads: fauxqs has no ListMultipartUploads (GET /bucket?uploads is
	// answered as ListObjects, so it lists no uploads); an upload's end is seen by completing it
	// (NoSuchUpload).
	S3NoListMultipartUploads bool

	// S3UnknownUploadIs500: moto answers a part upload or completion of an unknown (aborted) upload
	// id with HTTP 500 and an unparsable body, where S3 says 404 NoSuchUpload.
	S3UnknownUploadIs500 bool

	// S3LaxMultipartComplete: moto completes a multipart upload without checking the parts' order
	// or ETags (a wrong or missing ETag, parts out of order: accepted), and completes a finished
	// upload again, where S3 says InvalidPartOrder, InvalidPart, NoSuchUpload. Its uploads are
	// checked through ListMultipartUploads instead.
	S3LaxMultipartComplete bool
}

// Target is one SNS+SQS implementation the tests run against.
type Target struct {
	Name     string   // "memory", "fauxqs", "moto"
	SNS      SNSAdmin // *sns.Client for the emulators, pubsubmem's SNS for memory
	SQS      SQSAdmin // *sqs.Client for the emulators, pubsubmem's SQS for memory
	S3       S3Admin  // *s3.Client for the emulators, pubsubmem's S3 for memory
	Endpoint string   // "" for memory
	Caps     Caps

	// Skip is non-empty when the target is not available in this run (local runs without the
	// emulator started). Pipeline, Queue and Require skip the (sub)test with it.
	Skip string
}

// Require skips t when the target is unavailable (see Target.Skip).
func (tg Target) Require(t testing.TB) {
	t.Helper()
	if tg.Skip != "" {
		t.Skip(tg.Skip)
	}
}

// AWSConfig is the SDK configuration for a loopback emulator: static credentials test/test, region
// us-east-1, and an SDK BuildableClient as HTTP client. It is built by hand rather than with
// config.LoadDefaultConfig so the machine's environment (AWS_PROFILE, AWS_ENDPOINT_URL, ...) can't
// leak in, and with awshttp.NewBuildableClient() because a bare *http.Client breaks when
// AWS_CA_BUNDLE is set, as it is on these machines (moto.md §3 "Gotcha"). The endpoint is applied
// per client (see NewSNSClient, NewSQSClient) and also set as the config's BaseEndpoint. Its API
// options have the SDK/net/http race workaround the library's own configuration has
// (sdkbody.HideWriterTo): without it, a receive the emulator applied can fail, and its messages
// stay invisible for the visibility timeout, longer than a test waits for them.
func AWSConfig(endpoint string) aws.Config {
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
		APIOptions:  []func(*middleware.Stack) error{sdkbody.HideWriterTo},
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg
}

// NewSNSClient returns an SNS client for endpoint. A non-empty motoAccount adds the test-only
// x-moto-account-id header to every request.
func NewSNSClient(endpoint, motoAccount string) *sns.Client {
	return sns.NewFromConfig(AWSConfig(endpoint), func(o *sns.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if motoAccount != "" {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", motoAccount))
		}
	})
}

// NewSQSClient returns an SQS client for endpoint. A non-empty motoAccount adds the test-only
// x-moto-account-id header to every request.
func NewSQSClient(endpoint, motoAccount string) *sqs.Client {
	return sqs.NewFromConfig(AWSConfig(endpoint), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if motoAccount != "" {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", motoAccount))
		}
	})
}

// Fauxqs returns the fauxqs target at $PUBSUB_FAUXQS_ENDPOINT. When the variable is unset it fails
// the test under CI and skips it otherwise.
func Fauxqs(t testing.TB) Target {
	t.Helper()
	tg := fauxqsTarget(t)
	tg.Require(t)
	return tg
}

// Moto returns the moto target at $PUBSUB_MOTO_ENDPOINT, in a fresh random 12-digit account, so
// the test sees none of any other test's resources. When the variable is unset it fails the test
// under CI and skips it otherwise.
func Moto(t testing.TB) Target {
	t.Helper()
	tg := motoTarget(t)
	tg.Require(t)
	return tg
}

// All returns the memory, fauxqs and moto targets, in that order. An emulator whose endpoint
// variable is unset fails the test under CI; locally its Target has Skip set, so only the subtests
// that use it are skipped.
func All(t testing.TB) []Target {
	t.Helper()
	return []Target{Memory(t), fauxqsTarget(t), motoTarget(t)}
}

func fauxqsTarget(t testing.TB) Target {
	t.Helper()
	tg := Target{
		Name: "fauxqs",
		Caps: Caps{
			AbandonedPollSwallows:            true,
			BogusReceiptHandleAccepted:       true,
			FIFOOneMessagePerGroupPerReceive: true,
			S3MaxRequestBody:                 11 << 20,
			S3NoListMultipartUploads:         true,
		},
	}
	ep, skip := endpointFromEnv(t, EnvFauxqsEndpoint, "fauxqs")
	if skip != "" {
		tg.Skip = skip
		return tg
	}
	tg.Endpoint = ep
	tg.SNS = NewSNSClient(ep, "")
	tg.SQS = NewSQSClient(ep, "")
	tg.S3 = NewS3Client(ep, "")
	return tg
}

func motoTarget(t testing.TB) Target {
	t.Helper()
	tg := Target{
		Name: "moto",
		Caps: Caps{
			AbandonedPollSwallows:        true,
			Slow:                         true,
			LazyRedrive:                  true,
			SupersededReceiptHandleValid: true,
			RawBinaryAttributeBroken:     true,
			SyncDelivery:                 true,
			FIFOTopicDropsContentDedup:   true,
			FIFOReceiveNotAtomic:         true,
			S3UnknownUploadIs500:         true,
			S3LaxMultipartComplete:       true,
		},
	}
	ep, skip := endpointFromEnv(t, EnvMotoEndpoint, "moto")
	if skip != "" {
		tg.Skip = skip
		return tg
	}
	acct := MotoAccount()
	tg.Endpoint = ep
	tg.SNS = NewSNSClient(ep, acct)
	tg.SQS = NewSQSClient(ep, acct)
	tg.S3 = NewS3Client(ep, acct)
	return tg
}

// MotoAccount returns a random 12-digit account id for the x-moto-account-id header. It never
// returns moto's default account 123456789012.
func MotoAccount() string {
	for {
		a := strconv.FormatInt(100_000_000_000+rand.Int64N(899_999_999_999), 10)
		if a != "123456789012" {
			return a
		}
	}
}

// endpointFromEnv reads an emulator endpoint. Unset: fatal under CI, else a skip reason. Set but not
// a loopback http(s) URL: fatal.
func endpointFromEnv(t testing.TB, env, name string) (endpoint, skip string) {
	t.Helper()
	ep := os.Getenv(env)
	if ep == "" {
		msg := fmt.Sprintf("%s is not set, so the %s emulator is not available: run the tests with scripts/test.sh "+
			"(it starts fauxqs and moto_server on loopback and exports %s and %s), "+
			"or start one with scripts/emulator-up.sh / scripts/moto-up.sh and export the endpoint from .emulator/*.endpoint",
			env, name, EnvFauxqsEndpoint, EnvMotoEndpoint)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		return "", msg
	}
	if err := checkLoopback(ep); err != nil {
		t.Fatalf("%s=%q: %v", env, ep, err)
	}
	return ep, ""
}

// checkLoopback accepts only http(s) URLs whose host is localhost or a loopback IP.
func checkLoopback(ep string) error {
	u, err := url.Parse(ep)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https")
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("tests only talk to loopback endpoints (127.0.0.0/8, ::1, localhost), not %q", host)
}
