package fxpubsub

import (
	"fmt"

	"github.com/aws/smithy-go/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sdkLogger writes the AWS SDK's own log lines (for example "falling back to IMDSv1", or a
// response checksum it could not validate) to zap, named "aws": the SDK's WARN at warn level,
// DEBUG at debug level. [LoadAWSConfig] installs it when [AWSOptions.Logger] is set.
type sdkLogger struct{ log *zap.Logger }

// newSDKLogger returns the SDK logger writing to log.
func newSDKLogger(log *zap.Logger) logging.Logger {
	return sdkLogger{log: log.Named("aws").WithOptions(zap.AddCallerSkip(1))}
}

// Logf logs one SDK line.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := zapcore.InfoLevel
	switch c {
	case logging.Warn:
		level = zapcore.WarnLevel
	case logging.Debug:
		level = zapcore.DebugLevel
	}
	if ce := l.log.Check(level, ""); ce != nil {
		ce.Message = fmt.Sprintf(format, v...)
		ce.Write()
	}
}
