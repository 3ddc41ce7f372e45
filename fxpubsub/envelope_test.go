package fxpubsub

import (
	"errors"
	"reflect"
	"testing"
)

func TestUnwrapSNS(t *testing.T) {
	inner := `{"mediaType":"` + Created("foo") + `","uri":"u","opaqueData":{}}`
	quoted := `"{\"mediaType\":\"` + Created("foo") + `\",\"uri\":\"u\",\"opaqueData\":{}}"`
	tests := []struct {
		name      string
		body      string
		wantMsg   string
		wantTopic string
	}{
		{"envelope", `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":` + quoted + `,"Timestamp":"2026-11-27T10:21:55.838Z","SignatureVersion":"1","Signature":"EXAMPLE"}`, inner, "arn:t"},
		{"raw delivery", inner, inner, ""},
		{"payload with a Message field", `{"mediaType":"x","Message":"hello","Type":"Notification","TopicArn":"arn:t","MessageId":"m"}`,
			`{"mediaType":"x","Message":"hello","Type":"Notification","TopicArn":"arn:t","MessageId":"m"}`, ""},
		{"notification without TopicArn", `{"Type":"Notification","MessageId":"m","Message":"x"}`, `{"Type":"Notification","MessageId":"m","Message":"x"}`, ""},
		{"Message not a string", `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":{"a":1}}`, `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Message":{"a":1}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, info := unwrapSNS([]byte(tt.body))
			if string(msg) != tt.wantMsg || info.topicARN != tt.wantTopic || (tt.wantTopic != "" && info.messageID != "m") {
				t.Fatalf("got %s, %+v; want %s, %q", msg, info, tt.wantMsg, tt.wantTopic)
			}
		})
	}
}

func TestDecodeBodyStrategies(t *testing.T) {
	r := newTestRegistry(t)
	flat := []byte(`{"mediaType":"application/vnd.globality.pubsub.simple","message":"hi","opaqueData":{"X-Request-Id":"r"}}`)

	d, _, err := decodeBody(EnvelopeNaive, r, flat)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Content, &map[string]any{"message": "hi"}) || d.Opaque.Get("x-request-id") != "r" {
		t.Fatalf("naive: %+v", d)
	}
	if _, _, err := decodeBody(EnvelopeCodec, r, flat); err == nil {
		t.Fatal("codec must refuse an unknown media type")
	}
	d, _, err = decodeBody(EnvelopeRaw, r, []byte(`{"a":[1]}`))
	if err != nil || d.MediaType != RawMediaType || !reflect.DeepEqual(*d.Content.(*any), map[string]any{"a": []any{1.0}}) {
		t.Fatalf("raw: %+v %v", d, err)
	}
	var de *DecodeError
	if _, _, err := decodeBody(EnvelopeRaw, r, []byte(`{`)); !errors.As(err, &de) {
		t.Fatalf("raw malformed: %v", err)
	}
	if _, _, err := decodeBody(EnvelopeNaive, r, []byte(`{"mediaType":"`+Created("foo")+`"}`)); !errors.As(err, &de) || de.Field != "uri" {
		t.Fatalf("naive must still validate known schemas: %v", err)
	}
}

func TestParseEnvelope(t *testing.T) {
	for give, want := range map[string]Envelope{"": EnvelopeCodec, "CodecSQSEnvelope": EnvelopeCodec, "RAW": EnvelopeRaw, "NaiveSQSEnvelope": EnvelopeNaive} {
		if got, err := ParseEnvelope(give); err != nil || got != want {
			t.Errorf("ParseEnvelope(%q) = %q, %v", give, got, err)
		}
	}
	if _, err := ParseEnvelope("LambdaSQSEnvelope"); err == nil {
		t.Error("lambda envelope is not supported and must say so")
	}
}
