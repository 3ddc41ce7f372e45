package fxpubsub

import (
	"strings"
	"testing"
)

func TestAllowedTopicsAndRequireEnvelope(t *testing.T) {
	s := NewSNSTestSigner(t)
	unsigned := s.Notification(testTopic, innerOrder(t)).JSON()
	foreign := s.Notification("arn:aws:sns:us-east-1:123456789012:other", innerOrder(t)).JSON()

	if _, info, err := checked(t, EnvelopeChecks{AllowedTopicARNs: []string{testTopic}}, unsigned); err != nil || info.topicARN != testTopic {
		t.Fatalf("allowed topic: %v %+v", err, info)
	}
	d, info, err := checked(t, EnvelopeChecks{AllowedTopicARNs: []string{testTopic}}, foreign)
	wantRefused(t, d, info, err, CheckAllowedTopicARNs, ErrTopicNotAllowed)
	// The allow-list runs before the signature: a foreign topic costs no certificate fetch.
	d, info, err = checked(t, EnvelopeChecks{AllowedTopicARNs: []string{testTopic}, Verifier: s.Verifier()}, foreign)
	wantRefused(t, d, info, err, CheckAllowedTopicARNs, ErrTopicNotAllowed)
	if s.Fetches.Load() != 0 {
		t.Fatal("a foreign topic must be refused before any certificate fetch")
	}

	// Raw delivery: no envelope, so no topic is claimed; accepted unless envelopes are required.
	if d, info, err := checked(t, EnvelopeChecks{AllowedTopicARNs: []string{testTopic}}, innerOrder(t)); err != nil || info.topicARN != "" || d.Content == nil {
		t.Fatalf("raw body: %v %+v", err, info)
	}
	d, info, err = checked(t, EnvelopeChecks{RequireEnvelope: true}, innerOrder(t))
	wantRefused(t, d, info, err, CheckRequireEnvelope, ErrNotEnvelope)
	// A body that almost looks like an envelope (a mediaType of its own) is not one either.
	almost := `{"Type":"Notification","MessageId":"m","TopicArn":"` + testTopic + `","Message":"{}","mediaType":"` + orderMT + `","uri":"u","order_id":"1"}`
	d, info, err = checked(t, EnvelopeChecks{RequireEnvelope: true}, almost)
	wantRefused(t, d, info, err, CheckRequireEnvelope, ErrNotEnvelope)
	// An envelope whose Type is spelled with \u escapes is still an envelope (encoding/json decodes it).
	escaped := strings.Replace(foreign, `"Notification"`, `"Notific\u0061tion"`, 1)
	d, info, err = checked(t, EnvelopeChecks{AllowedTopicARNs: []string{testTopic}}, escaped)
	wantRefused(t, d, info, err, CheckAllowedTopicARNs, ErrTopicNotAllowed)
}

func TestEnvelopeChecksNeedCodec(t *testing.T) {
	r := newTestRegistry(t)
	for _, env := range []Envelope{EnvelopeRaw, EnvelopeNaive} {
		if _, err := NewConsumer(nil, r, "q", ConsumerOptions{Envelope: env, EnvelopeChecks: EnvelopeChecks{RequireEnvelope: true}}); err == nil {
			t.Errorf("%s envelope accepted envelope checks", env)
		}
	}
}
