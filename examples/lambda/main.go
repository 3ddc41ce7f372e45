package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/microcosm-go/pubsub/examples/readme"
	"github.com/microcosm-go/pubsub/fxpubsub"
	"github.com/microcosm-go/pubsub/fxpubsub/fxlambda"
	"go.uber.org/fx"
)

func main() {
	os.Exit(fxlambda.Main("example",
		fx.Provide(NewCollaborator),
		fxpubsub.AsHandler[readme.SimpleSchema]("", NewSimpleHandler),
	))
}

// Collaborator stands for whatever a real handler works with; this one knows three demo words.
type Collaborator struct{}

// NewCollaborator returns the collaborator.
func NewCollaborator() *Collaborator { return &Collaborator{} }

// errDemo is the failure the demo word "fail" gives.
var errDemo = errors.New("demo failure")

// DoSomething succeeds, except for the demo words "fail", "panic" and "retry".
func (c *Collaborator) DoSomething(_ context.Context, msg *readme.SimpleSchema) error {
	switch msg.Message {
	case "fail":
		return errDemo
	case "panic":
		panic("demo panic")
	case "retry":
		return &fxpubsub.Nack{Timeout: 30 * time.Second, Reason: "demo retry"}
	}
	return nil
}

// SimpleHandler is the README's handler.
type SimpleHandler struct {
	collaborator *Collaborator
}

// NewSimpleHandler is its constructor; fx injects the collaborator.
func NewSimpleHandler(c *Collaborator) *SimpleHandler {
	return &SimpleHandler{collaborator: c}
}

// Handle implements fxpubsub.Handler[readme.SimpleSchema].
func (h *SimpleHandler) Handle(ctx context.Context, msg *readme.SimpleSchema) error {
	return h.collaborator.DoSomething(ctx, msg)
}
