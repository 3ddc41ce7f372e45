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
	// Messages is the number of messages handed out by the source.
	Messages int64
	// Deleted counts acknowledged messages.
	Deleted int64
	// VisibilityChanges counts nacked (RETRIED, FAILED) or released messages and visibility
	// extensions. A replay never redelivers them.
	VisibilityChanges int64
	// Oversize is the number of lines cut at [MaxReplayLineSize].
	Oversize int64
}

// ReplayReader replays messages from JSON lines, for running handlers locally: the daemon's
// --stdin and --sqs-queue-url FILE. [ReplayReader.Source] makes it a [MessageSource]. Each
// non-blank line is one message, either
//
//   - an SQS record, an object with a string "Body" and optionally "MessageId", "ReceiptHandle"
//     and "Attributes" (one element of `aws sqs receive-message` output), or
//   - a message body itself: a message JSON ({"mediaType": ..., ...}) or an SNS notification.
//
// Missing message ids become "replay-<line number>" and missing receipt handles
// "replay-rh-<line number>"; ApproximateReceiveCount is always "1" (a replay is a first delivery)
// and SentTimestamp defaults to the time the line was read. A receive waits for input however
// long it takes (a replay is a stream) and returns early when its context is cancelled; once
// every line has been handed out the source reports [MessageSource.EndOfInput], which makes the
// daemon finish and stop. A read error other than EOF also ends the input; [ReplayReader.Err]
// returns it.
//
// Bad input never stops a replay: a line that is not JSON, or is longer than
// [MaxReplayLineSize] (cut to that size), is handed out as the body of a message, so the
// dispatcher reports it FAILED.
//
// The reader is the [Settler] of its messages: acks, nacks and extensions succeed and are counted
// ([ReplayReader.Stats]); nothing is ever redelivered.
//
// Reading happens on a goroutine the reader starts on the first receive and stops at EOF or
// [ReplayReader.Close]; a goroutine blocked in r.Read stays blocked until that Read returns
// (closing r is the caller's business). ReplayReader is safe for concurrent use.
type ReplayReader struct {
	src  io.Reader
	url  string
	now  func() time.Time
	once sync.Once

	lines chan Record   // closed at end of input
	done  chan struct{} // closed by Close
	close sync.Once
	ended atomic.Bool // a receive found the input exhausted

	mu  sync.Mutex
	err error

	nLines, nMessages, nDeleted, nVisibility, nOversize atomic.Int64
}

var _ Settler = (*ReplayReader)(nil)

// NewReplayReader returns a reader of r; name ("stdin", a file path) makes its queue URL,
// "replay://<name>".
func NewReplayReader(r io.Reader, name string) *ReplayReader {
	return &ReplayReader{
		src:   r,
		url:   ReplayScheme + name,
		now:   time.Now,
		lines: make(chan Record, 10),
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

// Close stops reading: the input ends for later receives. It does not close the underlying
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
	Body          *string           `json:"Body"`
	MessageID     string            `json:"MessageId"`
	ReceiptHandle string            `json:"ReceiptHandle"`
	Attributes    map[string]string `json:"Attributes"`
}

// message turns one line into a record.
func (r *ReplayReader) message(line []byte, lineNo int, oversize bool) Record {
	n := strconv.Itoa(lineNo)
	m := Record{MessageID: "replay-" + n, ReceiptHandle: "replay-rh-" + n, Body: line, Attributes: map[string]string{}}
	var rec replayRecord
	if !oversize && bytes.HasPrefix(bytes.TrimSpace(line), []byte("{")) && json.Unmarshal(line, &rec) == nil && rec.Body != nil {
		m.Body = []byte(*rec.Body)
		if rec.MessageID != "" {
			m.MessageID = rec.MessageID
		}
		if rec.ReceiptHandle != "" {
			m.ReceiptHandle = rec.ReceiptHandle
		}
		for k, v := range rec.Attributes {
			m.Attributes[k] = v
		}
	}
	m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)] = "1"
	if _, ok := m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)]; !ok {
		m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)] = strconv.FormatInt(r.now().UnixMilli(), 10)
	}
	return m
}

// receive returns the next lines as records: it waits for at least one, then adds those already
// read, up to limit (at least 1, at most 10). It returns none once the input is exhausted or the
// reader closed (and from then on [ReplayReader.Source]'s EndOfInput is true), and ctx's error
// when ctx ends first.
func (r *ReplayReader) receive(ctx context.Context, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.once.Do(func() { go r.read() })
	limit = min(max(limit, 1), 10)
	var recs []Record
	select {
	case m, ok := <-r.lines:
		if !ok {
			r.ended.Store(true)
			return nil, nil
		}
		recs = append(recs, m)
	case <-r.done:
		r.ended.Store(true)
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
more:
	for len(recs) < limit {
		select {
		case m, ok := <-r.lines:
			if !ok {
				break more
			}
			recs = append(recs, m)
		default:
			break more
		}
	}
	r.nMessages.Add(int64(len(recs)))
	return recs, nil
}

// Source returns the replay as a message source whose bodies dec decodes and r settles.
func (r *ReplayReader) Source(dec *Decoder) MessageSource { return &lineSource{r: r, dec: dec} }

type lineSource struct {
	r   *ReplayReader
	dec *Decoder
}

func (s *lineSource) Receive(ctx context.Context, limit int) ([]*Message, error) {
	recs, err := s.r.receive(ctx, limit)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	msgs := make([]*Message, len(recs))
	for i, rec := range recs {
		msgs[i] = s.dec.Decode(ctx, rec, s.r)
	}
	return msgs, nil
}

func (s *lineSource) EndOfInput() bool { return s.r.ended.Load() }

func (s *lineSource) Name() string { return s.r.url }

// Ack counts one delete.
func (r *ReplayReader) Ack(context.Context, *Message) error {
	r.nDeleted.Add(1)
	return nil
}

// Nack counts one visibility change.
func (r *ReplayReader) Nack(context.Context, *Message, time.Duration) error {
	r.nVisibility.Add(1)
	return nil
}

// Extend counts one visibility change.
func (r *ReplayReader) Extend(context.Context, *Message, time.Duration) error {
	r.nVisibility.Add(1)
	return nil
}
