package fxpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Envelope names how an SQS body is read (section sqs_envelope, key strategy_name).
type Envelope string

// Envelope strategies. The original's class names (CodecSQSEnvelope, RawSQSEnvelope,
// NaiveSQSEnvelope) are accepted as aliases.
const (
	// EnvelopeCodec (default): the body is an SNS notification whose Message is the message JSON,
	// or, with raw delivery, the message JSON itself; it is decoded and validated by its schema.
	EnvelopeCodec Envelope = "codec"
	// EnvelopeRaw: the body is any JSON value; media type is "application/json" and the content is
	// the parsed JSON as a *any, with no schema (register handlers with T = any).
	EnvelopeRaw Envelope = "raw"
	// EnvelopeNaive: the body is a flat message JSON ({"mediaType": ..., fields...}) as written for
	// local replay; content is decoded by its schema when one exists, else it is the map of the
	// remaining fields (a *map[string]any). opaqueData is read (the original's naive envelope ignored it).
	EnvelopeNaive Envelope = "naive"
)

// RawMediaType is the media type of messages read with [EnvelopeRaw].
const RawMediaType = "application/json"

// ParseEnvelope accepts codec, raw, naive (any case) or the original class names.
func ParseEnvelope(s string) (Envelope, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "codec", "codecsqsenvelope":
		return EnvelopeCodec, nil
	case "raw", "rawsqsenvelope":
		return EnvelopeRaw, nil
	case "naive", "naivesqsenvelope":
		return EnvelopeNaive, nil
	}
	return "", fmt.Errorf("unknown envelope %q: want codec, raw or naive", s)
}

// snsNotification is the JSON SNS writes into SQS when raw delivery is off. Its MessageAttributes
// are deliberately not read: SNS does not sign them, so they could be altered in a replayed
// notification; the media type comes from the (signed) Message.
type snsNotification struct {
	Type             string           `json:"Type"`
	MessageID        string           `json:"MessageId"`
	TopicARN         string           `json:"TopicArn"`
	Subject          *string          `json:"Subject"`
	Message          *string          `json:"Message"`
	Timestamp        string           `json:"Timestamp"`
	SignatureVersion string           `json:"SignatureVersion"`
	Signature        string           `json:"Signature"`
	SigningCertURL   string           `json:"SigningCertURL"`
	MediaType        *json.RawMessage `json:"mediaType"`
}

// notificationMarker prefilters unwrapSNS: a notification's Type value is the JSON string
// "Notification", written either plainly or with \u escapes (which encoding/json decodes too).
var notificationMarker = []byte(`"Notification"`)

// mayBeNotification reports whether body can be an SNS notification as encoding/json reads it.
func mayBeNotification(body []byte) bool {
	return bytes.Contains(body, notificationMarker) || bytes.Contains(body, []byte(`\u`))
}

// parseSNS returns the notification when body is one. A body is a notification only when it has
// the full shape (Type "Notification", TopicArn, MessageId, a string Message) and no mediaType of
// its own, so a payload that merely has a "Message" field is not mistaken for one.
func parseSNS(body []byte) (*snsNotification, bool) {
	if !mayBeNotification(body) {
		return nil, false
	}
	var n snsNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, false // not a notification; the codec reports the JSON error
	}
	if n.Type != "Notification" || n.TopicARN == "" || n.MessageID == "" || n.Message == nil || n.MediaType != nil {
		return nil, false
	}
	return &n, true
}

// unwrapSNS returns the message JSON inside an SNS notification and the notification's topic, or
// the body itself when it is not a notification (raw delivery).
func unwrapSNS(body []byte) (msg []byte, env snsInfo) {
	n, ok := parseSNS(body)
	if !ok {
		return body, env
	}
	return []byte(*n.Message), snsInfo{topicARN: n.TopicARN, messageID: n.MessageID}
}

// snsInfo is what an SNS notification says about its message.
type snsInfo struct {
	topicARN  string
	messageID string
}

// decodeBody turns an SQS body into a Decoded message by the envelope strategy, with no envelope
// checks.
func decodeBody(env Envelope, registry *SchemaRegistry, body []byte) (Decoded, snsInfo, error) {
	return decodeChecked(context.Background(), env, registry, nil, body)
}

// decodeChecked is decodeBody with the envelope checks of g (nil: none) for the codec envelope. A
// body the checks refuse is not decoded at all: its content, media type and opaque data are
// untrusted, so the Decoded is empty and the error a *DecodeError wrapping an *EnvelopeError.
func decodeChecked(ctx context.Context, env Envelope, registry *SchemaRegistry, g *envelopeGuard, body []byte) (Decoded, snsInfo, error) {
	switch env {
	case EnvelopeRaw:
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return Decoded{MediaType: RawMediaType}, snsInfo{}, &DecodeError{MediaType: RawMediaType, Err: fmt.Errorf("malformed JSON: %w", err)}
		}
		return Decoded{MediaType: RawMediaType, Content: rawContent(v), Opaque: Opaque{}}, snsInfo{}, nil
	case EnvelopeNaive:
		d, err := registry.Decode(body)
		var ue *UnknownMediaTypeError
		if err == nil || !errors.As(err, &ue) {
			return d, snsInfo{}, err
		}
		m := map[string]any{}
		if err := json.Unmarshal(body, &m); err != nil {
			return d, snsInfo{}, &DecodeError{MediaType: d.MediaType, Err: err}
		}
		delete(m, "mediaType")
		delete(m, "opaqueData")
		d.Content = &m
		return d, snsInfo{}, nil
	default:
		n, ok := parseSNS(body)
		if !ok {
			if g != nil && g.require {
				return Decoded{}, snsInfo{}, &DecodeError{Field: "Type", Err: &EnvelopeError{Check: CheckRequireEnvelope, Err: ErrNotEnvelope}}
			}
			d, err := registry.Decode(body)
			return d, snsInfo{}, err
		}
		if g != nil {
			if err := g.check(ctx, n); err != nil {
				return Decoded{}, snsInfo{}, err
			}
		}
		d, err := registry.Decode([]byte(*n.Message))
		return d, snsInfo{topicARN: n.TopicARN, messageID: n.MessageID}, err
	}
}

// rawContent wraps schema-less content like decoded content, as a *any: register raw handlers
// with T = any.
func rawContent(v any) any { return &v }
