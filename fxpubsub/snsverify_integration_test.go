package fxpubsub_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// TestForgedEnvelopesFailAndDeadLetter sends, straight to a real queue with sqs:SendMessage, what
// an attacker could: an envelope claiming a foreign topic and one tampered after signing; and next
// to them a correctly signed one (local key, certificate on loopback HTTPS) and a genuine SNS
// delivery from the emulator (signed "EXAMPLE"). With the allow-list and signature verification on,
// only the correctly signed message reaches its handler; the others are FAILED, nacked, and moved
// to the DLQ by the redrive policy.
func TestForgedEnvelopesFailAndDeadLetter(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg awstest.Target) {
		ctx := context.Background()
		pipe := tg.Pipeline(t, awstest.PipelineOptions{Prefix: "forged", MaxReceiveCount: 2})
		signer := fxpubsub.NewSNSTestSigner(t)
		reg, err := fxpubsub.NewSchemaRegistry(fxpubsub.DefaultRegistryConfig(), fxpubsub.SchemaFor[orderCreated](orderMT))
		if err != nil {
			t.Fatal(err)
		}
		cons, err := fxpubsub.NewConsumer(tg.SQS, reg, pipe.QueueURL, fxpubsub.ConsumerOptions{
			Wait: time.Second, Backoff: fxpubsub.NaiveBackoff{Timeout: 0},
			EnvelopeChecks: fxpubsub.EnvelopeChecks{AllowedTopicARNs: []string{pipe.TopicARN}, Verifier: signer.Verifier()},
		})
		if err != nil {
			t.Fatal(err)
		}
		inner := func(id string) string {
			return `{"mediaType":"` + orderMT + `","uri":"https://o/` + id + `","order_id":"` + id + `","opaqueData":{}}`
		}
		send := func(body string) {
			t.Helper()
			if _, err := tg.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(pipe.QueueURL), MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
		send(signer.Sign(signer.Notification("arn:aws:sns:us-east-1:000000000000:elsewhere", inner("foreign"))).JSON())
		tampered := signer.Sign(signer.Notification(pipe.TopicARN, inner("tampered")))
		tampered.Message = inner("evil")
		send(tampered.JSON())
		send(signer.Sign(signer.Notification(pipe.TopicARN, inner("signed"))).JSON())
		topics, err := fxpubsub.NewTopicMap(map[string]any{"default": pipe.TopicARN})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fxpubsub.NewProducer(tg.SNS, reg, topics, fxpubsub.ProducerOptions{}).Produce(ctx, orderMT, orderCreated{URI: "https://o/sns", OrderID: "emulator"}); err != nil {
			t.Fatal(err)
		}

		var handled atomic.Int32
		var handledID atomic.Value
		handlers, err := fxpubsub.NewHandlerRegistry(mustReg(t, orderMT, func(_ context.Context, c *orderCreated) error {
			handled.Add(1)
			handledID.Store(c.OrderID)
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		disp := fxpubsub.NewDispatcher(handlers, fxpubsub.DispatcherOptions{EnableTTL: true})
		failures := map[string]int{} // reason → count
		deadline := time.Now().Add(60 * time.Second)
		for {
			msgs, err := cons.Consume(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				r := disp.Dispatch(ctx, m)
				switch {
				case r.Type == fxpubsub.Succeeded:
				case r.Type == fxpubsub.Failed:
					var ee *fxpubsub.EnvelopeError
					if !errors.As(m.Err, &ee) || m.Content != nil || m.TopicARN != "" {
						t.Fatalf("failed for another reason, or decoded anyway: %v %+v", m.Err, m)
					}
					failures[ee.Check]++
				default:
					t.Fatalf("result %s for %s (%v)", r.Type, m.Body, m.Err)
				}
			}
			if depth(t, tg, pipe.DLQURL) == 3 && handled.Load() == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out: handled %d, failures %v, DLQ depth %d", handled.Load(), failures, depth(t, tg, pipe.DLQURL))
			}
		}
		if handledID.Load() != "signed" {
			t.Fatalf("handled %v, want only the correctly signed message", handledID.Load())
		}
		// Each forged message was refused on each of its 2 receives (the emulator's delivery fails
		// verification: it is not signed by our local key). The allow-list refuses the foreign topic.
		if failures[fxpubsub.CheckAllowedTopicARNs] != 2 || failures[fxpubsub.CheckVerifySignatures] != 4 {
			t.Fatalf("failures by check: %v", failures)
		}
	})
}

func depth(t *testing.T, tg awstest.Target, url string) int {
	t.Helper()
	out, err := tg.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n
}

func TestEnvelopeConfig(t *testing.T) {
	const arn1, arn2 = "arn:aws:sns:us-east-1:123456789012:a", "arn:aws:sns:eu-west-1:123456789012:b"
	s, err := fxconfig.Load(fxconfig.Input{Name: "app", Environ: []string{
		"APP__SQS_ENVELOPE__ALLOWED_TOPIC_ARNS=" + arn1 + ", " + arn2,
		"APP__SQS_ENVELOPE__VERIFY_SIGNATURES=true",
		"APP__SQS_ENVELOPE__REQUIRE_ENVELOPE=yes",
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := fxpubsub.LoadConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Envelope
	if len(e.AllowedTopicARNs) != 2 || e.AllowedTopicARNs[1] != arn2 || !e.VerifySignatures || !e.RequireEnvelope {
		t.Fatalf("loaded %+v", e)
	}
	if d := fxpubsub.DefaultConfig().Envelope; d.VerifySignatures || d.RequireEnvelope || len(d.AllowedTopicARNs) != 0 {
		t.Fatalf("envelope checks must be off by default: %+v", d)
	}

	for name, tc := range map[string]struct {
		values  map[string]any
		wantKey string
	}{
		"not an ARN":        {map[string]any{"sqs_envelope.allowed_topic_arns": []any{arn1, "orders"}}, "sqs_envelope.allowed_topic_arns.1"},
		"an SQS ARN":        {map[string]any{"sqs_envelope.allowed_topic_arns": []any{"arn:aws:sqs:us-east-1:123456789012:q"}}, "sqs_envelope.allowed_topic_arns.0"},
		"raw strategy":      {map[string]any{"sqs_envelope": map[string]any{"strategy_name": "raw", "verify_signatures": true}}, "sqs_envelope.verify_signatures"},
		"naive strategy":    {map[string]any{"sqs_envelope": map[string]any{"strategy_name": "naive", "require_envelope": true}}, "sqs_envelope.require_envelope"},
		"not a bool":        {map[string]any{"sqs_envelope.verify_signatures": "sometimes"}, "sqs_envelope.verify_signatures"},
		"list of non-lists": {map[string]any{"sqs_envelope.allowed_topic_arns": map[string]any{"a": arn1}}, "sqs_envelope.allowed_topic_arns"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := fxconfig.Load(fxconfig.Input{Name: "app", Environ: []string{}, Values: tc.values})
			if err != nil {
				t.Fatal(err)
			}
			_, err = fxpubsub.LoadConfig(s)
			var fe *fxconfig.FieldError
			if !errors.As(err, &fe) || fe.Key != tc.wantKey {
				t.Fatalf("want a FieldError for %s, got %v", tc.wantKey, err)
			}
		})
	}
}

func TestModuleWiresEnvelopeChecks(t *testing.T) {
	for _, verify := range []bool{false, true} {
		var cons *fxpubsub.Consumer
		app := fxtest.New(t,
			fxconfig.ForTesting("example", map[string]any{"sqs_envelope": map[string]any{
				"verify_signatures": verify, "allowed_topic_arns": "arn:aws:sns:us-east-1:000000000000:pubsub-testing",
			}}),
			fxpubsub.Module,
			fx.Populate(&cons),
		)
		app.RequireStart()
		checks := cons.Options().EnvelopeChecks
		if (checks.Verifier != nil) != verify || len(checks.AllowedTopicARNs) != 1 {
			t.Fatalf("verify=%v: consumer checks %+v", verify, checks)
		}
		app.RequireStop()
	}
}
