package fxpubsub

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1 is SHA1withRSA; it is verified, never produced
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
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

// SNS signature verification defaults.
const (
	// DefaultCertFetchTimeout bounds one signing-certificate download.
	DefaultCertFetchTimeout = 10 * time.Second
	maxCertBytes            = 64 << 10 // a PEM certificate is about 2 KiB
	maxSignatureBytes       = 1024     // RSA-8192
	certCacheSize           = 64
	certCacheTTL            = 24 * time.Hour
	certFailureTTL          = 10 * time.Second
)

// snsCertHost is the host of SNS signing certificates: sns.<region>.amazonaws.com, or
// .amazonaws.com.cn in the China regions.
var snsCertHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// CheckSigningCertURL accepts only https://sns.<region>.amazonaws.com[.cn]/<name>.pem, with no
// user info, port, query or fragment. Errors wrap [ErrSigningCertURL].
func CheckSigningCertURL(u *url.URL) error {
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("%w: scheme %q (want https)", ErrSigningCertURL, clip(u.Scheme))
	case u.Opaque != "" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Errorf("%w: %q has user info, a port, a query or a fragment", ErrSigningCertURL, clip(u.Redacted()))
	case !snsCertHost.MatchString(u.Host):
		return fmt.Errorf("%w: host %q (want sns.<region>.amazonaws.com)", ErrSigningCertURL, clip(u.Host))
	case !strings.HasSuffix(u.Path, ".pem") || strings.Contains(u.Path, ".."):
		return fmt.Errorf("%w: path %q (want /<name>.pem)", ErrSigningCertURL, clip(u.Path))
	}
	return nil
}

// SNSVerifier verifies SNS message signatures (SignatureVersion 1, SHA1withRSA, and 2,
// SHA256withRSA) over the canonical string AWS documents for a Notification. Signing certificates
// are fetched over HTTPS from the SNS host named by SigningCertURL, with a timeout, and cached (one
// fetch per URL at a time; failures are remembered for a few seconds). It is safe for concurrent
// use.
type SNSVerifier struct {
	client   *http.Client
	checkURL func(*url.URL) error
	timeout  time.Duration
	now      func() time.Time

	mu    sync.Mutex
	certs map[string]*certEntry
}

type certEntry struct {
	done    chan struct{} // closed when cert/err are set
	cert    *x509.Certificate
	err     error
	expires time.Time
}

// SNSVerifierOption configures [NewSNSVerifier].
type SNSVerifierOption func(*SNSVerifier)

// WithCertHTTPClient sets the HTTP client that fetches signing certificates (for a proxy or a
// private CA bundle). Redirects are never followed whatever the client says. Its Timeout, if
// shorter, also bounds fetches.
func WithCertHTTPClient(c *http.Client) SNSVerifierOption {
	return func(v *SNSVerifier) {
		if c != nil {
			cp := *c
			v.client = &cp
		}
	}
}

// WithCertFetchTimeout bounds one certificate download (default [DefaultCertFetchTimeout]).
func WithCertFetchTimeout(d time.Duration) SNSVerifierOption {
	return func(v *SNSVerifier) {
		if d > 0 {
			v.timeout = d
		}
	}
}

// withCertURLCheck replaces [CheckSigningCertURL]: tests only, to fetch from a loopback server.
// Deliberately unexported: no configuration and no caller outside this package can relax the host
// check.
func withCertURLCheck(fn func(*url.URL) error) SNSVerifierOption {
	return func(v *SNSVerifier) { v.checkURL = fn }
}

// withClock sets the verifier's clock (tests: certificate validity and cache expiry).
func withClock(now func() time.Time) SNSVerifierOption {
	return func(v *SNSVerifier) { v.now = now }
}

// NewSNSVerifier returns a verifier fetching certificates with http.DefaultTransport's settings.
func NewSNSVerifier(opts ...SNSVerifierOption) *SNSVerifier {
	v := &SNSVerifier{
		client:   &http.Client{},
		checkURL: CheckSigningCertURL,
		timeout:  DefaultCertFetchTimeout,
		now:      time.Now,
		certs:    make(map[string]*certEntry),
	}
	for _, o := range opts {
		o(v)
	}
	v.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return v
}

// snsCanonical is the string SNS signs for a Notification: "Key\nValue\n" for Message, MessageId,
// Subject (only when the notification has one), Timestamp, TopicArn and Type, in that order.
func snsCanonical(n *snsNotification) []byte {
	size := 64 + len(n.MessageID) + len(n.Timestamp) + len(n.TopicARN) + len(n.Type)
	if n.Message != nil {
		size += len(*n.Message)
	}
	if n.Subject != nil {
		size += len(*n.Subject)
	}
	b := make([]byte, 0, size)
	add := func(k, v string) []byte {
		b = append(b, k...)
		b = append(b, '\n')
		b = append(b, v...)
		return append(b, '\n')
	}
	msg := ""
	if n.Message != nil {
		msg = *n.Message
	}
	b = add("Message", msg)
	b = add("MessageId", n.MessageID)
	if n.Subject != nil {
		b = add("Subject", *n.Subject)
	}
	b = add("Timestamp", n.Timestamp)
	b = add("TopicArn", n.TopicARN)
	return add("Type", n.Type)
}

// verify checks n's signature; on failure it returns the envelope field at fault and an error
// wrapping one of the Err* reasons. The cheap checks come first, so a body signed "EXAMPLE" (as
// emulators sign) fails without any network traffic.
func (v *SNSVerifier) verify(ctx context.Context, n *snsNotification) (field string, err error) {
	var hash crypto.Hash
	switch n.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return "SignatureVersion", fmt.Errorf("%w: SignatureVersion %q (want 1 or 2)", ErrSignatureFields, clip(n.SignatureVersion))
	}
	if n.Signature == "" || len(n.Signature) > base64.StdEncoding.EncodedLen(maxSignatureBytes) {
		return "Signature", fmt.Errorf("%w: Signature is empty or too long", ErrSignatureFields)
	}
	sig, err := base64.StdEncoding.DecodeString(n.Signature)
	if err != nil {
		return "Signature", fmt.Errorf("%w: Signature is not base64", ErrSignatureFields)
	}
	u, err := url.Parse(n.SigningCertURL)
	if err != nil {
		return "SigningCertURL", fmt.Errorf("%w: not a URL", ErrSigningCertURL)
	}
	if err := v.checkURL(u); err != nil {
		if !errors.Is(err, ErrSigningCertURL) {
			err = fmt.Errorf("%w: %v", ErrSigningCertURL, err)
		}
		return "SigningCertURL", err
	}
	cert, err := v.cert(ctx, u.String())
	if err != nil {
		return "SigningCertURL", err
	}
	pub, _ := cert.PublicKey.(*rsa.PublicKey) // cert() admits RSA keys only
	var digest []byte
	canonical := snsCanonical(n)
	if hash == crypto.SHA1 {
		d := sha1.Sum(canonical) //nolint:gosec // verifying SignatureVersion 1
		digest = d[:]
	} else {
		d := sha256.Sum256(canonical)
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return "Signature", fmt.Errorf("%w (SignatureVersion %s)", ErrBadSignature, n.SignatureVersion)
	}
	return "", nil
}

// cert returns the certificate at rawURL from the cache, fetching it once when missing or expired.
func (v *SNSVerifier) cert(ctx context.Context, rawURL string) (*x509.Certificate, error) {
	now := v.now()
	v.mu.Lock()
	e, ok := v.certs[rawURL]
	if ok {
		select {
		case <-e.done:
			if now.After(e.expires) {
				ok = false
			}
		default: // a fetch is under way
		}
	}
	owner := !ok
	if owner {
		v.evictLocked(now)
		e = &certEntry{done: make(chan struct{})}
		v.certs[rawURL] = e
	}
	v.mu.Unlock()

	if owner {
		e.cert, e.err = v.fetch(ctx, rawURL)
		if e.err == nil {
			e.expires = now.Add(certCacheTTL)
			if e.cert.NotAfter.Before(e.expires) {
				e.expires = e.cert.NotAfter
			}
		} else {
			e.expires = now.Add(certFailureTTL)
		}
		if e.err != nil && ctx.Err() != nil { // our caller gave up: don't remember that as a failure
			v.mu.Lock()
			if v.certs[rawURL] == e {
				delete(v.certs, rawURL)
			}
			v.mu.Unlock()
		}
		close(e.done)
		return e.cert, e.err
	}
	select {
	case <-e.done:
		return e.cert, e.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for %s: %w", ErrSigningCert, clip(rawURL), ctx.Err())
	}
}

// evictLocked keeps the cache within certCacheSize: expired entries go first, then any settled one.
func (v *SNSVerifier) evictLocked(now time.Time) {
	if len(v.certs) < certCacheSize {
		return
	}
	for k, e := range v.certs {
		select {
		case <-e.done:
			if now.After(e.expires) {
				delete(v.certs, k)
			}
		default:
		}
	}
	for k, e := range v.certs {
		if len(v.certs) < certCacheSize {
			return
		}
		select {
		case <-e.done:
			delete(v.certs, k)
		default:
		}
	}
}

// fetch downloads and parses one signing certificate, reading at most maxCertBytes.
func (v *SNSVerifier) fetch(ctx context.Context, rawURL string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSigningCert, clip(rawURL), err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL unclipped
		}
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrSigningCert, clip(rawURL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetch %s: HTTP %d", ErrSigningCert, clip(rawURL), resp.StatusCode)
	}
	if resp.ContentLength > maxCertBytes {
		return nil, fmt.Errorf("%w: %s: %d bytes, over the %d-byte limit", ErrSigningCert, clip(rawURL), resp.ContentLength, maxCertBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrSigningCert, clip(rawURL), err)
	}
	if len(body) > maxCertBytes {
		return nil, fmt.Errorf("%w: %s: over the %d-byte limit", ErrSigningCert, clip(rawURL), maxCertBytes)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s: no PEM certificate", ErrSigningCert, clip(rawURL))
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSigningCert, clip(rawURL), err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: %s: %T key, want RSA", ErrSigningCert, clip(rawURL), cert.PublicKey)
	}
	if now := v.now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("%w: %s: not valid now (valid %s to %s)", ErrSigningCert, clip(rawURL),
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return cert, nil
}
