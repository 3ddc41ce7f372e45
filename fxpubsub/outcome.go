package fxpubsub

import (
	"fmt"
	"time"
)

// Nack is the error a handler returns to have its message retried after Timeout (result RETRIED).
// A zero Timeout makes the message visible again at once.
type Nack struct {
	Timeout time.Duration
	Reason  string
	Extra   map[string]any
}

func (e *Nack) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("nack: retry in %s", e.Timeout)
	}
	return fmt.Sprintf("nack: retry in %s: %s", e.Timeout, e.Reason)
}

// SkipMessage is the error a handler returns to stop processing a message that must not be retried
// (a precondition failed); the message is deleted (result SKIPPED).
type SkipMessage struct {
	Reason string
	Extra  map[string]any
}

func (e *SkipMessage) Error() string { return "skip: " + e.Reason }

// IgnoreMessage is the error a handler returns for a message not meant for it; the message is
// deleted and left out of statistics (result IGNORED).
type IgnoreMessage struct {
	Reason string
	Extra  map[string]any
}

func (e *IgnoreMessage) Error() string { return "ignore: " + e.Reason }

// TTLExpired is the error for a message whose hop TTL ran out (loop protection); the message is
// deleted (result EXPIRED).
type TTLExpired struct {
	Reason string
	Extra  map[string]any
}

func (e *TTLExpired) Error() string {
	if e.Reason == "" {
		return "ttl expired"
	}
	return "ttl expired: " + e.Reason
}

// PanicError is a recovered handler panic; Stack is the goroutine's stack at the panic.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
