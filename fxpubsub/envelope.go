package fxpubsub

import (
	"bytes"
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

// snsNotification is the JSON SNS writes into SQS when raw delivery is off.
type snsNotification struct {
	Type              string                  `json:"Type"`
	MessageID         string                  `json:"MessageId"`
	TopicARN          string                  `json:"TopicArn"`
	Subject           string                  `json:"Subject"`
	Message           *string                 `json:"Message"`
	Timestamp         string                  `json:"Timestamp"`
	MediaType         *json.RawMessage        `json:"mediaType"`
	MessageAttributes map[string]snsAttribute `json:"MessageAttributes"`
}

type snsAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

var notificationMarker = []byte(`"Notification"`)

// unwrapSNS returns the message JSON inside an SNS notification and the notification's topic, or
// the body itself when it is not a notification (raw delivery). A body is a notification only when
// it has the full shape (Type "Notification", TopicArn, MessageId, a string Message) and no
// mediaType of its own, so a payload that merely has a "Message" field is not mistaken for one.
func unwrapSNS(body []byte) (msg []byte, env snsInfo) {
	if !bytes.Contains(body, notificationMarker) {
		return body, env
	}
	var n snsNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return body, env // not a notification; the codec reports the JSON error
	}
	if n.Type != "Notification" || n.TopicARN == "" || n.MessageID == "" || n.Message == nil || n.MediaType != nil {
		return body, env
	}
	return []byte(*n.Message), snsInfo{topicARN: n.TopicARN, messageID: n.MessageID}
}

// snsInfo is what an SNS notification says about its message.
type snsInfo struct {
	topicARN  string
	messageID string
}

// decodeBody turns an SQS body into a Decoded message by the envelope strategy.
func decodeBody(env Envelope, registry *SchemaRegistry, body []byte) (Decoded, snsInfo, error) {
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
		msg, info := unwrapSNS(body)
		d, err := registry.Decode(msg)
		return d, info, err
	}
}

// rawContent wraps schema-less content like decoded content, as a *any: register raw handlers
// with T = any.
func rawContent(v any) any { return &v }
