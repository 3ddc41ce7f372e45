package fxpubsub

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
)

// FuzzSNSVerify mutates correctly signed notifications (and anything else) and checks that
// verification accepts a body only when the fields SNS signs, as this package reads them, are
// exactly those of a notification the local key signed: no duplicate key, case variant, escape,
// extra field or whitespace smuggles a different message, topic or id past the signature.
func FuzzSNSVerify(f *testing.F) {
	s := NewSNSTestSigner(f)
	signed := map[string]bool{}
	subject := "subj"
	for i, msg := range []string{innerOrderJSON, `{"mediaType":"x"}`, ``} {
		n := s.Notification(testTopic, msg)
		if i == 1 {
			n.SignatureVersion = "1"
		}
		if i == 2 {
			n.Subject = &subject
		}
		s.Sign(n)
		signed[string(snsCanonical(&snsNotification{Type: n.Type, MessageID: n.MessageID, TopicARN: n.TopicARN, Subject: n.Subject, Message: &n.Message, Timestamp: n.Timestamp}))] = true
		f.Add([]byte(n.JSON()))
		// Pre-mutated forms: a duplicate TopicArn, a lower-case key, an escaped Type.
		f.Add([]byte(strings.Replace(n.JSON(), `"Type"`, `"TopicArn":"arn:aws:sns:us-east-1:1:evil","Type"`, 1)))
		f.Add([]byte(strings.Replace(n.JSON(), `"Type"`, `"type"`, 1)))
		f.Add([]byte(strings.Replace(n.JSON(), `"Signature"`, `"Message":"{}","Signature"`, 1)))
		f.Add([]byte(strings.Replace(n.JSON(), `"Notification"`, `"Notific\u0061tion"`, 1)))
	}
	reg := fuzzRegistry(f)
	guard := newEnvelopeGuard(EnvelopeChecks{Verifier: s.VerifierWith(SNSVerifierOptions{FetchTimeout: 2e9}), RequireEnvelope: true})
	f.Fuzz(func(t *testing.T, body []byte) {
		d, info, err := decodeChecked(t.Context(), EnvelopeCodec, reg, guard, body)
		var ee *EnvelopeError
		if errors.As(err, &ee) {
			if d.Content != nil || info != (snsInfo{}) {
				t.Fatalf("refused but decoded: %+v", d)
			}
			return
		}
		// Accepted: it must be one of the signed notifications, field for field.
		var n snsNotification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if !signed[string(snsCanonical(&n))] {
			t.Fatalf("verification accepted a notification nobody signed:\n%s", snsCanonical(&n))
		}
		if info.topicARN != n.TopicARN || info.messageID != n.MessageID {
			t.Fatalf("decoded %+v from %+v", info, n)
		}
	})
}

const innerOrderJSON = `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","opaqueData":{"x-request-id":"r1"}}`

// FuzzLoadConfig loads fxpubsub's configuration from fuzzed environment variables and values:
// no panics; every error names its key; and a configuration LoadConfig accepts always builds a
// consumer (the config checks are at least as strict as the constructors').
func FuzzLoadConfig(f *testing.F) {
	for _, s := range [][2]string{
		{"SQS_CONSUMER__LIMIT=10\nSQS_CONSUMER__WAIT_SECONDS=0", `{}`},
		{"SQS_CONSUMER__LIMIT=eleven", `{"sqs_envelope":{"strategy_name":"raw"}}`},
		{"SQS_ENVELOPE__ALLOWED_TOPIC_ARNS=arn:aws:sns:us-east-1:1:a,arn:aws:sns:us-east-1:1:b\nSQS_ENVELOPE__VERIFY_SIGNATURES=on", `{}`},
		{"SQS_ENVELOPE__STRATEGY_NAME=naive\nSQS_ENVELOPE__REQUIRE_ENVELOPE=1", `{"sqs_envelope.allowed_topic_arns":["x"]}`},
		{"SNS_TOPIC_ARNS__CREATED__FOO=arn:aws:sns:us-east-1:1:foo\nOPAQUE__X=1", `{"opaque":{"a":1}}`},
		{"SQS_CONSUMER__FLUSH_INTERVAL=1ns\nSQS_CONSUMER__HEARTBEAT_THRESHOLD=NaN", `{"sqs_consumer":{"drain_timeout":"-1s"}}`},
		{"SQS_CONSUMER__CONCURRENCY=99999999999999999999", `{"sqs_consumer":[1,2]}`},
		{"SQS_MESSAGE_DISPATCHER__MESSAGE_MAX_PROCESSING_ATTEMPTS=0", `{"sns_producer":{"skip":null,"read_timeout":1e300}}`},
		{"PUBSUB_MESSAGE_SCHEMA_REGISTRY__LIFECYCLE_WORDS=a,,b", `{"sqs_consumer.visibility_timeout_seconds":"43201"}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, env string, values []byte) {
		var vals map[string]any
		if json.Unmarshal(values, &vals) != nil {
			vals = nil
		}
		environ := []string{}
		for line := range strings.SplitSeq(env, "\n") {
			environ = append(environ, "APP__"+line)
		}
		s, err := fxconfig.Load(fxconfig.Input{Name: "app", Environ: environ, Values: vals})
		if err != nil {
			return
		}
		cfg, err := LoadConfig(s)
		if err != nil {
			for _, e := range errLeaves(err) {
				msg := e.Error()
				if !strings.HasPrefix(msg, "sns_") && !strings.HasPrefix(msg, "sqs_") && !strings.HasPrefix(msg, "opaque") && !strings.HasPrefix(msg, "pubsub_") {
					t.Fatalf("error does not name its key: %q", msg)
				}
			}
			return
		}
		opts, err := cfg.consumerOptions()
		if err != nil {
			t.Fatalf("LoadConfig accepted what consumerOptions refuses: %v", err)
		}
		if _, err := NewConsumer(nil, nil, "q", opts); err != nil {
			t.Fatalf("LoadConfig accepted what NewConsumer refuses: %v", err)
		}
	})
}

// errLeaves returns the leaves of errors.Join trees.
func errLeaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, errLeaves(e)...)
		}
		return out
	}
	return []error{err}
}
