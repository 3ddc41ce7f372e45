package readme

import (
	"context"
	"os"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// Collaborator is what the README's handler works with.
type Collaborator struct{ seen []string }

// NewCollaborator returns an empty collaborator.
func NewCollaborator() *Collaborator { return &Collaborator{} }

// DoSomething records the message.
func (c *Collaborator) DoSomething(_ context.Context, msg *SimpleSchema) error {
	c.seen = append(c.seen, msg.Message)
	return nil
}

// SimpleHandler is the README's "Asynchronous workers" handler.
type SimpleHandler struct {
	collaborator *Collaborator
}

// NewSimpleHandler is its constructor; fx injects the collaborator.
func NewSimpleHandler(c *Collaborator) *SimpleHandler {
	return &SimpleHandler{collaborator: c}
}

// Handle implements fxpubsub.Handler[SimpleSchema].
func (h *SimpleHandler) Handle(ctx context.Context, msg *SimpleSchema) error {
	return h.collaborator.DoSomething(ctx, msg)
}

// daemonOptions are the options the README's main passes to fxpubsub.Main.
func daemonOptions() []fx.Option {
	return []fx.Option{
		fx.Provide(NewCollaborator),
		fxpubsub.AsHandler[SimpleSchema]("", NewSimpleHandler),
	}
}

// Main is the README's main function body.
func Main() {
	os.Exit(fxpubsub.Main("example", os.Args[1:],
		fx.Provide(NewCollaborator),
		fxpubsub.AsHandler[SimpleSchema]("", NewSimpleHandler),
	))
}
