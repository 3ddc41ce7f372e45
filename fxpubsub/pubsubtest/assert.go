package pubsubtest

import (
	"fmt"
	"strings"
	"testing"
)

// AssertPublished checks that exactly len(matchers) messages were published, the i-th matching
// matchers[i] (the original's published(...)). On failure it reports with t.Errorf what was wanted
// and everything published, and returns false. It looks at what is recorded now: after publishing
// from the test itself that is everything; for messages handlers publish, wait first
// ([Results.Wait], [Recorder.Wait]).
func AssertPublished(t testing.TB, rec *Recorder, matchers ...Matcher) bool {
	t.Helper()
	got := rec.Published()
	if len(got) != len(matchers) {
		t.Errorf("pubsubtest.AssertPublished: want %d %s, got %d\n%s", len(matchers), plural(len(matchers)), len(got), report(matchers, got))
		return false
	}
	var bad []string
	for i, m := range matchers {
		if !m.Matches(got[i]) {
			bad = append(bad, fmt.Sprintf("message %d does not match:\n  want: %s\n  got:  %s", i+1, m, got[i]))
		}
	}
	if len(bad) > 0 {
		t.Errorf("pubsubtest.AssertPublished: %s\n%s", strings.Join(bad, "\n"), report(matchers, got))
		return false
	}
	return true
}

// AssertPublishedInAnyOrder checks that exactly len(matchers) messages were published and that
// each matcher matches a different one of them, in any order (the original's
// published_inanyorder(...)). Overlapping matchers are paired so that a pairing is found whenever
// one exists. On failure it reports with t.Errorf and returns false.
func AssertPublishedInAnyOrder(t testing.TB, rec *Recorder, matchers ...Matcher) bool {
	t.Helper()
	got := rec.Published()
	if len(got) != len(matchers) {
		t.Errorf("pubsubtest.AssertPublishedInAnyOrder: want %d %s, got %d\n%s", len(matchers), plural(len(matchers)), len(got), report(matchers, got))
		return false
	}
	owner := pair(matchers, got)
	matched := make([]bool, len(matchers))
	for _, i := range owner {
		if i >= 0 {
			matched[i] = true
		}
	}
	var unmatched []string
	for i, ok := range matched {
		if !ok {
			unmatched = append(unmatched, fmt.Sprintf("\n  %d. %s", i+1, matchers[i]))
		}
	}
	if len(unmatched) > 0 {
		t.Errorf("pubsubtest.AssertPublishedInAnyOrder: no distinct published message for:%s\n%s", strings.Join(unmatched, ""), report(matchers, got))
		return false
	}
	return true
}

// AssertNothingPublished checks that no message was published (the original's
// published_nothing()). On failure it lists them with t.Errorf and returns false.
func AssertNothingPublished(t testing.TB, rec *Recorder) bool {
	t.Helper()
	got := rec.Published()
	if len(got) > 0 {
		t.Errorf("pubsubtest.AssertNothingPublished: %d %s published%s", len(got), plural(len(got)), list(got, Published.String))
		return false
	}
	return true
}

// pair finds a maximum matching between matchers and messages (Kuhn's augmenting paths) and
// returns, per message, the index of its matcher or -1.
func pair(matchers []Matcher, got []Published) []int {
	ok := make([][]bool, len(matchers))
	for i, m := range matchers {
		ok[i] = make([]bool, len(got))
		for j, p := range got {
			ok[i][j] = m.Matches(p)
		}
	}
	owner := make([]int, len(got))
	for j := range owner {
		owner[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range got {
			if ok[i][j] && !seen[j] {
				seen[j] = true
				if owner[j] < 0 || try(owner[j], seen) {
					owner[j] = i
					return true
				}
			}
		}
		return false
	}
	for i := range matchers {
		try(i, make([]bool, len(got)))
	}
	return owner
}

// report lists what was wanted and what was published.
func report(matchers []Matcher, got []Published) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wanted (%d):", len(matchers))
	if len(matchers) == 0 {
		b.WriteString(" nothing")
	}
	for i, m := range matchers {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, m)
	}
	fmt.Fprintf(&b, "\npublished (%d):", len(got))
	if len(got) == 0 {
		b.WriteString(" nothing")
	}
	b.WriteString(strings.TrimPrefix(list(got, Published.String), ":"))
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return "message"
	}
	return "messages"
}
