package fxpubsub

import (
	"errors"
	"testing"
)

func TestTopicMapPrecedence(t *testing.T) {
	tm, err := NewTopicMap(map[string]any{
		"default": "arn:default",
		"mappings": map[string]any{
			Created("foo"): "arn:mapping-foo",
			Created("bar"): "arn:mapping-bar",
			// a media type split on its dots, as some loaders return it
			"application/vnd": map[string]any{"globality": map[string]any{"pubsub": map[string]any{"_": map[string]any{"created": map[string]any{"baz": "arn:split"}}}}},
		},
		"created": map[string]any{
			"foo": "arn:lifecycle-foo",
			"foo_bar": map[string]any{
				"this_that": "arn:nested",
			},
		},
		"deleted": map[string]any{"foo": nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		give string
		want string
	}{
		{Created("foo"), "arn:lifecycle-foo"},
		{Created("bar"), "arn:mapping-bar"},
		{Created("baz"), "arn:split"},
		{Created("FooBar.ThisThat"), "arn:nested"},
		{Changed("anything"), "arn:default"},
	}
	for _, tt := range tests {
		got, err := tm.Lookup(tt.give)
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.give, got, err, tt.want)
		}
	}
	var tnd *TopicNotDefinedError
	if _, err := tm.Lookup(Deleted("foo")); !errors.As(err, &tnd) {
		t.Errorf("explicit null mapping: got %v, want TopicNotDefinedError", err)
	}
	if _, err := tm.Lookup(BatchMessageMediaType); !errors.As(err, &tnd) {
		t.Errorf("batch media type must not fall back to the default topic: %v", err)
	}
}

func TestTopicMapErrors(t *testing.T) {
	tests := []struct {
		give map[string]any
		want string
	}{
		{map[string]any{"default": 5}, "sns_topic_arns.default: want a topic ARN, got int"},
		{map[string]any{"mappings": "x"}, "sns_topic_arns.mappings: want a map of media type to topic ARN, got string"},
		{map[string]any{"created": "x"}, "sns_topic_arns.created: want a map of resource name to topic ARN (a lifecycle word), got string"},
		{map[string]any{"created": map[string]any{"foo": 1}}, "sns_topic_arns.created.foo: want a topic ARN, got int"},
	}
	for _, tt := range tests {
		_, err := NewTopicMap(tt.give)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewTopicMap(%v) = %v, want %q", tt.give, err, tt.want)
		}
	}
	empty, _ := NewTopicMap(nil)
	var tnd *TopicNotDefinedError
	if _, err := empty.Lookup(Created("foo")); !errors.As(err, &tnd) || tnd.MediaType != Created("foo") {
		t.Errorf("empty map: %v", err)
	}
}
