package fxpubsub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testTopic = "arn:aws:sns:us-east-1:123456789012:orders"

func innerOrder(t *testing.T) string {
	t.Helper()
	return `{"mediaType":"` + orderMT + `","uri":"https://o/1","order_id":"7","opaqueData":{"x-request-id":"r1"}}`
}

// checked decodes body with the codec envelope and checks.
func checked(t *testing.T, checks EnvelopeChecks, body string) (Decoded, snsInfo, error) {
	t.Helper()
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	return decodeChecked(context.Background(), EnvelopeCodec, r, newEnvelopeGuard(checks), []byte(body))
}

// wantRefused asserts a *DecodeError wrapping an *EnvelopeError of check wrapping reason, with
// nothing decoded.
func wantRefused(t *testing.T, d Decoded, info snsInfo, err error, check string, reason error) *EnvelopeError {
	t.Helper()
	var de *DecodeError
	var ee *EnvelopeError
	if !errors.As(err, &de) || !errors.As(err, &ee) {
		t.Fatalf("want *DecodeError wrapping *EnvelopeError, got %T: %v", err, err)
	}
	if ee.Check != check || !errors.Is(err, reason) {
		t.Fatalf("want check %s refusing with %v, got %v", check, reason, err)
	}
	if d.MediaType != "" || d.Content != nil || len(d.Opaque) != 0 || info != (snsInfo{}) {
		t.Fatalf("a refused body must not be decoded, got %+v %+v", d, info)
	}
	return ee
}

func TestSNSVerifierAcceptsSignatureVersions(t *testing.T) {
	s := NewSNSTestSigner(t)
	v := s.Verifier()
	subject := "order"
	for _, version := range []string{"1", "2"} {
		for _, subj := range []*string{nil, &subject} {
			n := s.Notification(testTopic, innerOrder(t))
			n.SignatureVersion, n.Subject = version, subj
			d, info, err := checked(t, EnvelopeChecks{Verifier: v, AllowedTopicARNs: []string{testTopic}, RequireEnvelope: true}, s.Sign(n).JSON())
			if err != nil {
				t.Fatalf("version %s subject %v: %v", version, subj != nil, err)
			}
			if c, ok := d.Content.(*orderCreated); !ok || c.OrderID != "7" || info.topicARN != testTopic || d.Opaque.Get("x-request-id") != "r1" {
				t.Fatalf("decoded %+v %+v", d, info)
			}
		}
	}
	if got := s.Fetches.Load(); got != 1 {
		t.Fatalf("certificate fetched %d times, want 1 (cached)", got)
	}
}

func TestSNSVerifierFetchesOnceConcurrently(t *testing.T) {
	s := NewSNSTestSigner(t)
	v := s.Verifier()
	body := s.Sign(s.Notification(testTopic, innerOrder(t))).JSON()
	r := newTestRegistry(t, SchemaFor[orderCreated](orderMT))
	g := newEnvelopeGuard(EnvelopeChecks{Verifier: v})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			_, _, err := decodeChecked(context.Background(), EnvelopeCodec, r, g, []byte(body))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Fetches.Load(); got != 1 {
		t.Fatalf("certificate fetched %d times by 32 concurrent verifications, want 1", got)
	}
}

func TestSNSVerifierRefusesForgeries(t *testing.T) {
	s := NewSNSTestSigner(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	subject := "s"
	evil := `{"mediaType":"` + orderMT + `","uri":"https://evil/1","order_id":"666","opaqueData":{}}`
	tests := []struct {
		name   string
		forge  func(n *SNSTestNotification)
		field  string
		reason error
	}{
		{"message replaced after signing", func(n *SNSTestNotification) { s.Sign(n); n.Message = evil }, "Signature", ErrBadSignature},
		{"topic replaced after signing", func(n *SNSTestNotification) { s.Sign(n); n.TopicARN = "arn:aws:sns:us-east-1:123456789012:other" }, "Signature", ErrBadSignature},
		{"subject added after signing", func(n *SNSTestNotification) { s.Sign(n); n.Subject = &subject }, "Signature", ErrBadSignature},
		{"message id replaced", func(n *SNSTestNotification) { s.Sign(n); n.MessageID = "x" }, "Signature", ErrBadSignature},
		{"timestamp replaced", func(n *SNSTestNotification) { s.Sign(n); n.Timestamp = "2030-01-01T00:00:00.000Z" }, "Signature", ErrBadSignature},
		{"version 1 signature labelled 2", func(n *SNSTestNotification) { n.SignatureVersion = "1"; s.Sign(n); n.SignatureVersion = "2" }, "Signature", ErrBadSignature},
		{"signed by another key", func(n *SNSTestNotification) { n.Signature = signSNS(other, n) }, "Signature", ErrBadSignature},
		{"emulator signature", func(n *SNSTestNotification) { n.SignatureVersion, n.Signature = "1", "EXAMPLE" }, "Signature", ErrSignatureFields},
		{"no signature", func(n *SNSTestNotification) {}, "Signature", ErrSignatureFields},
		{"unknown version", func(n *SNSTestNotification) { n.SignatureVersion = "3"; s.Sign(n) }, "SignatureVersion", ErrSignatureFields},
		{"no version", func(n *SNSTestNotification) { n.SignatureVersion = ""; s.Sign(n) }, "SignatureVersion", ErrSignatureFields},
		{"huge signature", func(n *SNSTestNotification) { n.Signature = strings.Repeat("A", 1<<20) }, "Signature", ErrSignatureFields},
		{"cert URL over http", func(n *SNSTestNotification) {
			n.SigningCertURL = strings.Replace(n.SigningCertURL, "https:", "http:", 1)
			s.Sign(n)
		}, "SigningCertURL", ErrSigningCertURL},
		{"cert URL elsewhere", func(n *SNSTestNotification) {
			n.SigningCertURL = "https://sns.us-east-1.amazonaws.com.evil.example/x.pem"
			s.Sign(n)
		}, "SigningCertURL", ErrSigningCertURL},
		{"cert URL not found", func(n *SNSTestNotification) { n.SigningCertURL = s.Server.URL + "/missing.pem"; s.Sign(n) }, "SigningCertURL", ErrSigningCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := s.Notification(testTopic, innerOrder(t))
			tt.forge(n)
			d, info, err := checked(t, EnvelopeChecks{Verifier: s.Verifier()}, n.JSON())
			ee := wantRefused(t, d, info, err, CheckVerifySignatures, tt.reason)
			var de *DecodeError
			errors.As(err, &de)
			if de.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", de.Field, tt.field, err)
			}
			if ee.TopicARN != n.TopicARN {
				t.Errorf("error names topic %q, want the claimed %q", ee.TopicARN, n.TopicARN)
			}
			if len(err.Error()) > 2048 {
				t.Errorf("error text is %d bytes: attacker-controlled fields must be clipped", len(err.Error()))
			}
		})
	}
}

func TestDefaultVerifierRefusesLoopbackCertURL(t *testing.T) {
	s := NewSNSTestSigner(t)
	// Even with the test server's client, the default URL check refuses a loopback host: only the
	// unexported test hook can relax it.
	v := NewSNSVerifier(SNSVerifierOptions{HTTPClient: s.Server.Client()})
	d, info, err := checked(t, EnvelopeChecks{Verifier: v}, s.Sign(s.Notification(testTopic, innerOrder(t))).JSON())
	wantRefused(t, d, info, err, CheckVerifySignatures, ErrSigningCertURL)
	if n := s.Fetches.Load(); n != 0 {
		t.Fatalf("fetched the certificate %d times from a refused URL", n)
	}
}

func TestCheckSigningCertURL(t *testing.T) {
	const east, china, gov = "arn:aws:sns:us-east-1:123456789012:orders", "arn:aws-cn:sns:cn-north-1:123456789012:orders",
		"arn:aws-us-gov:sns:us-gov-west-1:123456789012:orders"
	type tc struct{ url, topic string }
	good := []tc{
		{"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem", east},
		{"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem", "arn:aws:sns:eu-west-1:123456789012:orders"},
		{"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", china},
		{"https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem", gov},
	}
	bad := []tc{
		// S3 addresses of a bucket named "sns": the old host pattern accepted them.
		{"https://sns.s3.amazonaws.com/x.pem", east},
		{"https://sns.s3-external-1.amazonaws.com/x.pem", east},
		{"https://sns.s3.amazonaws.com/x.pem", "arn:aws:sns:s3:123456789012:orders"},
		{"https://sns.s3-external-1.amazonaws.com/x.pem", "arn:aws:sns:s3-external-1:123456789012:orders"},
		// Another region than the topic's, or the wrong partition's domain.
		{"https://sns.eu-west-1.amazonaws.com/x.pem", east},
		{"https://sns.cn-north-1.amazonaws.com/x.pem", china},
		{"https://sns.us-east-1.amazonaws.com.cn/x.pem", east},
		{"https://sns.cn-north-1.amazonaws.com.cn/x.pem", east},
		// A TopicArn that names no usable region or partition.
		{"https://sns.us-east-1.amazonaws.com/x.pem", ""},
		{"https://sns.us-east-1.amazonaws.com/x.pem", "arn:aws:sqs:us-east-1:123456789012:orders"},
		{"https://sns.us-east-1.amazonaws.com/x.pem", "arn:aws-iso:sns:us-east-1:123456789012:orders"},
		{"https://sns..amazonaws.com/x.pem", "arn:aws:sns::123456789012:orders"},
		// The URL's shape.
		{"http://sns.us-east-1.amazonaws.com/x.pem", east},
		{"https://sns.us-east-1.amazonaws.com.evil.example/x.pem", east},
		{"https://evil.example/sns.us-east-1.amazonaws.com/x.pem", east},
		{"https://sns.us-east-1.amazonaws.com:8443/x.pem", east},
		{"https://user:pw@sns.us-east-1.amazonaws.com/x.pem", east},
		{"https://sns.us-east-1.amazonaws.com/x.pem?redirect=https://evil", east},
		{"https://sns.us-east-1.amazonaws.com/x.pem#frag", east},
		{"https://sns.us-east-1.amazonaws.com/x.txt", east},
		{"https://sns.us-east-1.amazonaws.com/a/../x.pem", east},
		{"https://SNS.us-east-1.amazonaws.com/x.pem", east},
		{"https://sqs.us-east-1.amazonaws.com/x.pem", east},
		{"https://127.0.0.1/x.pem", east},
		{"file:///etc/passwd.pem", east},
		{"https:sns.us-east-1.amazonaws.com/x.pem", east},
	}
	for _, c := range good {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSigningCertURL(u, c.topic); err != nil {
			t.Errorf("%s for %s: %v", c.url, c.topic, err)
		}
	}
	for _, c := range bad {
		u, err := url.Parse(c.url)
		if err != nil {
			continue
		}
		if err := CheckSigningCertURL(u, c.topic); !errors.Is(err, ErrSigningCertURL) {
			t.Errorf("%s for %q: accepted (%v)", c.url, c.topic, err)
		}
	}
}

// TestVerifierRefusesCertFromOtherRegion: a notification of a us-east-1 topic whose SigningCertURL
// points at another region's SNS host (or at S3) is refused before any fetch.
func TestVerifierRefusesCertFromOtherRegion(t *testing.T) {
	v := NewSNSVerifier(SNSVerifierOptions{})
	s := NewSNSTestSigner(t)
	for _, certURL := range []string{"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.s3.amazonaws.com/SimpleNotificationService-abc.pem"} {
		n := s.Notification(testTopic, innerOrder(t))
		n.SigningCertURL = certURL
		d, info, err := checked(t, EnvelopeChecks{Verifier: v}, s.Sign(n).JSON())
		ee := wantRefused(t, d, info, err, CheckVerifySignatures, ErrSigningCertURL)
		if !strings.Contains(err.Error(), "sns.us-east-1.amazonaws.com") {
			t.Errorf("the error should name the host wanted: %v (%+v)", err, ee)
		}
	}
}

func TestCertFetchIsBounded(t *testing.T) {
	key, err := testSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expired := selfSignedPEM(t, key, now.Add(-2*time.Hour), now.Add(-time.Hour))
	ecCert := selfSignedPEM(t, ecKey, now.Add(-time.Hour), now.Add(time.Hour))
	valid := selfSignedPEM(t, key, now.Add(-time.Hour), now.Add(time.Hour))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge.pem": // claims a gigabyte
			w.Header().Set("Content-Length", strconv.Itoa(1<<30))
			_, _ = w.Write(valid)
		case "/endless.pem": // no length, streams until the client stops reading
			chunk := []byte(strings.Repeat("A", 4096))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/hang.pem":
			<-r.Context().Done()
		case "/redirect.pem":
			http.Redirect(w, r, "/valid.pem", http.StatusFound)
		case "/expired.pem":
			_, _ = w.Write(expired)
		case "/ecdsa.pem":
			_, _ = w.Write(ecCert)
		case "/garbage.pem":
			_, _ = w.Write([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		case "/valid.pem":
			_, _ = w.Write(valid)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	v := NewSNSVerifier(SNSVerifierOptions{HTTPClient: srv.Client(), checkURL: checkLoopbackCertURL, FetchTimeout: 500 * time.Millisecond})
	for _, path := range []string{"/huge.pem", "/endless.pem", "/hang.pem", "/redirect.pem", "/expired.pem", "/ecdsa.pem", "/garbage.pem"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			_, err := v.cert(context.Background(), srv.URL+path)
			if !errors.Is(err, ErrSigningCert) {
				t.Fatalf("want ErrSigningCert, got %v", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %s", time.Since(start))
			}
			t.Log(err)
		})
	}
	if _, err := v.cert(context.Background(), srv.URL+"/valid.pem"); err != nil {
		t.Fatal(err)
	}
}

func TestCertCacheExpiry(t *testing.T) {
	s := NewSNSTestSigner(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v := s.VerifierWith(SNSVerifierOptions{now: clock})
	if _, err := v.cert(context.Background(), s.CertURL); err != nil {
		t.Fatal(err)
	}
	if _, err := v.cert(context.Background(), s.CertURL); err != nil || s.Fetches.Load() != 1 {
		t.Fatalf("second lookup: %v, %d fetches", err, s.Fetches.Load())
	}
	// A failure is remembered briefly, then retried.
	missing := s.Server.URL + "/missing.pem"
	for range 3 {
		if _, err := v.cert(context.Background(), missing); !errors.Is(err, ErrSigningCert) {
			t.Fatal(err)
		}
	}
	now = now.Add(certFailureTTL + time.Second)
	if _, err := v.cert(context.Background(), s.CertURL); err != nil {
		t.Fatal(err)
	}
	if s.Fetches.Load() != 1 {
		t.Fatalf("a valid certificate was refetched within its cache lifetime: %d fetches", s.Fetches.Load())
	}
	// The certificate expires in an hour: the cache never serves it past NotAfter.
	now = now.Add(2 * time.Hour)
	if _, err := v.cert(context.Background(), s.CertURL); !errors.Is(err, ErrSigningCert) || s.Fetches.Load() != 2 {
		t.Fatalf("after NotAfter: %v, %d fetches", err, s.Fetches.Load())
	}
	// The cache stays bounded whatever URLs forged envelopes name.
	for i := range 3 * certCacheSize {
		_, _ = v.cert(context.Background(), s.Server.URL+"/missing-"+strconv.Itoa(i)+".pem")
	}
	if size := v.certs.Len(); size > certCacheSize {
		t.Fatalf("cache holds %d entries, limit %d", v.certs.Len(), certCacheSize)
	}
}

func TestCertWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	defer close(release)
	v := NewSNSVerifier(SNSVerifierOptions{HTTPClient: srv.Client(), checkURL: checkLoopbackCertURL})
	done := make(chan error, 1)
	go func() { _, err := v.cert(context.Background(), srv.URL+"/slow.pem"); done <- err }()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.cert(ctx, srv.URL+"/slow.pem"); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrSigningCert) {
		t.Fatalf("a waiter whose context ends must return at once, got %v", err)
	}
	release <- struct{}{}
	if err := <-done; !errors.Is(err, ErrSigningCert) {
		t.Fatal(err)
	}
}
