package fxpubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// maxBatchEntries is the SNS PublishBatch limit.
const maxBatchEntries = 10

// Outgoing is one message for [Producer.ProduceBatch].
type Outgoing struct {
	MediaType string
	Content   any
	Options   []ProduceOption
}

// BatchResult is the outcome of one [Outgoing]: its SNS message id, or why it was not published.
type BatchResult struct {
	MessageID string
	Err       error
}

// BatchEntryError is a per-entry failure reported by PublishBatch.
type BatchEntryError struct {
	Code        string
	Message     string
	SenderFault bool
}

func (e *BatchEntryError) Error() string {
	fault := "server"
	if e.SenderFault {
		fault = "sender"
	}
	return fmt.Sprintf("batch entry failed (%s fault): %s: %s", fault, e.Code, e.Message)
}

// ProduceBatch publishes msgs with SNS PublishBatch: grouped by topic (order kept within a topic),
// at most 10 entries and 256 KiB per call. Entries that fail with a server-side (retryable) error are
// retried, alone, with jittered backoff up to ProducerOptions.MaxAttempts; entries that succeeded
// are never sent twice by this retry. The results line up with msgs; the error, if any, joins
// the entries' errors (each also in its result).
func (p *Producer) ProduceBatch(ctx context.Context, msgs []Outgoing) ([]BatchResult, error) {
	results := make([]BatchResult, len(msgs))
	prepared := make([]*outgoing, len(msgs))
	for i, m := range msgs {
		o, err := p.prepare(ctx, m.MediaType, m.Content, m.Options)
		if err != nil {
			results[i].Err = err
			continue
		}
		prepared[i] = o
	}
	p.publishAll(ctx, prepared, results)
	return results, batchError(results)
}

func batchError(results []BatchResult) error {
	var errs []error
	for i, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("message %d: %w", i, r.Err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d messages not published: %w", len(errs), len(results), errors.Join(errs...))
}

// publishAll publishes every non-nil prepared message, recording ids and errors in results.
func (p *Producer) publishAll(ctx context.Context, prepared []*outgoing, results []BatchResult) {
	if p.opts.Skip {
		for _, o := range prepared {
			if o != nil {
				skipPublish(o)
			}
		}
		return
	}
	var pending []int
	for i, o := range prepared {
		if o != nil {
			pending = append(pending, i)
		}
	}
	pending = p.offloadAll(ctx, prepared, pending, results)
	defer p.countOrphans(prepared, results)
	for attempt := 1; len(pending) > 0; attempt++ {
		last := func(int) bool { return attempt >= p.opts.MaxAttempts }
		var retry []int
		for _, chunk := range chunkByTopic(prepared, pending) {
			retry = append(retry, p.publishChunk(ctx, prepared, chunk, results, last)...)
		}
		pending = retry
		if len(pending) == 0 {
			return
		}
		if err := sleepCtx(ctx, retryDelay(attempt)); err != nil {
			for _, i := range pending {
				results[i].Err = &PublishError{MediaType: prepared[i].mediaType, TopicARN: prepared[i].topicARN, Err: err}
				endPublish(prepared[i], "", results[i].Err)
			}
			return
		}
	}
}

// chunkByTopic groups indices by topic (first-seen topic order, message order within a topic)
// and splits each group into PublishBatch-sized chunks.
func chunkByTopic(prepared []*outgoing, idxs []int) [][]int {
	chunks := make([][]int, 0, (len(idxs)+maxBatchEntries-1)/maxBatchEntries)
	if oneTopic(prepared, idxs) { // the common case: nothing to group
		return appendChunks(chunks, prepared, idxs)
	}
	var topics []string
	groups := map[string][]int{}
	for _, i := range idxs {
		t := prepared[i].topicARN
		if _, ok := groups[t]; !ok {
			topics = append(topics, t)
		}
		groups[t] = append(groups[t], i)
	}
	for _, t := range topics {
		chunks = appendChunks(chunks, prepared, groups[t])
	}
	return chunks
}

// appendChunks splits one topic's indices into PublishBatch-sized chunks (10 entries, 256 KiB).
func appendChunks(chunks [][]int, prepared []*outgoing, idxs []int) [][]int {
	var cur []int
	size := 0
	for _, i := range idxs {
		n := prepared[i].size()
		if len(cur) == maxBatchEntries || (len(cur) > 0 && size+n > MaxMessageSize) {
			chunks = append(chunks, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// oneTopic reports whether the messages at idxs all go to one topic.
func oneTopic(prepared []*outgoing, idxs []int) bool {
	for _, i := range idxs {
		if prepared[i].topicARN != prepared[idxs[0]].topicARN {
			return false
		}
	}
	return true
}

// publishChunk sends one PublishBatch and returns the indices to retry; with telemetry, it
// records sns_producer and ends the spans of the entries it settled.
func (p *Producer) publishChunk(ctx context.Context, prepared []*outgoing, chunk []int, results []BatchResult, last func(int) bool) []int {
	t := p.opts.Telemetry
	metered := t.producerMetered(ctx)
	if !metered && !t.tracing() {
		return p.sendChunk(ctx, prepared, chunk, results, last)
	}
	start := time.Now()
	retry := p.sendChunk(ctx, prepared, chunk, results, last)
	elapsed := time.Since(start)
	for _, i := range chunk {
		if !slices.Contains(retry, i) {
			t.finishPublish(ctx, prepared[i], results[i].MessageID, results[i].Err, elapsed, metered)
		}
	}
	return retry
}

// sendChunk makes one PublishBatch call and returns the indices to retry; last(i) says whether
// entry i had its last attempt (then a retryable failure is its result).
func (p *Producer) sendChunk(ctx context.Context, prepared []*outgoing, chunk []int, results []BatchResult, last func(int) bool) []int {
	topic := prepared[chunk[0]].topicARN
	entries := make([]snstypes.PublishBatchRequestEntry, len(chunk))
	// An entry's id is its position in the chunk; the strings are constants (one allocation per
	// call for the array rather than one per entry).
	ids := [maxBatchEntries]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	for j, i := range chunk {
		o := prepared[i]
		e := snstypes.PublishBatchRequestEntry{Id: &ids[j], Message: aws.String(o.body), MessageAttributes: o.attributes()}
		if o.groupID != "" {
			e.MessageGroupId = aws.String(o.groupID)
		}
		if o.dedupID != "" {
			e.MessageDeduplicationId = aws.String(o.dedupID)
		}
		entries[j] = e
	}
	out, err := p.client.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: entries})
	if err != nil {
		retryable := retryableCallError(ctx, err)
		var retry []int
		for _, i := range chunk {
			if retryable && !last(i) {
				retry = append(retry, i)
				continue
			}
			results[i].Err = &PublishError{MediaType: prepared[i].mediaType, TopicARN: topic, Err: err}
		}
		return retry
	}
	var retry []int
	var answered [maxBatchEntries]bool // by position in the chunk
	for _, s := range out.Successful {
		j, ok := entryPosition(s.Id, chunk)
		if !ok {
			continue
		}
		answered[j] = true
		results[chunk[j]] = BatchResult{MessageID: aws.ToString(s.MessageId)}
	}
	for _, f := range out.Failed {
		j, ok := entryPosition(f.Id, chunk)
		if !ok {
			continue
		}
		answered[j] = true
		i := chunk[j]
		if !f.SenderFault && !last(i) {
			retry = append(retry, i)
			continue
		}
		results[i].Err = &PublishError{MediaType: prepared[i].mediaType, TopicARN: topic,
			Err: &BatchEntryError{Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}}
	}
	for j, i := range chunk {
		if !answered[j] {
			if !last(i) {
				retry = append(retry, i)
				continue
			}
			results[i].Err = &PublishError{MediaType: prepared[i].mediaType, TopicARN: topic, Err: errors.New("entry missing from PublishBatch response")}
		}
	}
	return retry
}

// entryPosition returns the position in chunk named by a PublishBatch result's id.
func entryPosition(id *string, chunk []int) (int, bool) {
	j, err := strconv.Atoi(aws.ToString(id))
	if err != nil || j < 0 || j >= len(chunk) {
		return 0, false
	}
	return j, true
}

// Deferred buffers messages and publishes them only when the unit of work succeeds; see
// [Producer.Deferred].
type Deferred struct {
	p    *Producer
	msgs []*outgoing
}

// Produce validates and encodes the message now (so errors surface at the call, and the opaque data
// is the context's at the call) and buffers it.
func (d *Deferred) Produce(ctx context.Context, mediaType string, content any, opts ...ProduceOption) error {
	o, err := d.p.prepare(ctx, mediaType, content, opts)
	if err != nil {
		return err
	}
	d.msgs = append(d.msgs, o)
	return nil
}

// Len returns how many messages are buffered.
func (d *Deferred) Len() int { return len(d.msgs) }

// Deferred runs fn with a [Deferred] producer. If fn returns nil, every buffered message is
// published (batched per topic, in order within a topic) and the publish errors, if any, are
// returned. If fn returns an error or panics, nothing is published: the buffer is discarded and the
// error (or panic) propagates.
func (p *Producer) Deferred(ctx context.Context, fn func(ctx context.Context, d *Deferred) error) error {
	d := &Deferred{p: p}
	defer func() {
		for _, o := range d.msgs { // spans of messages discarded by an error or panic
			skipPublish(o)
		}
	}()
	if err := fn(ctx, d); err != nil {
		return err
	}
	if len(d.msgs) == 0 {
		return nil
	}
	results := make([]BatchResult, len(d.msgs))
	p.publishAll(ctx, d.msgs, results)
	return batchError(results)
}
