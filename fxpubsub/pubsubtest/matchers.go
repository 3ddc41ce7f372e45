package pubsubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Matcher decides whether one published message is the one a test expects (the original's
// has_media_type, has_uri, ...). Build them with [HasMediaType], [HasURI], [HasField],
// [HasContent], [HasOpaque], [HasTopic], [All] and [MatchFunc], or implement the interface.
type Matcher interface {
	// Matches reports whether p is accepted.
	Matches(p Published) bool
	// String describes what is accepted, for failure messages ("media type X and uri Y").
	String() string
}

type matchFunc struct {
	desc string
	fn   func(Published) bool
}

func (m matchFunc) Matches(p Published) bool { return m.fn(p) }
func (m matchFunc) String() string           { return m.desc }

// MatchFunc returns a Matcher from a predicate and its description.
func MatchFunc(desc string, fn func(p Published) bool) Matcher {
	return matchFunc{desc: desc, fn: fn}
}

// HasMediaType matches messages with exactly this media type.
func HasMediaType(mediaType string) Matcher {
	return MatchFunc("media type "+mediaType, func(p Published) bool { return p.MediaType == mediaType })
}

// HasURI matches messages whose "uri" field is uri.
func HasURI(uri string) Matcher {
	return MatchFunc("uri "+uri, func(p Published) bool {
		v, ok := p.Content["uri"].(string)
		return ok && v == uri
	})
}

// HasTopic matches messages published to the topic topicARN.
func HasTopic(topicARN string) Matcher {
	return MatchFunc("topic "+topicARN, func(p Published) bool { return p.TopicARN == topicARN })
}

// HasOpaque matches messages whose opaque data has key (case-insensitive) set to the string
// value; a number or boolean never matches (see [HasOpaqueValue]).
func HasOpaque(key, value string) Matcher {
	return MatchFunc(fmt.Sprintf("opaque %s=%s", strings.ToLower(key), value), func(p Published) bool {
		v, ok := p.Opaque[strings.ToLower(key)].(string)
		return ok && v == value
	})
}

// HasOpaqueValue matches messages whose opaque data has key (case-insensitive) equal to value as
// JSON, type included: HasOpaqueValue("n", 123) matches the JSON number 123, not the string
// "123"; HasOpaqueValue("id", "abc") is HasOpaque("id", "abc"). Numbers compare as written
// (123.0 is not 123), like the original, which passes opaque values through as they are.
func HasOpaqueValue(key string, value any) Matcher {
	want, err := json.Marshal(value)
	return MatchFunc(fmt.Sprintf("opaque %s=%s", strings.ToLower(key), want), func(p Published) bool {
		got, ok := p.Opaque.Value(strings.ToLower(key))
		return ok && err == nil && jsonSame(got, want)
	})
}

// jsonSame reports whether a and b are the same JSON value, numbers compared by their text.
func jsonSame(a, b []byte) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	return da.Decode(&x) == nil && db.Decode(&y) == nil && reflect.DeepEqual(x, y)
}

// HasField matches messages whose top-level content field name equals value as JSON: value is
// encoded and decoded the way [Published.Content] is, so HasField("count", 3) matches the JSON
// number 3 and HasField("ids", []string{"a"}) matches ["a"]. An unencodable value never matches.
func HasField(name string, value any) Matcher {
	want, err := jsonValue(value)
	desc := fmt.Sprintf("%s=%s", name, describeValue(value))
	if err != nil {
		return MatchFunc(desc+" (unencodable: "+err.Error()+")", func(Published) bool { return false })
	}
	return MatchFunc(desc, func(p Published) bool {
		got, ok := p.Content[name]
		return ok && reflect.DeepEqual(got, want)
	})
}

// HasContent matches messages whose content includes every field of content's JSON encoding
// (a struct of the message's schema type, or a map) with equal values; other fields may be present.
func HasContent(content any) Matcher {
	v, err := jsonValue(content)
	fields, ok := v.(map[string]any)
	desc := "content " + describeValue(content)
	if err != nil || !ok {
		return MatchFunc(desc+" (not a JSON object)", func(Published) bool { return false })
	}
	return MatchFunc(desc, func(p Published) bool {
		for k, want := range fields {
			got, ok := p.Content[k]
			if !ok || !reflect.DeepEqual(got, want) {
				return false
			}
		}
		return true
	})
}

// All matches messages that every m matches.
func All(matchers ...Matcher) Matcher {
	descs := make([]string, len(matchers))
	for i, m := range matchers {
		descs[i] = m.String()
	}
	desc := strings.Join(descs, " and ")
	if desc == "" {
		desc = "any message"
	}
	return MatchFunc(desc, func(p Published) bool {
		for _, m := range matchers {
			if !m.Matches(p) {
				return false
			}
		}
		return true
	})
}

// jsonValue round-trips v through JSON so it compares with decoded content.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func describeValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
