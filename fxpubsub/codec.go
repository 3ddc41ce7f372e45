package fxpubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

var errMissingMediaType = errors.New("missing mediaType")

// Encode validates content against the schema of mediaType and returns the wire JSON:
// {"mediaType": ..., <content fields>, "opaqueData": {...}}.
//
// content is a value or pointer of the schema's type (the fast path), any other struct, or a
// map[string]any; fields (may be nil) add or replace top-level fields, like the original's keyword
// arguments. Anything that is not the schema's type is converted through its JSON form, and fields
// the schema does not know are dropped. opaque may be nil ("opaqueData" is then {}; never null).
func (r *SchemaRegistry) Encode(mediaType string, content any, fields map[string]any, opaque Opaque) ([]byte, error) {
	schema, err := r.Find(mediaType)
	if err != nil {
		return nil, err
	}
	value, err := r.contentValue(schema, mediaType, content, fields)
	if err != nil {
		return nil, err
	}
	if err := r.validator.check(mediaType, value); err != nil {
		return nil, err
	}
	inner, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("encode %q content: %w", mediaType, err)
	}
	inner = bytes.TrimSpace(inner)
	if len(inner) < 2 || inner[0] != '{' {
		return nil, fmt.Errorf("encode %q content: schema type %v does not encode to a JSON object", mediaType, schema.typ)
	}
	body := inner[1 : len(inner)-1]
	if len(bytes.TrimSpace(body)) == 0 {
		body = nil
	}
	// One buffer, sized for the usual case (nothing to escape): the opaque object is written
	// straight into it.
	size := len(`{"mediaType":,"opaqueData":}`) + len(mediaType) + 2 + len(body) + 1 + opaque.jsonSizeHint()
	out := make([]byte, 0, size)
	out = append(out, `{"mediaType":`...)
	out = appendJSONString(out, mediaType)
	if body != nil {
		out = append(out, ',')
		out = append(out, body...)
	}
	out = append(out, `,"opaqueData":`...)
	if out, err = opaque.appendJSON(out); err != nil {
		return nil, fmt.Errorf("encode %q opaque data: %w", mediaType, err)
	}
	return append(out, '}'), nil
}

// appendJSONString appends s as a JSON string, byte for byte as encoding/json writes it: <, > and
// & escaped (\u003c, \u003e, \u0026), U+2028 and U+2029 escaped, invalid UTF-8 as \ufffd. A string
// with nothing to escape, the usual case, is copied without allocating; any other is left to
// encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if !jsonPlain[c] {
				return appendJSONStringEscaped(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendJSONStringEscaped(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendJSONStringEscaped(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // a string always marshals
	return append(b, enc...)
}

// jsonPlain holds the ASCII bytes encoding/json writes unescaped in a string (with HTML escaping on,
// as json.Marshal has it).
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ { // 0x7f (DEL) included
		t[c] = true
	}
	for _, c := range `"\\<>&` {
		t[c] = false
	}
	return t
}()

// contentValue returns a pointer to a value of the schema's type built from content and fields.
func (r *SchemaRegistry) contentValue(schema *Schema, mediaType string, content any, fields map[string]any) (any, error) {
	if len(fields) == 0 && content != nil {
		rv := reflect.ValueOf(content)
		switch {
		case rv.Type() == schema.typ:
			p := reflect.New(schema.typ)
			p.Elem().Set(rv)
			return p.Interface(), nil
		case rv.Kind() == reflect.Pointer && rv.Type().Elem() == schema.typ && !rv.IsNil():
			return content, nil
		}
	}
	merged, err := contentMap(content)
	if err != nil {
		return nil, &ValidationError{MediaType: mediaType, Problems: []FieldProblem{{Reason: err.Error()}}}
	}
	for k, v := range fields {
		merged[k] = v
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, &ValidationError{MediaType: mediaType, Problems: []FieldProblem{{Reason: err.Error()}}}
	}
	p := reflect.New(schema.typ)
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return nil, &ValidationError{MediaType: mediaType, Problems: []FieldProblem{jsonProblem(err)}}
	}
	return p.Interface(), nil
}

// contentMap returns a fresh map holding content's top-level JSON fields.
func contentMap(content any) (map[string]any, error) {
	switch c := content.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		m := make(map[string]any, len(c)+2)
		for k, v := range c {
			m[k] = v
		}
		return m, nil
	}
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("content of type %T is not a JSON object", content)
	}
	return m, nil
}

func jsonProblem(err error) FieldProblem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return FieldProblem{Field: te.Field, Reason: fmt.Sprintf("cannot use JSON %s as %v", te.Value, te.Type)}
	}
	return FieldProblem{Reason: err.Error()}
}

// Decoded is a decoded message.
type Decoded struct {
	MediaType string
	Content   any // a pointer to the schema's type
	Opaque    Opaque
	URI       string // the message's top-level "uri" field when it is a string
}

type messageHead struct {
	MediaType  *string                    `json:"mediaType"`
	URI        json.RawMessage            `json:"uri"`
	OpaqueData map[string]json.RawMessage `json:"opaqueData"`
}

// Decode parses a message body (the message JSON, not an SQS or SNS envelope), finds the schema of
// its mediaType, decodes the content into the schema's type dropping unknown fields, and validates
// it. Errors are *DecodeError naming the media type and field where known; an unknown media type is
// a *DecodeError wrapping *UnknownMediaTypeError, with the media type and opaque data still set in
// the returned Decoded so a caller can ignore it knowingly.
func (r *SchemaRegistry) Decode(body []byte) (Decoded, error) {
	h, ok := scanHeadIn(body, r)
	if !ok {
		var err error
		if h, err = decodeHead(body); err != nil {
			return Decoded{}, err
		}
	}
	if !h.hasMediaType || h.mediaType == "" {
		return Decoded{}, &DecodeError{Field: "mediaType", Err: errMissingMediaType}
	}
	if h.opaque == nil {
		h.opaque = Opaque{}
	}
	d := Decoded{MediaType: h.mediaType, Opaque: h.opaque, URI: h.uri}
	schema, err := r.Find(d.MediaType)
	if err != nil {
		if !json.Valid(body) {
			return Decoded{}, &DecodeError{MediaType: d.MediaType, Err: errors.New("malformed JSON")}
		}
		return d, &DecodeError{MediaType: d.MediaType, Err: err}
	}
	p := reflect.New(schema.typ)
	if err := json.Unmarshal(body, p.Interface()); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Decoded{}, &DecodeError{MediaType: d.MediaType, Err: fmt.Errorf("malformed JSON: %w", err)}
		}
		fp := jsonProblem(err)
		return d, &DecodeError{MediaType: d.MediaType, Field: fp.Field, Err: errors.New(fp.Reason)}
	}
	if err := r.validator.check(d.MediaType, p.Interface()); err != nil {
		var field string
		var ve *ValidationError
		if errors.As(err, &ve) && len(ve.Problems) > 0 {
			field = ve.Problems[0].Field
		}
		return d, &DecodeError{MediaType: d.MediaType, Field: field, Err: err}
	}
	d.Content = p.Interface()
	return d, nil
}

// decodeHead is the slow, precise path for bodies scanHead declines: it returns encoding/json's
// verdict as a *DecodeError, or the head when the body is fine after all.
func decodeHead(body []byte) (head, error) {
	var mh messageHead
	if err := json.Unmarshal(body, &mh); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return head{}, &DecodeError{Err: fmt.Errorf("message is a JSON %s, not an object", te.Value)}
		}
		if errors.As(err, &te) {
			p := jsonProblem(err)
			return head{}, &DecodeError{Field: p.Field, Err: errors.New(p.Reason)}
		}
		return head{}, &DecodeError{Err: fmt.Errorf("malformed JSON: %w", err)}
	}
	h := head{opaque: decodeOpaque(mh.OpaqueData)}
	if mh.MediaType != nil {
		h.mediaType, h.hasMediaType = *mh.MediaType, true
	}
	if len(mh.URI) > 0 && mh.URI[0] == '"' {
		_ = json.Unmarshal(mh.URI, &h.uri)
	}
	return h, nil
}

// decodeOpaque keeps the wire's keys exactly, string values as strings and every other value
// (null included) as its exact JSON text, as the original's SQSMessage.opaque_data does.
func decodeOpaque(raw map[string]json.RawMessage) Opaque {
	if raw == nil {
		return nil
	}
	return opaqueFromRaw(raw)
}

// formatEpoch renders seconds since the epoch as microcosm does ("1795775410.021493").
func formatEpoch(sec float64) string {
	return strconv.FormatFloat(sec, 'f', 6, 64)
}
