package pubsubmem

import "testing"

// TestMsgTable holds the table to a map of the same keys through puts and deletes that leave pages
// partly and wholly empty, and checks that emptied pages are freed.
func TestMsgTable(t *testing.T) {
	var tab msgTable
	want := map[uint64]*message{}
	check := func(stage string) {
		t.Helper()
		if tab.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", stage, tab.len(), len(want))
		}
		for k := uint64(1); k <= 1000; k++ {
			if got := tab.get(k); got != want[k] {
				t.Fatalf("%s: get(%d) = %p, want %p", stage, k, got, want[k])
			}
		}
		seen := 0
		tab.each(func(m *message) {
			if want[m.key] != m {
				t.Fatalf("%s: each gave %d, not in the table", stage, m.key)
			}
			seen++
		})
		if seen != len(want) {
			t.Fatalf("%s: each gave %d messages, want %d", stage, seen, len(want))
		}
	}
	for k := uint64(1); k <= 1000; k++ {
		m := &message{key: k}
		tab.put(m)
		want[k] = m
	}
	check("after puts")
	for k := uint64(1); k <= 1000; k++ {
		if k%3 != 0 || k < 500 { // pages below 500 empty out; the rest keep every third key
			tab.del(k)
			delete(want, k)
		}
	}
	tab.del(2)    // already gone
	tab.del(5000) // never issued
	check("after deletes")
	if got, max := len(tab.pages), (1000-500)/pageSize+2; got > max {
		t.Fatalf("%d pages kept, want at most %d (emptied pages are freed)", got, max)
	}
	m := &message{key: 1001}
	tab.put(m)
	want[1001] = m
	if tab.get(1001) != m {
		t.Fatal("put after deletes is not found")
	}
	tab.reset()
	if tab.len() != 0 || tab.get(999) != nil {
		t.Fatal("reset left messages behind")
	}
}
