package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/microcosm-go/pubsub/fxpubsub"
)

var writeCommand = &command{
	name:    "write",
	args:    "--topic-arn ARN --media-type MT [--json BODY|@FILE | --file FILE] [--field key=value]... [--uri URI] [--id ID] [--field-name F --new-value V] [--opaque k=v]... [--yes]",
	summary: "publish one message to an SNS topic and print its SNS message id",
	details: `
MT is a media type, or a bare resource name meaning created(name): "order" is
application/vnd.globality.pubsub._.created.order. The content is the JSON object of --json (given
inline, or @FILE to read it from a file), with each --field key=value (a string) and --uri, --id,
--field-name, --new-value set on it. It is validated against the convention schema of its
lifecycle (created: uri; changed: uri, optional field_name and new_value; deleted: id); other
media types are sent as given. Without --topic-arn the topic comes from the sns_topic_arns
configuration. With a large_payload section (bucket), a message over its threshold (256 KiB) goes
to S3 and the topic gets a pointer, in the AWS extended clients' format. With sns_producer.skip on, nothing is published or printed. Against an endpoint
that is not loopback it asks first (see pubsub purge --help); --yes skips the question.`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		topic := fs.String("topic-arn", "", "SNS topic `ARN` (default: from sns_topic_arns)")
		mt := fs.String("media-type", "", "media `type`, or a resource name for created(name) (required)")
		uri := fs.String("uri", "", "the resource `URI` the message refers to")
		id := fs.String("id", "", "the resource `id` (deleted messages)")
		fieldName := fs.String("field-name", "", "changed messages: the `field` that changed")
		newValue := fs.String("new-value", "", "changed messages: its new `value`")
		opaque := kvFlag{}
		fs.Var(opaque, "opaque", "opaque data `key=value`, e.g. x-request-id=abc; repeatable")
		fields := kvFlag{}
		fs.Var(fields, "field", "content field `key=value` (a string value); repeatable")
		body := fs.String("json", "", "the content as a JSON `object`, or @FILE to read it from FILE")
		file := fs.String("file", "", "read the content, a JSON object, from `FILE` (as --json @FILE)")
		bindYes(fs, g)
		return func(ctx context.Context, s *streams) error {
			if *mt == "" {
				return usagef("--media-type is required")
			}
			mediaType := resolveMediaType(*mt)
			if *file != "" {
				if *body != "" {
					return usagef("--json and --file are exclusive: give the content once")
				}
				*body = "@" + *file
			}
			content, err := jsonContent(*body)
			if err != nil {
				return err
			}
			for k, v := range fields {
				content[k] = v
			}
			for k, v := range map[string]string{"uri": *uri, "id": *id, "field_name": *fieldName, "new_value": *newValue} {
				if v != "" {
					content[k] = v
				}
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			var topics *fxpubsub.TopicMap
			if *topic != "" {
				topics, err = fxpubsub.NewTopicMap(map[string]any{"mappings": map[string]any{mediaType: *topic}})
			} else {
				topics, err = fxpubsub.NewTopicMap(cfg.Topics)
			}
			if err != nil {
				return err
			}
			reg, err := registryFor(cfg, mediaType)
			if err != nil {
				return err
			}
			store, err := g.payloadStore(ctx, cfg)
			if err != nil {
				return err
			}
			client, err := g.snsClient(ctx, cfg)
			if err != nil {
				return err
			}
			opts := fxpubsub.ProducerOptions{Opaque: fxpubsub.NewOpaque(cfg.Opaque), MaxAttempts: cfg.Producer.MaxAttempts, LargePayloads: store}
			if cfg.Producer.Skip != nil {
				opts.Skip = *cfg.Producer.Skip
			}
			topicARN := *topic
			if topicARN == "" {
				topicARN = "from sns_topic_arns for " + mediaType
			}
			resources := []string{"topic:    " + topicARN}
			if b := cfg.LargePayload.Bucket; b != "" {
				resources = append(resources, "bucket:   "+b+" (payloads of large messages)")
			}
			if err := g.confirm(ctx, s, "publish a message", resources...); err != nil {
				return err
			}
			p := fxpubsub.NewProducer(client, reg, topics, opts)
			msgID, err := p.Produce(ctx, mediaType, content, fxpubsub.WithOpaqueData(opaque))
			var tnd *fxpubsub.TopicNotDefinedError
			if errors.As(err, &tnd) && *topic == "" {
				return usagef("no topic for %s: pass --topic-arn or configure sns_topic_arns", mediaType)
			}
			if err != nil {
				return err
			}
			if p.Skipping() {
				s.progress("not published: sns_producer.skip is on")
				return nil
			}
			fmt.Fprintln(s.stdout, msgID)
			return nil
		}
	},
}

// jsonContent is the content object of --json: inline JSON, or @FILE. "" is an empty object.
func jsonContent(arg string) (map[string]any, error) {
	content := map[string]any{}
	if arg == "" {
		return content, nil
	}
	text, source := []byte(arg), "--json"
	if path, ok := strings.CutPrefix(arg, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usagef("--json @%s: %v", path, err)
		}
		text, source = b, "--json @"+path
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&content); err != nil {
		return nil, usagef("%s: want a JSON object: %v", source, err)
	}
	if dec.More() {
		return nil, usagef("%s: want one JSON object, found more after it", source)
	}
	if content == nil {
		return nil, usagef("%s: want a JSON object, got null", source)
	}
	return content, nil
}

// registryFor is the configured schema registry, with media types it has no schema for accepted
// as any JSON object.
func registryFor(cfg fxpubsub.Config, mediaType string) (*fxpubsub.SchemaRegistry, error) {
	reg, err := fxpubsub.NewSchemaRegistry(cfg.Registry)
	if err != nil {
		return nil, err
	}
	if _, err := reg.Find(mediaType); err != nil {
		return fxpubsub.NewSchemaRegistry(cfg.Registry, fxpubsub.SchemaFor[map[string]any](mediaType))
	}
	return reg, nil
}

var readCommand = &command{
	name:    "read",
	args:    "--queue-url URL [--nack] [--nack-timeout S] [--max N] [--wait S] [--envelope E]",
	summary: "receive one batch of messages from an SQS queue, print them, then ack (or nack) them",
	details: `
Each message is printed on stdout as one JSON line: message_id (the SQS id), receive_count,
media_type, content (decoded by the media type's schema), opaque (opaqueData) and, for a message
that could not be decoded, error and body. Without --nack every message received is deleted
(acked); with --nack each is made visible again after --nack-timeout seconds. Acking deletes, so
against an endpoint that is not loopback read asks first unless --nack or --yes is given. With a
large_payload section a pointer to S3 (the AWS extended clients' format) is resolved from the
trusted buckets (large_payload.trusted_buckets, default its bucket) and its content printed; a
pointer into any other bucket is an error line.`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		queue := fs.String("queue-url", "", "SQS queue `URL` or name (default: sqs_consumer.sqs_queue_url)")
		nack := fs.Bool("nack", false, "nack instead of ack: the messages come back")
		nackTimeout := fs.Int("nack-timeout", 1, "visibility timeout of nacked messages, in `seconds`")
		limit := fs.Int("max", 10, "receive at most `N` messages (1-10)")
		wait := fs.Int("wait", 1, "long-poll wait in `seconds` (0-20)")
		envelope := fs.String("envelope", "", "body `format`: codec (default: SNS envelope or raw message), raw or naive")
		bindYes(fs, g)
		return func(ctx context.Context, s *streams) error {
			switch {
			case *limit < 1 || *limit > 10:
				return usagef("--max must be between 1 and 10")
			case *wait < 0 || *wait > 20:
				return usagef("--wait must be between 0 and 20")
			case *nackTimeout < 0 || *nackTimeout > 43200:
				return usagef("--nack-timeout must be between 0 and 43200")
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			q := firstNonEmpty(*queue, cfg.Consumer.SQSQueueURL)
			if q == "" {
				return usagef("--queue-url is required (or set sqs_consumer.sqs_queue_url)")
			}
			env, err := fxpubsub.ParseEnvelope(firstNonEmpty(*envelope, cfg.Envelope.StrategyName))
			if err != nil {
				return usagef("--envelope: %v", err)
			}
			reg, err := fxpubsub.NewSchemaRegistry(cfg.Registry)
			if err != nil {
				return err
			}
			store, err := g.payloadStore(ctx, cfg)
			if err != nil {
				return err
			}
			client, err := g.sqsClient(ctx, cfg)
			if err != nil {
				return err
			}
			if !*nack {
				if err := g.confirm(ctx, s, "receive messages and delete them (ack)", "queue:    "+q); err != nil {
					return err
				}
			}
			c, err := fxpubsub.NewConsumer(client, reg, q, fxpubsub.ConsumerOptions{
				Limit: *limit, Wait: time.Duration(*wait) * time.Second, WaitSet: true, Envelope: env, LargePayloads: store,
			})
			if err != nil {
				return err
			}
			msgs, err := c.Consume(ctx)
			if err != nil {
				return err
			}
			var errs []error
			for _, m := range msgs {
				line, err := json.Marshal(readLine(m))
				if err != nil {
					return err
				}
				fmt.Fprintln(s.stdout, string(line))
				if *nack {
					err = m.Nack(ctx, time.Duration(*nackTimeout)*time.Second)
				} else {
					err = m.Ack(ctx)
				}
				if err != nil {
					errs = append(errs, err)
				}
			}
			verb := "acked"
			if *nack {
				verb = fmt.Sprintf("nacked for %d s", *nackTimeout)
			}
			s.progress("read %d message(s), %s", len(msgs), verb)
			return errors.Join(errs...)
		}
	},
}

// readOutput is one line of read's output.
type readOutput struct {
	MessageID    string          `json:"message_id"`
	ReceiveCount int             `json:"receive_count"`
	MediaType    string          `json:"media_type"`
	Content      any             `json:"content"`
	Opaque       fxpubsub.Opaque `json:"opaque"`
	TopicARN     string          `json:"topic_arn,omitempty"`
	Error        string          `json:"error,omitempty"`
	Body         string          `json:"body,omitempty"`
}

func readLine(m *fxpubsub.Message) readOutput {
	o := readOutput{MessageID: m.MessageID, ReceiveCount: m.ReceiveCount, MediaType: m.MediaType, Content: m.Content,
		Opaque: m.Opaque, TopicARN: m.TopicARN}
	if m.Err != nil {
		o.Error = m.Err.Error()
		o.Body = string(m.Body)
	}
	return o
}

var naiveCommand = &command{
	name:    "naive",
	args:    "--action created|changed|deleted --resource-name NAME (--uri URI | --id ID) [--field-name F --new-value V]",
	summary: "print a flat JSON message line for a daemon's --stdin replay (the original's publish-naive)",
	details: `
The line is the naive envelope: {"mediaType": ..., "uri": ...} (plus field_name/new_value, or id
for deleted), ending in a newline, e.g.
  pubsub naive --action created --resource-name order --uri https://orders/1 | my-daemon --stdin`,
	setup: func(fs *flag.FlagSet, g *globals) func(context.Context, *streams) error {
		action := fs.String("action", "", "lifecycle `word`: created, changed or deleted (required)")
		name := fs.String("resource-name", "", "resource `name`, e.g. order or FooBar (required)")
		uri := fs.String("uri", "", "resource `URI` (created, changed)")
		id := fs.String("id", "", "resource `id` (deleted)")
		fieldName := fs.String("field-name", "", "changed: the `field` that changed")
		newValue := fs.String("new-value", "", "changed: its new `value`")
		return func(ctx context.Context, s *streams) error {
			line, err := naiveLine(*action, *name, *uri, *id, *fieldName, *newValue)
			if err != nil {
				return err
			}
			fmt.Fprintln(s.stdout, line)
			return nil
		}
	},
}

func naiveLine(action, name, uri, id, fieldName, newValue string) (string, error) {
	switch action {
	case fxpubsub.LifecycleCreated, fxpubsub.LifecycleChanged:
		if uri == "" {
			return "", usagef("--uri is required for --action %s", action)
		}
	case fxpubsub.LifecycleDeleted:
		if id == "" {
			return "", usagef("--id is required for --action deleted")
		}
	case "":
		return "", usagef("--action is required")
	default:
		return "", usagef("--action must be created, changed or deleted, not %q", action)
	}
	if strings.TrimSpace(name) == "" {
		return "", usagef("--resource-name is required")
	}
	msg := struct {
		MediaType string `json:"mediaType"`
		URI       string `json:"uri,omitempty"`
		ID        string `json:"id,omitempty"`
		FieldName string `json:"field_name,omitempty"`
		NewValue  string `json:"new_value,omitempty"`
	}{MediaType: fxpubsub.MediaType(name, action), URI: uri, ID: id, FieldName: fieldName, NewValue: newValue}
	b, err := json.Marshal(msg)
	return string(b), err
}
