package fxpubsub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // signing SignatureVersion 1 test fixtures
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file exports test-only helpers to the fxpubsub_test package: a local SNS "signing service"
// (an RSA key and self-signed certificate served on a loopback HTTPS server) and verifiers that
// may fetch from it. None of it is compiled into the library.

// testSigningKey is generated once per test binary (RSA key generation is slow under -race).
var testSigningKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// SNSTestSigner signs SNS notifications like SNS does, with a local key whose certificate it
// serves at CertURL on a loopback TLS server.
type SNSTestSigner struct {
	Key     *rsa.PrivateKey
	CertPEM []byte
	Server  *httptest.Server
	CertURL string
	// Fetches counts certificate downloads.
	Fetches atomic.Int64
}

// NewSNSTestSigner starts the certificate server (closed in t.Cleanup).
func NewSNSTestSigner(t testing.TB) *SNSTestSigner {
	t.Helper()
	key, err := testSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	s := &SNSTestSigner{Key: key, CertPEM: selfSignedPEM(t, key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/SimpleNotificationService-0123456789abcdef.pem" {
			http.NotFound(w, r)
			return
		}
		s.Fetches.Add(1)
		_, _ = w.Write(s.CertPEM)
	}))
	t.Cleanup(s.Server.Close)
	s.CertURL = s.Server.URL + "/SimpleNotificationService-0123456789abcdef.pem"
	return s
}

// selfSignedPEM returns a PEM certificate for key valid from notBefore to notAfter.
func selfSignedPEM(t testing.TB, key crypto.Signer, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// checkLoopbackCertURL is the test replacement of CheckSigningCertURL: https on 127.0.0.1 only.
func checkLoopbackCertURL(u *url.URL) error {
	if u.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q", ErrSigningCertURL, u.Scheme)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: host %q is not loopback", ErrSigningCertURL, u.Host)
	}
	return nil
}

// Verifier returns a verifier that trusts the signer's server (and only loopback hosts).
func (s *SNSTestSigner) Verifier() *SNSVerifier { return s.VerifierWith(SNSVerifierOptions{}) }

// VerifierWith is Verifier with further options (its HTTP client and URL check are the signer's).
func (s *SNSTestSigner) VerifierWith(o SNSVerifierOptions) *SNSVerifier {
	o.HTTPClient, o.checkURL = s.Server.Client(), checkLoopbackCertURL
	return NewSNSVerifier(o)
}

// SNSTestNotification is an SNS notification as SNS delivers it to SQS (in AWS's key order).
type SNSTestNotification struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	TopicARN         string  `json:"TopicArn"`
	Subject          *string `json:"Subject,omitempty"`
	Message          string  `json:"Message"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
	UnsubscribeURL   string  `json:"UnsubscribeURL"`
}

// Notification returns an unsigned notification of message from topicARN.
func (s *SNSTestSigner) Notification(topicARN, message string) *SNSTestNotification {
	return &SNSTestNotification{
		Type: "Notification", MessageID: "6f0f3c1e-0000-4000-8000-000000000001", TopicARN: topicARN, Message: message,
		Timestamp: "2026-11-27T10:21:55.838Z", SignatureVersion: "2", SigningCertURL: s.CertURL,
		UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
	}
}

// Sign signs n with its SignatureVersion ("1": SHA1withRSA, else SHA256withRSA) and returns it.
func (s *SNSTestSigner) Sign(n *SNSTestNotification) *SNSTestNotification {
	n.Signature = signSNS(s.Key, n)
	return n
}

func signSNS(key *rsa.PrivateKey, n *SNSTestNotification) string {
	msg := n.Message
	canonical := snsCanonical(&snsNotification{Type: n.Type, MessageID: n.MessageID, TopicARN: n.TopicARN, Subject: n.Subject,
		Message: &msg, Timestamp: n.Timestamp})
	hash, digest := crypto.SHA256, sha256.Sum256(canonical)
	sum := digest[:]
	if n.SignatureVersion == "1" {
		d := sha1.Sum(canonical) //nolint:gosec // SignatureVersion 1 fixture
		hash, sum = crypto.SHA1, d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, sum)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// JSON returns the notification as the SQS body.
func (n *SNSTestNotification) JSON() string {
	b, err := json.Marshal(n)
	if err != nil {
		panic(err)
	}
	return string(b)
}
