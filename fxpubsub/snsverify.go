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
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

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

// snsRegion is the region of a topic ARN: lowercase letters, digits and dashes.
var snsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// SigningCertHost returns the only host SNS signs the topic's notifications from:
// sns.<region>.amazonaws.com, or sns.<region>.amazonaws.com.cn in the China partition (aws-cn). It
// fails, wrapping [ErrSigningCertURL], for an ARN that is not an SNS topic ARN of the aws, aws-cn or
// aws-us-gov partition.
func SigningCertHost(topicARN string) (string, error) {
	parts := strings.SplitN(topicARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || !snsRegion.MatchString(parts[3]) {
		return "", fmt.Errorf("%w: TopicArn %q names no SNS region", ErrSigningCertURL, clip(topicARN))
	}
	switch parts[1] {
	case "aws", "aws-us-gov":
		return "sns." + parts[3] + ".amazonaws.com", nil
	case "aws-cn":
		return "sns." + parts[3] + ".amazonaws.com.cn", nil
	}
	return "", fmt.Errorf("%w: TopicArn %q: partition %q not supported", ErrSigningCertURL, clip(topicARN), clip(parts[1]))
}

// CheckSigningCertURL accepts only https://<SigningCertHost(topicARN)>/<name>.pem, with no user
// info, port, query or fragment: the certificate must come from the SNS endpoint of the topic's own
// region (so not from sns.s3.amazonaws.com, an S3 bucket named "sns", nor from another region).
// Errors wrap [ErrSigningCertURL].
func CheckSigningCertURL(u *url.URL, topicARN string) error {
	want, err := SigningCertHost(topicARN)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("%w: scheme %q (want https)", ErrSigningCertURL, clip(u.Scheme))
	case u.Opaque != "" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Errorf("%w: %q has user info, a port, a query or a fragment", ErrSigningCertURL, clip(u.Redacted()))
	case u.Host != want:
		return fmt.Errorf("%w: host %q (want %s, the SNS endpoint of the topic's region)", ErrSigningCertURL, clip(u.Host), want)
	case !strings.HasSuffix(u.Path, ".pem") || strings.Contains(u.Path, ".."):
		return fmt.Errorf("%w: path %q (want /<name>.pem)", ErrSigningCertURL, clip(u.Path))
	}
	return nil
}

// SNSVerifier verifies SNS message signatures (SignatureVersion 1, SHA1withRSA, and 2,
// SHA256withRSA) over the canonical string AWS documents for a Notification. Signing certificates
// are fetched over HTTPS only from the SNS endpoint of the topic's own region (see
// [CheckSigningCertURL]), with a timeout, and cached in an LRU of 64 (one fetch per URL at a time,
// through a singleflight group; a certificate is kept for a day or until it expires, a failure for
// a few seconds). It is safe for concurrent use.
type SNSVerifier struct {
	client   *http.Client
	checkURL func(*url.URL) error // nil: CheckSigningCertURL with the topic's ARN
	timeout  time.Duration
	now      func() time.Time

	certs   *lru.Cache[string, certEntry]
	fetches singleflight.Group
}

// certEntry is a cached fetch: a certificate or the error fetching it, until expires.
type certEntry struct {
	cert    *x509.Certificate
	err     error
	expires time.Time
}

// errFetchAbandoned is what waiters see when the call that started a shared fetch gave up: they
// fetch again with their own context.
var errFetchAbandoned = errors.New("certificate fetch abandoned by its caller")

// SNSVerifierOptions configure [NewSNSVerifier]; zero values mean defaults.
type SNSVerifierOptions struct {
	// HTTPClient fetches signing certificates (for a proxy or a private CA bundle; default: a
	// client with http.DefaultTransport's settings). It is copied; redirects are never followed
	// whatever it says, and its Timeout, if shorter, also bounds fetches.
	HTTPClient *http.Client
	// FetchTimeout bounds one certificate download (default [DefaultCertFetchTimeout]).
	FetchTimeout time.Duration

	// checkURL replaces [CheckSigningCertURL]: tests only, to fetch from a loopback server.
	// Deliberately unexported: no configuration and no caller outside this package can relax the
	// host check.
	checkURL func(*url.URL) error
	// now is the verifier's clock (tests: certificate validity and cache expiry).
	now func() time.Time
}

// NewSNSVerifier returns a verifier configured by opts.
func NewSNSVerifier(opts SNSVerifierOptions) *SNSVerifier {
	certs, _ := lru.New[string, certEntry](certCacheSize) // fails only for a size below 1
	v := &SNSVerifier{
		client:  &http.Client{},
		timeout: DefaultCertFetchTimeout,
		now:     time.Now,
		certs:   certs,
	}
	if opts.HTTPClient != nil {
		cp := *opts.HTTPClient
		v.client = &cp
	}
	if opts.FetchTimeout > 0 {
		v.timeout = opts.FetchTimeout
	}
	if opts.checkURL != nil {
		v.checkURL = opts.checkURL
	}
	if opts.now != nil {
		v.now = opts.now
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
	check := func(u *url.URL) error { return CheckSigningCertURL(u, n.TopicARN) }
	if v.checkURL != nil {
		check = v.checkURL
	}
	if err := check(u); err != nil {
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
// Concurrent callers share one fetch; each stops waiting when its own context ends. The fetch runs
// in the singleflight group's goroutine under the context of the call that started it and
// FetchTimeout, so it ends when that caller gives up or the timeout passes, whichever is first.
func (v *SNSVerifier) cert(ctx context.Context, rawURL string) (*x509.Certificate, error) {
	for {
		if e, ok := v.certs.Get(rawURL); ok && !v.now().After(e.expires) {
			return e.cert, e.err
		}
		ch := v.fetches.DoChan(rawURL, func() (any, error) {
			return v.fetchAndCache(ctx, rawURL), nil
		})
		select {
		case r := <-ch:
			e := r.Val.(certEntry)
			if errors.Is(e.err, errFetchAbandoned) && ctx.Err() == nil {
				continue // another caller's fetch, abandoned: fetch with ours
			}
			if errors.Is(e.err, errFetchAbandoned) {
				return nil, fmt.Errorf("%w: fetch %s: %w", ErrSigningCert, clip(rawURL), ctx.Err())
			}
			return e.cert, e.err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for %s: %w", ErrSigningCert, clip(rawURL), ctx.Err())
		}
	}
}

// fetchAndCache fetches the certificate and caches the outcome, unless the fetch failed because ctx
// ended (that is no fact about the certificate).
func (v *SNSVerifier) fetchAndCache(ctx context.Context, rawURL string) certEntry {
	cert, err := v.fetch(ctx, rawURL)
	now := v.now()
	if err != nil && ctx.Err() != nil {
		return certEntry{err: fmt.Errorf("%w: %w", errFetchAbandoned, err)}
	}
	e := certEntry{cert: cert, err: err, expires: now.Add(certFailureTTL)}
	if err == nil {
		e.expires = now.Add(certCacheTTL)
		if cert.NotAfter.Before(e.expires) {
			e.expires = cert.NotAfter
		}
	}
	v.certs.Add(rawURL, e)
	return e
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
