package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestDebugLogKeepsSecrets runs a command with --debug (every SDK request and response logged to
// stderr) against an endpoint that refuses with 403 and echoes the request, with credentials and a
// session token in the environment: neither they (the access key id included) nor the request
// signatures may reach stdout or stderr.
func TestDebugLogKeepsSecrets(t *testing.T) {
	const secretKey, token = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCLISECRET", "FwoGZXIvYXdzECLI/SESSION+TOKEN/xyz=="
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLIEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Setenv("AWS_SESSION_TOKEN", token)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	sigRE := regexp.MustCompile(`Signature=([0-9a-f]{64})`)
	var mu sync.Mutex
	var sigs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dump, _ := httputil.DumpRequest(r, true)
		if m := sigRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			mu.Lock()
			sigs = append(sigs, m[1])
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#AccessDenied", "message": "denied: " + string(dump)})
	}))
	defer srv.Close()
	r := pubsub(t, "depth", "--debug", "--endpoint-url", srv.URL, "--queue-url", srv.URL+"/000000000000/q")
	if r.code == exitOK {
		t.Fatalf("depth succeeded against a refusing endpoint: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Authorization") || !strings.Contains(r.stderr, "AccessDenied") {
		t.Fatalf("--debug logged no request, or the refusal is missing:\n%s", r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sigs) == 0 {
		t.Fatal("no signed request reached the endpoint")
	}
	for _, s := range append([]string{secretKey, token, "AKIDCLIEXAMPLE"}, sigs...) {
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if i := strings.Index(out, s); i >= 0 {
				t.Errorf("%s leaks %q: …%s…", name, s, out[max(0, i-100):min(len(out), i+len(s)+20)])
			}
		}
	}
}
