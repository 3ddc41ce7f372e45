package main

import (
	"fmt"
	"regexp"

	"github.com/aws/smithy-go/logging"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// redactingLogger is the --debug SDK log with secrets removed: the SDK dumps every request with
// its Authorization header (the SigV4 signature, and the access key id in its Credential) and
// X-Amz-Security-Token (the session token). secrets are known values to remove as well (the
// access key id of the credentials in use).
type redactingLogger struct {
	l       logging.Logger
	secrets []string
}

// credentialKeyID is the access key id in a SigV4 credential scope: the Authorization header's
// Credential=AKID/date/region/service/aws4_request, or the X-Amz-Credential query parameter.
var credentialKeyID = regexp.MustCompile(`((?i:x-amz-credential|credential)=)[^/\s,&"%]+`)

func (r redactingLogger) Logf(c logging.Classification, format string, v ...any) {
	r.l.Logf(c, "%s", redactKeyIDs(fxpubsub.RedactText(fmt.Sprintf(format, v...), r.secrets...)))
}

// redactKeyIDs replaces the access key id of every SigV4 credential scope in s: an endpoint that
// echoes the request in its error puts it in the error line too.
func redactKeyIDs(s string) string {
	return credentialKeyID.ReplaceAllString(s, "${1}"+fxpubsub.Redacted)
}
