package handlers

import (
	"context"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// Step is one typed stage of a handler: it turns an In into an Out, or stops the handler with an
// error (an outcome error such as *fxpubsub.SkipMessage, or a failure). Steps compose with [Then]
// and become a handler with [FromStep]; this is the typed, reflection-free form of the original's
// Chain DSL, whose name-injected context is replaced by ordinary values passed from step to step.
type Step[In, Out any] func(ctx context.Context, in In) (Out, error)

// Then runs first, then next on first's result; an error from first stops there.
func Then[A, B, C any](first Step[A, B], next Step[B, C]) Step[A, C] {
	return func(ctx context.Context, a A) (C, error) {
		b, err := first(ctx, a)
		if err != nil {
			var zero C
			return zero, err
		}
		return next(ctx, b)
	}
}

// FromStep returns a handler that runs s on each message's content and discards its result.
func FromStep[T, Out any](s Step[*T, Out]) fxpubsub.Handler[T] {
	return fxpubsub.HandlerFunc[T](func(ctx context.Context, content *T) error {
		_, err := s(ctx, content)
		return err
	})
}

// Sequence returns a handler that runs steps in order on the same content, stopping at the first
// error, which it returns.
func Sequence[T any](steps ...func(ctx context.Context, content *T) error) fxpubsub.Handler[T] {
	return fxpubsub.HandlerFunc[T](func(ctx context.Context, content *T) error {
		for _, s := range steps {
			if err := s(ctx, content); err != nil {
				return err
			}
		}
		return nil
	})
}
