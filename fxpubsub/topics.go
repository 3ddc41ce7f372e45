package fxpubsub

import (
	"fmt"
	"sort"
	"strings"
)

// TopicMap maps media types to SNS topic ARNs (section sns_topic_arns): an exact entry from a
// lifecycle key (sns_topic_arns.<lifecycle>.<resource>) wins over one from sns_topic_arns.mappings,
// which wins over sns_topic_arns.default. The batch media type never falls back to the default
// topic: batches need an explicit mapping.
type TopicMap struct {
	def   string
	exact map[string]string
}

// NewTopicMap builds a TopicMap from the sns_topic_arns section as loaded (nested maps). Nested
// keys are joined with "." (so media types in mappings may come back split on dots, and env vars
// such as EXAMPLE__SNS_TOPIC_ARNS__CREATED__FOO__BAR map created("foo.bar")).
func NewTopicMap(section map[string]any) (*TopicMap, error) {
	t := &TopicMap{exact: map[string]string{}}
	lifecycle := map[string]string{}
	for key, v := range section {
		switch strings.ToLower(key) {
		case "default":
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("sns_topic_arns.default: want a topic ARN, got %T", v)
			}
			t.def = s
		case "mappings":
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return nil, fmt.Errorf("sns_topic_arns.mappings: want a map of media type to topic ARN, got %T", v)
			}
			if err := flatten("sns_topic_arns.mappings", "", m, func(k, arn string) { t.exact[k] = arn }); err != nil {
				return nil, err
			}
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("sns_topic_arns.%s: want a map of resource name to topic ARN (a lifecycle word), got %T", key, v)
			}
			word := strings.ToLower(key)
			if err := flatten("sns_topic_arns."+key, "", m, func(k, arn string) { lifecycle[MediaType(k, word)] = arn }); err != nil {
				return nil, err
			}
		}
	}
	for k, v := range lifecycle {
		t.exact[k] = v
	}
	return t, nil
}

func flatten(path, prefix string, m map[string]any, put func(key, arn string)) error {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch x := v.(type) {
		case string:
			put(key, x)
		case nil:
			put(key, "")
		case map[string]any:
			if err := flatten(path, key, x, put); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s.%s: want a topic ARN, got %T", path, key, v)
		}
	}
	return nil
}

// Lookup returns the topic for mediaType, or a *TopicNotDefinedError.
func (t *TopicMap) Lookup(mediaType string) (string, error) {
	if arn, ok := t.exact[mediaType]; ok {
		if arn == "" {
			return "", &TopicNotDefinedError{MediaType: mediaType}
		}
		return arn, nil
	}
	if t.def != "" && mediaType != BatchMessageMediaType {
		return t.def, nil
	}
	return "", &TopicNotDefinedError{MediaType: mediaType}
}

// TopicARNs lists every distinct topic ARN mentioned, sorted.
func (t *TopicMap) TopicARNs() []string {
	seen := map[string]bool{}
	if t.def != "" {
		seen[t.def] = true
	}
	for _, arn := range t.exact {
		if arn != "" {
			seen[arn] = true
		}
	}
	out := make([]string, 0, len(seen))
	for arn := range seen {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out
}
