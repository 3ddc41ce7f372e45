package fxpubsub

import (
	"fmt"
	"strings"
	"testing"
)

// chunkByTopic keeps first-seen topic order and message order within a topic, and cuts chunks at
// 10 entries or 256 KiB; one topic takes the same path without grouping.
func TestChunkByTopic(t *testing.T) {
	msg := func(topic string, size int) *outgoing {
		return &outgoing{topicARN: topic, mediaType: "m", body: strings.Repeat("x", size)}
	}
	big := MaxMessageSize / 2
	cases := []struct {
		name     string
		prepared []*outgoing
		idxs     []int
		want     string
	}{
		{"one topic, 12 messages", func() []*outgoing {
			var p []*outgoing
			for range 12 {
				p = append(p, msg("a", 10))
			}
			return p
		}(), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, "[[0 1 2 3 4 5 6 7 8 9] [10 11]]"},
		{"two topics interleaved", []*outgoing{msg("b", 10), msg("a", 10), msg("b", 10), msg("a", 10)}, []int{0, 1, 2, 3}, "[[0 2] [1 3]]"},
		{"size limit", []*outgoing{msg("a", big), msg("a", big), msg("a", 10)}, []int{0, 1, 2}, "[[0] [1 2]]"},
		{"a subset", []*outgoing{msg("a", 10), msg("b", 10), msg("a", 10)}, []int{2, 1}, "[[2] [1]]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(chunkByTopic(c.prepared, c.idxs)); got != c.want {
			t.Errorf("%s: chunks %s, want %s", c.name, got, c.want)
		}
	}
}
