package fxpubsub

import (
	"testing"
	"unsafe"
)

// withStackReserve runs f at least workerStackReserve bytes deeper than its caller: the compiler
// kept the reserve in the frame.
func TestWithStackReserveKeepsTheReserve(t *testing.T) {
	done := make(chan int)
	go func() {
		var outer byte
		withStackReserve(func() {
			var inner byte
			// Both addresses are read here, together, so a stack copy in between cannot skew them.
			done <- int(uintptr(unsafe.Pointer(&outer))) - int(uintptr(unsafe.Pointer(&inner)))
		})
	}()
	// Stacks grow down: f's variables are at lower addresses than its caller's.
	if gap := <-done; gap < workerStackReserve || gap > 2*workerStackReserve {
		t.Fatalf("f runs %d bytes below its caller, want %d to %d", gap, workerStackReserve, 2*workerStackReserve)
	}
}
