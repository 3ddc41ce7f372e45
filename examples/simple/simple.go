package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// SimpleMediaType is SimpleSchema's media type.
const SimpleMediaType = "application/vnd.globality.pubsub.simple"

// SimpleSchema is a single schema that just sends a text string.
type SimpleSchema struct {
	Message   string  `json:"message" validate:"required"`
	Timestamp float64 `json:"timestamp" validate:"required"`
}

// PubSubMediaType makes SimpleSchema an fxpubsub.MediaTyped: registrations need no media type.
func (SimpleSchema) PubSubMediaType() string { return SimpleMediaType }

// Collaborator stands for whatever a real handler works with (a database, a client). It records
// the messages it was given.
type Collaborator struct {
	mu   sync.Mutex
	seen []string
}

// NewCollaborator returns an empty collaborator.
func NewCollaborator() *Collaborator { return &Collaborator{} }

// DoSomething records msg.
func (c *Collaborator) DoSomething(_ context.Context, msg *SimpleSchema) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, msg.Message)
	return nil
}

// Seen returns the messages recorded so far.
func (c *Collaborator) Seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// SimpleHandler handles SimpleSchema messages by passing them to its collaborator.
type SimpleHandler struct {
	collaborator *Collaborator
}

// NewSimpleHandler returns a handler; fx injects the collaborator.
func NewSimpleHandler(c *Collaborator) *SimpleHandler {
	return &SimpleHandler{collaborator: c}
}

// Handle implements fxpubsub.Handler[SimpleSchema]. Returning nil makes the message SUCCEEDED (it
// is deleted); any other error would make it FAILED (retried later).
func (h *SimpleHandler) Handle(ctx context.Context, msg *SimpleSchema) error {
	return h.collaborator.DoSomething(ctx, msg)
}

// Output serialises lines written by concurrent handlers.
type Output struct {
	mu sync.Mutex
	w  io.Writer
}

// Printf writes one formatted line.
func (o *Output) Printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format+"\n", args...)
}

// NewResultPrinter returns a result hook printing one line per handled message: its result, its
// message id, and its text or what went wrong.
func NewResultPrinter(out *Output) fxpubsub.ResultHook {
	return func(_ context.Context, m *fxpubsub.Message, r fxpubsub.Result) {
		detail := ""
		switch msg, ok := fxpubsub.ContentAs[SimpleSchema](m); {
		case r.Err != nil && r.Type == fxpubsub.Failed:
			detail = r.Err.Error()
		case r.Reason != "":
			detail = r.Reason
		case ok:
			detail = fmt.Sprintf("%q", msg.Message)
		}
		out.Printf("%-9s %s %s", r.Type, m.MessageID, detail)
	}
}
