package main

import (
	"fmt"

	"github.com/aws/smithy-go/logging"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// redactingLogger is the --debug SDK log with secrets removed: the SDK dumps every request with
// its Authorization header (the SigV4 signature) and X-Amz-Security-Token (the session token).
type redactingLogger struct{ l logging.Logger }

func (r redactingLogger) Logf(c logging.Classification, format string, v ...any) {
	r.l.Logf(c, "%s", fxpubsub.RedactText(fmt.Sprintf(format, v...)))
}
