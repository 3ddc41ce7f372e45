package fxpubsub_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// originalConfig is configuration written for the original: keys only it had, beside keys both
// read.
const originalConfig = `{
  "sns_producer": {"mock_sns": false, "skip": "false"},
  "sqs_consumer": {"sqs_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/orders", "sqs_event": "", "wait_seconds": 1},
  "sqs_envelope": {"strategy_name": "CodecSQSEnvelope", "validate_md5": false},
  "pubsub_send_metrics": {"enabled": false},
  "metrics": {"host": "statsd", "port": 8125},
  "error_policy": {"strict": true},
  "sleep_policy": {"default_sleep_timeout": 0.5},
  "health_reporter": {"healthcheck_server_port": 80},
  "opaque": {"x-request-client": "orders"},
  "health": {"port": 8080},
  "telemetry": {"service": "orders"}
}`

// TestOriginalKeysAreRetired: config written for the original loads; each key only the original
// had gets one warning saying what replaces it, and the keys this library reads get none.
func TestOriginalKeysAreRetired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "original.json")
	if err := os.WriteFile(path, []byte(originalConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := fxconfig.Load(fxconfig.Input{Name: "orders", Files: []string{path}, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fxpubsub.LoadConfig(s); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sns_producer.mock_sns":                   "in-memory",
		"sqs_consumer.sqs_event":                  "Lambda",
		"sqs_envelope.validate_md5":               "MD5",
		"pubsub_send_metrics.enabled":             "telemetry.metrics",
		"metrics.host":                            "MeterProvider",
		"metrics.port":                            "MeterProvider",
		"error_policy.strict":                     "fatal error",
		"sleep_policy.default_sleep_timeout":      "long-poll",
		"health_reporter.healthcheck_server_port": "health.port",
	}
	got := s.KeyWarnings()
	for _, w := range got {
		frag, ok := want[w.Key]
		if !ok || w.Replacement == "" || !strings.Contains(w.Replacement, frag) {
			t.Errorf("unexpected warning %q", w)
		}
		delete(want, w.Key)
	}
	for k := range want {
		t.Errorf("no warning for %s", k)
	}
}

// TestMainStrictConfig: with --strict-config a typo in the environment fails start-up with exit
// code 2, naming the variable and the key it nearly is (without it, the typo was silently ignored
// and the daemon ran on the in-memory backend).
func TestMainStrictConfig(t *testing.T) {
	t.Setenv("MAINTEST__SQS_CONSUMER__SQS_QUEUE_UR", "https://sqs.us-east-1.amazonaws.com/123456789012/orders")
	r := runMain(context.Background(), t, []string{"--testing", "--strict-config"}, "")
	if r.code != fxpubsub.ExitUsage {
		t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
	}
	expectOneLine(t, r.stderr, "strict config", "MAINTEST__SQS_CONSUMER__SQS_QUEUE_UR", "nearest known key: sqs_consumer.sqs_queue_url (MAINTEST__SQS_CONSUMER__SQS_QUEUE_URL)")
	r = runMain(context.Background(), t, []string{"--testing", "--strict-config", "--set", "sqs_consumer.pollers=2", "--set", "strict_config=true"}, "")
	if r.code != fxpubsub.ExitUsage || !strings.Contains(r.stderr, "SQS_QUEUE_UR") {
		t.Fatalf("exit %d, stderr %q; want 2 for the same typo", r.code, r.stderr)
	}
}
