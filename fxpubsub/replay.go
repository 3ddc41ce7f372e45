package fxpubsub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// MaxReplayLineSize bounds one line of replay input. A longer line is cut to this size and handed
// out as a message anyway, so its decode fails and the dispatcher reports it FAILED; the rest of the
// line is skipped and the replay goes on.
const MaxReplayLineSize = 1 << 20

// ReplayScheme starts the queue URL of a [ReplayReader].
const ReplayScheme = "replay://"

// ReplayStats counts a replay's work.
type ReplayStats struct {
	// Lines is the number of non-blank lines read.
	Lines int64
	// Messages is the number of messages handed out by ReceiveMessage.
	Messages int64
	// Deleted counts delete entries (single or batched): messages acknowledged.
	Deleted int64
	// VisibilityChanges counts visibility-change entries: nacked (RETRIED, FAILED) or released
	// messages and heartbeat extensions. A replay never redelivers them.
	VisibilityChanges int64
	// Oversize is the number of lines cut at [MaxReplayLineSize].
	Oversize int64
}

// ReplayReader is an [SQSClient] over JSON lines, for replaying messages locally: the daemon's
// --stdin and --sqs-queue-url FILE. Each non-blank line is one message, either
//
//   - an SQS record, an object with a string "Body" and optionally "MessageId", "ReceiptHandle",
//     "Attributes" and "MessageAttributes" (one element of `aws sqs receive-message` output), or
//   - a message body itself: a message JSON ({"mediaType": ..., ...}) or an SNS notification.
//
// ReceiveMessage hands out up to MaxNumberOfMessages lines as messages. Missing message ids become
// "replay-<line number>" and missing receipt handles "replay-rh-<line number>";
// ApproximateReceiveCount is always "1" (a replay is a first delivery) and SentTimestamp defaults
// to the time the line was read. ReceiveMessage waits for input however long it takes (it ignores
// WaitTimeSeconds, because a replay is a stream), returns early when its context is cancelled, and
// returns [ErrEndOfInput] once every line has been handed out, which makes the daemon finish and
// stop. A read error other than EOF also ends the input; [ReplayReader.Err] returns it.
//
// Bad input never stops a replay: a line that is not JSON, or is longer than
// [MaxReplayLineSize] (cut to that size), is handed out as the body of a message, so the
// dispatcher reports it FAILED.
//
// Deletes and visibility changes succeed and are counted ([ReplayReader.Stats]); nothing is ever
// redelivered. GetQueueUrl returns [ReplayReader.QueueURL] for any name, and GetQueueAttributes
// reports a VisibilityTimeout of 30 seconds.
//
// Reading happens on a goroutine the reader starts on the first receive and stops at EOF or
// [ReplayReader.Close]; a goroutine blocked in r.Read stays blocked until that Read returns
// (closing r is the caller's business). ReplayReader is safe for concurrent use.
type ReplayReader struct {
	src  io.Reader
	url  string
	now  func() time.Time
	once sync.Once

	lines chan sqstypes.Message // closed at end of input
	done  chan struct{}         // closed by Close
	close sync.Once

	mu  sync.Mutex
	err error

	nLines, nMessages, nDeleted, nVisibility, nOversize atomic.Int64
}

var _ SQSClient = (*ReplayReader)(nil)

// NewReplayReader returns a reader of r; name ("stdin", a file path) makes its queue URL,
// "replay://<name>".
func NewReplayReader(r io.Reader, name string) *ReplayReader {
	return &ReplayReader{
		src:   r,
		url:   ReplayScheme + name,
		now:   time.Now,
		lines: make(chan sqstypes.Message, 10),
		done:  make(chan struct{}),
	}
}

// QueueURL returns "replay://<name>".
func (r *ReplayReader) QueueURL() string { return r.url }

// Stats returns the counters so far.
func (r *ReplayReader) Stats() ReplayStats {
	return ReplayStats{
		Lines: r.nLines.Load(), Messages: r.nMessages.Load(), Deleted: r.nDeleted.Load(),
		VisibilityChanges: r.nVisibility.Load(), Oversize: r.nOversize.Load(),
	}
}

// Err returns the read error that ended the input early, or nil (EOF is not an error).
func (r *ReplayReader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops reading: later receives return [ErrEndOfInput]. It does not close the underlying
// reader. It is idempotent and returns nil.
func (r *ReplayReader) Close() error {
	r.close.Do(func() { close(r.done) })
	return nil
}

// read is the reader goroutine: it turns lines into messages until EOF, a read error or Close.
func (r *ReplayReader) read() {
	defer close(r.lines)
	br := bufio.NewReaderSize(r.src, 64*1024)
	for lineNo := 1; ; lineNo++ {
		line, oversize, err := readLine(br)
		if len(bytes.TrimSpace(line)) > 0 {
			r.nLines.Add(1)
			if oversize {
				r.nOversize.Add(1)
			}
			select {
			case r.lines <- r.message(line, lineNo, oversize):
			case <-r.done:
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.mu.Lock()
				r.err = fmt.Errorf("read line %d: %w", lineNo, err)
				r.mu.Unlock()
			}
			return
		}
	}
}

// readLine reads one line without its line ending ("\n" or "\r\n"). It keeps at most
// MaxReplayLineSize bytes of it, reporting oversize when there were more.
func readLine(br *bufio.Reader) (line []byte, oversize bool, err error) {
	total := 0
	for {
		var chunk []byte
		chunk, err = br.ReadSlice('\n')
		total += len(chunk)
		if keep := MaxReplayLineSize + 2 - len(line); keep > 0 {
			line = append(line, chunk[:min(len(chunk), keep)]...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
	}
	if total > MaxReplayLineSize+2 {
		return line[:MaxReplayLineSize], true, err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) > MaxReplayLineSize {
		return line[:MaxReplayLineSize], true, err
	}
	return line, false, err
}

// replayRecord is an SQS record line.
type replayRecord struct {
	Body              *string                                   `json:"Body"`
	MessageID         string                                    `json:"MessageId"`
	ReceiptHandle     string                                    `json:"ReceiptHandle"`
	MD5OfBody         string                                    `json:"MD5OfBody"`
	Attributes        map[string]string                         `json:"Attributes"`
	MessageAttributes map[string]sqstypes.MessageAttributeValue `json:"MessageAttributes"`
}

// message turns one line into an SQS message.
func (r *ReplayReader) message(line []byte, lineNo int, oversize bool) sqstypes.Message {
	n := strconv.Itoa(lineNo)
	m := sqstypes.Message{
		MessageId:     aws.String("replay-" + n),
		ReceiptHandle: aws.String("replay-rh-" + n),
		Body:          aws.String(string(line)),
		Attributes:    map[string]string{},
	}
	var rec replayRecord
	if !oversize && bytes.HasPrefix(bytes.TrimSpace(line), []byte("{")) && json.Unmarshal(line, &rec) == nil && rec.Body != nil {
		m.Body = rec.Body
		if rec.MessageID != "" {
			m.MessageId = aws.String(rec.MessageID)
		}
		if rec.ReceiptHandle != "" {
			m.ReceiptHandle = aws.String(rec.ReceiptHandle)
		}
		if rec.MD5OfBody != "" {
			m.MD5OfBody = aws.String(rec.MD5OfBody)
		}
		for k, v := range rec.Attributes {
			m.Attributes[k] = v
		}
		m.MessageAttributes = rec.MessageAttributes
	}
	m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)] = "1"
	if _, ok := m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)]; !ok {
		m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)] = strconv.FormatInt(r.now().UnixMilli(), 10)
	}
	return m
}

// ReceiveMessage returns the next lines as messages: it waits for at least one, then adds those
// already read, up to MaxNumberOfMessages (default 1, at most 10). It returns [ErrEndOfInput] when
// the input is exhausted or the reader closed, and ctx's error when ctx ends first.
func (r *ReplayReader) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.once.Do(func() { go r.read() })
	limit := 1
	if in != nil && in.MaxNumberOfMessages > 0 {
		limit = min(int(in.MaxNumberOfMessages), 10)
	}
	var msgs []sqstypes.Message
	select {
	case m, ok := <-r.lines:
		if !ok {
			return nil, ErrEndOfInput
		}
		msgs = append(msgs, m)
	case <-r.done:
		return nil, ErrEndOfInput
	case <-ctx.Done():
		return nil, ctx.Err()
	}
more:
	for len(msgs) < limit {
		select {
		case m, ok := <-r.lines:
			if !ok {
				break more
			}
			msgs = append(msgs, m)
		default:
			break more
		}
	}
	r.nMessages.Add(int64(len(msgs)))
	return &sqs.ReceiveMessageOutput{Messages: msgs}, nil
}

// DeleteMessage counts one delete.
func (r *ReplayReader) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	r.nDeleted.Add(1)
	return &sqs.DeleteMessageOutput{}, nil
}

// DeleteMessageBatch counts the entries and reports each as successful.
func (r *ReplayReader) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	out := &sqs.DeleteMessageBatchOutput{Successful: make([]sqstypes.DeleteMessageBatchResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		out.Successful[i] = sqstypes.DeleteMessageBatchResultEntry{Id: e.Id}
	}
	r.nDeleted.Add(int64(len(in.Entries)))
	return out, nil
}

// ChangeMessageVisibility counts one visibility change.
func (r *ReplayReader) ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	r.nVisibility.Add(1)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// ChangeMessageVisibilityBatch counts the entries and reports each as successful.
func (r *ReplayReader) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	out := &sqs.ChangeMessageVisibilityBatchOutput{Successful: make([]sqstypes.ChangeMessageVisibilityBatchResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		out.Successful[i] = sqstypes.ChangeMessageVisibilityBatchResultEntry{Id: e.Id}
	}
	r.nVisibility.Add(int64(len(in.Entries)))
	return out, nil
}

// GetQueueUrl returns [ReplayReader.QueueURL] whatever the name.
func (r *ReplayReader) GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) { //nolint:revive // SDK method name
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(r.url)}, nil
}

// GetQueueAttributes reports a VisibilityTimeout of 30 seconds.
func (r *ReplayReader) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{
		string(sqstypes.QueueAttributeNameVisibilityTimeout): "30",
	}}, nil
}
