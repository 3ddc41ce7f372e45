package fxsentry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops what it starts: sentry clients, their HTTP connections, fx apps and servers.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
