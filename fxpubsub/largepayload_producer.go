package fxpubsub

import (
	"context"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// The producer's half of large messages: prepare marks a message over the threshold (checkSize),
// and the publish paths upload it just before publishing (offload), so a Deferred block that is
// discarded uploads nothing.

// maxParallelUploads bounds concurrent uploads of one batch.
const maxParallelUploads = 4

// checkSize marks o for offloading when the producer has a payload store and o is over its
// threshold (or the store offloads always); otherwise a message over the SNS limit is a
// *MessageTooLargeError.
func (p *Producer) checkSize(o *outgoing) error {
	n := o.size()
	if p.opts.LargePayloads.offloads(n) {
		o.offload = true
		return nil
	}
	if n > MaxMessageSize {
		return &MessageTooLargeError{MediaType: o.mediaType, Size: n, Limit: MaxMessageSize}
	}
	return nil
}

// offload uploads a marked message's body and turns o into the pointer message: the pointer body,
// the caller's attributes (media_type) plus ExtendedPayloadSize. An upload failure is a
// *PayloadError and o is left as it was (nothing is published).
func (p *Producer) offload(ctx context.Context, o *outgoing) error {
	if !o.offload || o.pointer != nil {
		return nil
	}
	attrs, err := pointerAttributes(o.attributes(), len(o.body))
	if err != nil {
		return err
	}
	ptr, err := p.opts.LargePayloads.upload(ctx, strings.NewReader(o.body), int64(len(o.body)))
	if err != nil {
		return err
	}
	o.body, o.attrs, o.pointer = ptr.Body(), attrs, &ptr
	if n := o.size(); n > MaxMessageSize {
		p.orphaned(o)
		return &MessageTooLargeError{MediaType: o.mediaType, Size: n, Limit: MaxMessageSize}
	}
	return nil
}

// offloadAll uploads the marked messages among pending (a few at a time) and returns the indices
// still to publish; failed uploads get their error in results.
func (p *Producer) offloadAll(ctx context.Context, prepared []*outgoing, pending []int, results []BatchResult) []int {
	var marked []int
	for _, i := range pending {
		if prepared[i].offload && prepared[i].pointer == nil {
			marked = append(marked, i)
		}
	}
	if len(marked) == 0 {
		return pending
	}
	errs := make([]error, len(prepared))
	sem := make(chan struct{}, maxParallelUploads)
	var wg sync.WaitGroup
	for _, i := range marked {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = p.offload(ctx, prepared[i])
		})
	}
	wg.Wait()
	kept := pending[:0:0]
	for _, i := range pending {
		if errs[i] != nil {
			results[i].Err = errs[i]
			endPublish(prepared[i], "", errs[i])
			continue
		}
		kept = append(kept, i)
	}
	return kept
}

// orphaned counts an uploaded payload whose message was not published.
func (p *Producer) orphaned(o *outgoing) {
	if o.pointer != nil {
		p.opts.LargePayloads.orphans.Add(1)
		p.opts.Logger.Warn("large payload uploaded but its message was not published; the object is left for the bucket's lifecycle rule",
			zap.String("media_type", o.mediaType), zap.String("object", o.pointer.String()))
	}
}

// countOrphans counts the uploaded payloads of the batch entries that failed.
func (p *Producer) countOrphans(prepared []*outgoing, results []BatchResult) {
	for i, o := range prepared {
		if o != nil && results[i].Err != nil {
			p.orphaned(o)
		}
	}
}
