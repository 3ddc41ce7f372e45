package readme

import (
	"testing"

	"github.com/microcosm-go/pubsub/internal/awstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }
