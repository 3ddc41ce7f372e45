package fxpubsub_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The S3 client of section large_payload is built as the SNS and SQS clients are: its credentials
// are retrieved at start-up (missing ones are a *CredentialsError naming the S3 client's profile),
// and the SDK's own log lines go to zap. Here SNS and SQS have a profile with keys, and S3 a
// profile without, so only S3's chain reaches the (loopback, token-refusing) instance metadata
// service.
func TestNewBackendS3ClientCredentialsAndLogs(t *testing.T) {
	cfg := credentialsConfig(t)
	url, requests := refusingIMDS(t)
	noCredentials(t, url)
	profiles := "[profile keys]\naws_access_key_id = test\naws_secret_access_key = test\n\n[profile s3-without-keys]\nregion = us-east-1\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Producer.ProfileName, cfg.Consumer.ProfileName = "keys", "keys"
	cfg.Producer.RegionName, cfg.Consumer.RegionName = "us-east-1", "us-east-1"
	cfg.LargePayload.Bucket = "payloads"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Without large_payload.profile_name the S3 client uses the producer's profile: it starts.
	b, err := fxpubsub.NewBackend(ctx, cfg, fxconfig.Metadata{Name: "creds"})
	if err != nil || b.S3 == nil {
		t.Fatalf("NewBackend with the producer's profile for S3: %v (S3 client %v)", err, b)
	}
	if requests.Load() != 0 {
		t.Fatalf("IMDS asked %d times although every client had keys", requests.Load())
	}

	cfg.LargePayload.ProfileName = "s3-without-keys"
	core, logs := observer.New(zapcore.DebugLevel)
	_, err = fxpubsub.NewBackendWithLogger(ctx, cfg, fxconfig.Metadata{Name: "creds"}, zap.New(core))
	ce := expectCredentialsError(t, err, "none found")
	if !strings.HasPrefix(err.Error(), "s3 client: ") || ce.Profile != "s3-without-keys" {
		t.Errorf("error %q (profile %q), want it to name the s3 client and its profile", err, ce.Profile)
	}
	if requests.Load() == 0 {
		t.Error("the loopback IMDS was never asked")
	}
	if logs.FilterLoggerName("aws").FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("falling back to IMDSv1").Len() == 0 {
		t.Errorf("the S3 client's SDK warning did not reach zap; logged: %v", logs.AllUntimed())
	}
}
