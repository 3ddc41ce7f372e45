package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/microcosm-go/pubsub/fxpubsub"
	"go.uber.org/fx"
)

// RepublisherOptions configure a [BatchRepublisher].
type RepublisherOptions struct {
	// AllowedTopics, if not empty, lists the topic ARNs inner messages may be republished to; a
	// batch naming any other topic is SKIPPED and nothing of it is published. Empty allows every
	// topic, as the original did: then anyone who can send to the queue can make the service
	// publish to any topic it may publish to.
	AllowedTopics []string
}

// BatchRepublisher handles [fxpubsub.BatchMessageMediaType]: it republishes every inner message
// of a batch verbatim (topic, attributes and body, whose opaqueData is kept) with
// [fxpubsub.Producer.Republish], so batches built by [fxpubsub.Producer.DeferredBatch] or by the
// original's DeferredBatchProducer turn back into the messages they hold. It is the original's
// PublishBatchMessage handler.
//
// Delivery is at least once: when some inner messages fail to publish the handler fails and the
// whole batch is retried, so the inner messages that were published are published again.
type BatchRepublisher struct {
	producer *fxpubsub.Producer
	allowed  map[string]bool
}

var _ fxpubsub.Handler[fxpubsub.BatchMessage] = (*BatchRepublisher)(nil)

// NewBatchRepublisher returns a republisher publishing with p.
func NewBatchRepublisher(p *fxpubsub.Producer, opts RepublisherOptions) *BatchRepublisher {
	r := &BatchRepublisher{producer: p}
	if len(opts.AllowedTopics) > 0 {
		r.allowed = make(map[string]bool, len(opts.AllowedTopics))
		for _, t := range opts.AllowedTopics {
			r.allowed[t] = true
		}
	}
	return r
}

// HandlerName returns "BatchRepublisher".
func (r *BatchRepublisher) HandlerName() string { return "BatchRepublisher" }

// Handle republishes the batch's messages.
func (r *BatchRepublisher) Handle(ctx context.Context, b *fxpubsub.BatchMessage) error {
	if r.allowed != nil {
		bad := map[string]bool{}
		for _, m := range b.Messages {
			if !r.allowed[m.TopicARN] {
				bad[m.TopicARN] = true
			}
		}
		if len(bad) > 0 {
			topics := make([]string, 0, len(bad))
			for t := range bad {
				topics = append(topics, t)
			}
			sort.Strings(topics)
			return &fxpubsub.SkipMessage{Reason: "batch names topics outside the allowed topics: " + strings.Join(topics, ", ")}
		}
	}
	if _, err := r.producer.Republish(ctx, b.Messages...); err != nil {
		return fmt.Errorf("republish batch of %d: %w", len(b.Messages), err)
	}
	return nil
}

// AsBatchRepublisher registers a [BatchRepublisher] for [fxpubsub.BatchMessageMediaType], using the
// app's *fxpubsub.Producer.
func AsBatchRepublisher(opts RepublisherOptions) fx.Option {
	return fxpubsub.AsHandler[fxpubsub.BatchMessage](fxpubsub.BatchMessageMediaType, func(p *fxpubsub.Producer) *BatchRepublisher {
		return NewBatchRepublisher(p, opts)
	})
}
