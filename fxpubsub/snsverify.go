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
	v := &SNSVerifier{
		client:   &http.Client{},
		checkURL: CheckSigningCertURL,
		timeout:  DefaultCertFetchTimeout,
		now:      time.Now,
		certs:    make(map[string]*certEntry),
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
