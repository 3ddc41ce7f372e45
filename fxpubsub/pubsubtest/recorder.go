package pubsubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

// Published is one message the producer published successfully, as it went over the wire.
type Published struct {
	// TopicARN is the topic it was published to.
	TopicARN string
	// MediaType is the message's "mediaType" (falling back to the media_type message attribute).
	MediaType string
	// MessageID is the SNS message id Publish returned (not the SQS id a handler sees).
	MessageID string
	// Body is the message JSON exactly as published.
	Body string
	// Content is the parsed message JSON without "mediaType" and "opaqueData" (numbers are
	// float64, as encoding/json decodes them). nil when Body is not a JSON object.
	Content map[string]any
	// Opaque is the message's "opaqueData" as on the wire (keys as written, lower case from this
	// library; values with their JSON types, see [fxpubsub.Opaque]; never nil).
	Opaque fxpubsub.Opaque
	// Attributes are the SNS message attributes by name (their StringValue).
	Attributes map[string]string
}

// URI returns the "uri" content field, or "" when there is none.
func (p Published) URI() string {
	s, _ := p.Content["uri"].(string)
	return s
}

// String renders p on one line for failure messages: media type, topic, content as JSON with
// sorted keys, and the opaque data (without the always-changing x-request-published).
func (p Published) String() string {
	var b strings.Builder
	b.WriteString(p.MediaType)
	if b.Len() == 0 {
		b.WriteString("(no media type)")
	}
	if p.TopicARN != "" {
		b.WriteString(" → ")
		b.WriteString(p.TopicARN)
	}
	if p.Content != nil {
		c, err := json.Marshal(p.Content)
		if err == nil {
			b.WriteByte(' ')
			b.Write(c)
		}
	} else {
		fmt.Fprintf(&b, " body=%q", p.Body)
	}
	if o := formatOpaque(p.Opaque); o != "" {
		b.WriteString(" opaque{")
		b.WriteString(o)
		b.WriteByte('}')
	}
	return b.String()
}

func formatOpaque(o fxpubsub.Opaque) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		if k != fxpubsub.OpaquePublished {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + o.Get(k)
	}
	return strings.Join(parts, " ")
}

// parsePublished builds a Published from what went to SNS.
func parsePublished(topicARN, messageID, body string, attrs map[string]snstypes.MessageAttributeValue) Published {
	p := Published{TopicARN: topicARN, MessageID: messageID, Body: body, Opaque: fxpubsub.Opaque{}}
	if len(attrs) > 0 {
		p.Attributes = make(map[string]string, len(attrs))
		for name, v := range attrs {
			p.Attributes[name] = aws.ToString(v.StringValue)
		}
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &raw) == nil && raw != nil {
		p.Content = make(map[string]any, len(raw))
		for k, v := range raw {
			switch k {
			case "mediaType":
				_ = json.Unmarshal(v, &p.MediaType)
			case "opaqueData":
				p.Opaque = parseOpaque(v)
			default:
				var val any
				_ = json.Unmarshal(v, &val)
				p.Content[k] = val
			}
		}
	}
	if p.MediaType == "" {
		p.MediaType = p.Attributes[fxpubsub.MediaTypeAttribute]
	}
	return p
}

// parseOpaque reads opaqueData as the consumer does: keys exactly as written, strings as they
// are, every other value (null included) as its exact JSON text.
func parseOpaque(v json.RawMessage) fxpubsub.Opaque {
	var o fxpubsub.Opaque
	if json.Unmarshal(v, &o) != nil || o == nil {
		return fxpubsub.Opaque{}
	}
	return o
}

// Recorder records every message published through the SNS client it wraps, in the order the
// Publish calls were made (a message a handler publishes while the in-memory backend is still
// delivering the message that triggered it comes after that message). A message becomes visible
// when SNS has accepted it; failed publishes are never visible. [Options] installs one in front of the module's backend; [NewRecorder] and [Recorder.Wrap] work
// without fx. It is safe for concurrent use; its zero value is ready to use.
type Recorder struct {
	feed feed[Published]
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Published returns what was published so far, in order.
func (r *Recorder) Published() []Published { return r.feed.all() }

// Len returns how many messages were published so far.
func (r *Recorder) Len() int { return len(r.feed.all()) }

// ByMediaType returns the messages published with mediaType, in order.
func (r *Recorder) ByMediaType(mediaType string) []Published {
	var out []Published
	for _, p := range r.feed.all() {
		if p.MediaType == mediaType {
			out = append(out, p)
		}
	}
	return out
}

// Reset forgets everything recorded so far (for example what a test's setup published).
func (r *Recorder) Reset() { r.feed.reset() }

// Wait blocks until at least n messages were published and returns all of them (possibly more than
// n). After timeout it fails t with t.Fatalf, listing what was published.
func (r *Recorder) Wait(t testing.TB, n int, timeout time.Duration) []Published {
	t.Helper()
	return r.feed.waitN(t, n, timeout, "published messages", Published.String)
}

// Await blocks until at least n messages were published or ctx is done, and returns what was
// published; the error (ctx's, wrapped) says how many arrived. It is [Recorder.Wait] for code
// without a testing.TB, such as examples.
func (r *Recorder) Await(ctx context.Context, n int) ([]Published, error) {
	return r.feed.await(ctx, n, "published messages")
}

// WaitFor blocks until a published message matches m and returns the first that does. After
// timeout it fails t with t.Fatalf, listing what was published.
func (r *Recorder) WaitFor(t testing.TB, m Matcher, timeout time.Duration) Published {
	t.Helper()
	p, _ := r.feed.waitMatch(t, timeout, m.Matches, m.String(), "a message", Published.String)
	return p
}

// Wrap returns an SNS client that forwards every call to next and records each message that next
// accepted (failed publishes and failed batch entries are not recorded).
func (r *Recorder) Wrap(next fxpubsub.SNSClient) fxpubsub.SNSClient {
	return &recordingSNS{next: next, rec: r}
}

// WrapBackend returns a copy of b whose SNS client is wrapped by [Recorder.Wrap]; everything else,
// including the in-memory backend that delivers to the queue, is shared.
func (r *Recorder) WrapBackend(b *fxpubsub.Backend) *fxpubsub.Backend {
	c := *b
	c.SNS = r.Wrap(b.SNS)
	return &c
}

type recordingSNS struct {
	next fxpubsub.SNSClient
	rec  *Recorder
}

func (s *recordingSNS) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if in == nil {
		return s.next.Publish(ctx, in, optFns...)
	}
	topic := aws.ToString(in.TopicArn)
	if topic == "" {
		topic = aws.ToString(in.TargetArn)
	}
	e := s.rec.feed.reserve(parsePublished(topic, "", aws.ToString(in.Message), in.MessageAttributes))
	out, err := s.next.Publish(ctx, in, optFns...)
	if err != nil {
		s.rec.feed.drop(e)
		return out, err
	}
	var id string
	if out != nil {
		id = aws.ToString(out.MessageId)
	}
	s.rec.feed.commit(e, func(p *Published) { p.MessageID = id })
	return out, nil
}

func (s *recordingSNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	if in == nil {
		return s.next.PublishBatch(ctx, in, optFns...)
	}
	entries := make([]*entry[Published], len(in.PublishBatchRequestEntries))
	for i, e := range in.PublishBatchRequestEntries {
		entries[i] = s.rec.feed.reserve(parsePublished(aws.ToString(in.TopicArn), "", aws.ToString(e.Message), e.MessageAttributes))
	}
	out, err := s.next.PublishBatch(ctx, in, optFns...)
	ids := map[string]string{}
	if err == nil && out != nil {
		for _, e := range out.Successful {
			ids[aws.ToString(e.Id)] = aws.ToString(e.MessageId)
		}
	}
	for i, e := range in.PublishBatchRequestEntries {
		id, ok := ids[aws.ToString(e.Id)]
		if !ok {
			s.rec.feed.drop(entries[i])
			continue
		}
		s.rec.feed.commit(entries[i], func(p *Published) { p.MessageID = id })
	}
	return out, err
}
