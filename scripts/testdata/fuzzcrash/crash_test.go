// Package fuzzcrash holds a planted crasher for scripts/fuzz-selftest.sh: the fuzzer finds an input
// of three or more bytes within a second, and the target panics on it.
package fuzzcrash

import "testing"

func FuzzPlanted(f *testing.F) {
	f.Add("a")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) >= 3 {
			panic("planted crasher: " + s)
		}
	})
}
