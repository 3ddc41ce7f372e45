package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Reasons an SNS envelope is refused, wrapped by [EnvelopeError] (match with errors.Is).
var (
	// ErrNotEnvelope: sqs_envelope.require_envelope is on and the body is not an SNS notification.
	ErrNotEnvelope = errors.New("body is not an SNS notification")
	// ErrTopicNotAllowed: the envelope's TopicArn is not in sqs_envelope.allowed_topic_arns.
	ErrTopicNotAllowed = errors.New("topic is not in the allow-list")
	// ErrSignatureFields: SignatureVersion is not 1 or 2, or Signature is missing or not base64.
	ErrSignatureFields = errors.New("malformed signature fields")
	// ErrSigningCertURL: SigningCertURL is not https://sns.<region>.amazonaws.com[.cn]/....pem.
	ErrSigningCertURL = errors.New("signing certificate URL is not an SNS URL")
	// ErrSigningCert: the signing certificate could not be fetched or is not a valid RSA certificate.
	ErrSigningCert = errors.New("signing certificate unavailable or invalid")
	// ErrBadSignature: the signature does not verify against the notification's canonical string.
	ErrBadSignature = errors.New("signature does not verify")
)

// Envelope check names, the config keys that turned each check on ([EnvelopeError.Check]).
const (
	CheckRequireEnvelope  = "sqs_envelope.require_envelope"
	CheckAllowedTopicARNs = "sqs_envelope.allowed_topic_arns"
	CheckVerifySignatures = "sqs_envelope.verify_signatures"
)

// EnvelopeError reports an SQS body refused by the envelope checks of [EnvelopeChecks]. The
// consumer wraps it in a *[DecodeError] (Field names the envelope field at fault), so the message
// is FAILED: nacked with the backoff policy, never handled, and dead-lettered by the queue's
// redrive policy if it keeps failing. Err wraps one of [ErrNotEnvelope], [ErrTopicNotAllowed],
// [ErrSignatureFields], [ErrSigningCertURL], [ErrSigningCert] or [ErrBadSignature].
type EnvelopeError struct {
	// Check is the config key of the check that refused the body (CheckVerifySignatures, ...).
	Check string
	// TopicARN is the topic the envelope claims (unverified; clipped), "" when not an envelope.
	TopicARN string
	Err      error
}

func (e *EnvelopeError) Error() string {
	if e.TopicARN == "" {
		return fmt.Sprintf("sns envelope refused by %s: %v", e.Check, e.Err)
	}
	return fmt.Sprintf("sns envelope claiming topic %q refused by %s: %v", e.TopicARN, e.Check, e.Err)
}

func (e *EnvelopeError) Unwrap() error { return e.Err }

// EnvelopeChecks guard SQS bodies read with [EnvelopeCodec] against forged SNS notifications: a
// body sent straight to the queue (sqs:SendMessage) that imitates an SNS envelope to claim a topic
// it did not come from. All are off in the zero value. They apply to the codec envelope only.
type EnvelopeChecks struct {
	// AllowedTopicARNs, when not empty, accepts SNS notifications only from these topics
	// (exact ARNs). It does not by itself prove where a body came from: pair it with Verifier.
	AllowedTopicARNs []string
	// RequireEnvelope refuses bodies that are not SNS notifications (raw delivery, or anything sent
	// straight to the queue).
	RequireEnvelope bool
	// Verifier, when set, verifies the signature of every SNS notification.
	Verifier *SNSVerifier
}

func (c EnvelopeChecks) enabled() bool {
	return len(c.AllowedTopicARNs) > 0 || c.RequireEnvelope || c.Verifier != nil
}

// envelopeGuard is EnvelopeChecks prepared for lookups.
type envelopeGuard struct {
	allowed  map[string]struct{}
	require  bool
	verifier *SNSVerifier
}

func newEnvelopeGuard(c EnvelopeChecks) *envelopeGuard {
	if !c.enabled() {
		return nil
	}
	g := &envelopeGuard{require: c.RequireEnvelope, verifier: c.Verifier}
	if len(c.AllowedTopicARNs) > 0 {
		g.allowed = make(map[string]struct{}, len(c.AllowedTopicARNs))
		for _, arn := range c.AllowedTopicARNs {
			g.allowed[strings.TrimSpace(arn)] = struct{}{}
		}
	}
	return g
}

// check runs the allow-list, then signature verification; the allow-list first, so a forged
// envelope naming a foreign topic costs no certificate fetch.
func (g *envelopeGuard) check(ctx context.Context, n *snsNotification) *DecodeError {
	if g.allowed != nil {
		if _, ok := g.allowed[n.TopicARN]; !ok {
			return &DecodeError{Field: "TopicArn", Err: &EnvelopeError{Check: CheckAllowedTopicARNs, TopicARN: clip(n.TopicARN), Err: ErrTopicNotAllowed}}
		}
	}
	if g.verifier != nil {
		if field, err := g.verifier.verify(ctx, n); err != nil {
			return &DecodeError{Field: field, Err: &EnvelopeError{Check: CheckVerifySignatures, TopicARN: clip(n.TopicARN), Err: err}}
		}
	}
	return nil
}

// clip bounds attacker-controlled text quoted in errors and logs.
func clip(s string) string {
	const limit = 256
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
