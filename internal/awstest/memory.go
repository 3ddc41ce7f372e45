package awstest

import (
	"testing"

	"github.com/microcosm-go/pubsub/fxpubsub/pubsubmem"
)

// Memory returns a target backed by a fresh in-memory backend (package pubsubmem), closed in
// t.Cleanup after everything the test created on it has been cleaned up.
func Memory(t testing.TB) Target {
	t.Helper()
	b := pubsubmem.New()
	t.Cleanup(b.Close)
	return Target{
		Name: "memory",
		SNS:  b.SNS(),
		SQS:  b.SQS(),
		S3:   b.S3(),
		Caps: Caps{
			InProcess: true,
			// Delivery happens inside Publish, as on moto.
			SyncDelivery: true,
		},
	}
}
