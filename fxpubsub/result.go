package fxpubsub

import (
	"time"

	"go.uber.org/zap/zapcore"
)

// ResultType classifies how a message was handled.
type ResultType int

// The results, as in the original. SUCCEEDED, SKIPPED, IGNORED and EXPIRED delete the message;
// RETRIED and FAILED change its visibility so it is redelivered later.
const (
	Succeeded ResultType = iota + 1
	Skipped
	Ignored
	Expired
	Retried
	Failed
)

var resultNames = [...]string{"", "SUCCEEDED", "SKIPPED", "IGNORED", "EXPIRED", "RETRIED", "FAILED"}

func (r ResultType) String() string {
	if r < Succeeded || r > Failed {
		return "UNKNOWN"
	}
	return resultNames[r]
}

// Deletes reports whether the message is deleted (acked) for this result.
func (r ResultType) Deletes() bool { return r >= Succeeded && r <= Expired }

// Level is the log level of the result line.
func (r ResultType) Level() zapcore.Level {
	switch r {
	case Ignored:
		return zapcore.DebugLevel
	case Expired, Failed:
		return zapcore.WarnLevel
	}
	return zapcore.InfoLevel
}

// Result is the outcome of handling one message.
type Result struct {
	Type    ResultType
	Handler string        // name of the handler that ran, if any
	Elapsed time.Duration // time spent handling
	// Err is the handler's error (a *PanicError for a panic), the decode error, or the outcome error
	// (*Nack, *SkipMessage, ...); nil for SUCCEEDED.
	Err error
	// Reason explains SKIPPED, IGNORED, EXPIRED and RETRIED results.
	Reason string
	// Extra carries the outcome error's extra fields.
	Extra map[string]any
	// Retry is the visibility timeout a RETRIED or FAILED message gets.
	Retry time.Duration
}
