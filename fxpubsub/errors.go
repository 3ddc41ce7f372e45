package fxpubsub

import (
	"fmt"
	"strings"
)

// UnknownMediaTypeError reports a media type with no registered schema, no wildcard schema and no
// convention schema.
type UnknownMediaTypeError struct {
	MediaType string
}

func (e *UnknownMediaTypeError) Error() string {
	return fmt.Sprintf("unknown media type %q: register a schema for it", e.MediaType)
}

// TopicNotDefinedError reports that sns_topic_arns maps the media type to no topic.
type TopicNotDefinedError struct {
	MediaType string
}

func (e *TopicNotDefinedError) Error() string {
	return fmt.Sprintf("no topic defined for media type %q (set sns_topic_arns.default, sns_topic_arns.mappings or sns_topic_arns.<lifecycle>.<resource>)", e.MediaType)
}

// FieldProblem is one reason content failed its schema.
type FieldProblem struct {
	Field  string // wire name, dotted for nested fields
	Reason string
}

func (p FieldProblem) String() string {
	if p.Field == "" {
		return p.Reason
	}
	return p.Field + ": " + p.Reason
}

// ValidationError reports content that does not satisfy the schema of its media type.
type ValidationError struct {
	MediaType string
	Problems  []FieldProblem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("invalid %q message: %s", e.MediaType, strings.Join(parts, "; "))
}

// DecodeError reports a message body that could not be decoded: malformed JSON, a missing
// mediaType, a field of the wrong type, or content failing validation (then Err is a
// *ValidationError). MediaType is empty when it could not be read.
type DecodeError struct {
	MediaType string
	Field     string
	Err       error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("decode message")
	if e.MediaType != "" {
		fmt.Fprintf(&b, " %q", e.MediaType)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// MessageTooLargeError reports a message over the SNS limit (256 KiB including attributes).
type MessageTooLargeError struct {
	MediaType string
	Size      int
	Limit     int
}

func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("%q message is %d bytes, over the %d-byte SNS limit", e.MediaType, e.Size, e.Limit)
}

// PublishError reports that SNS refused or failed a publish; Err is the SDK error (errors.As works
// for the SDK's typed errors).
type PublishError struct {
	MediaType string
	TopicARN  string
	Err       error
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("publish %q to %s: %v", e.MediaType, e.TopicARN, e.Err)
}

func (e *PublishError) Unwrap() error { return e.Err }
