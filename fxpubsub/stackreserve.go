package fxpubsub

// Worker stacks. A goroutine's stack grows by copying when a call needs more than it has, and the
// garbage collector halves the stack of a goroutine that uses less than a quarter of it, as an
// idle worker waiting for a message does. A worker then regrows its stack for nearly every
// message it handles after a collection: about 1.3 µs per message in the CPU profile of a
// 20,000-message drain at the defaults (in zap's Check, the first deep call of the result line).
// A worker that waits beneath a reserve of workerStackReserve bytes uses at least a quarter of
// the 16 KiB its handling grows the stack to, so the collector leaves that stack alone; a stack
// grown further (a handler with deep calls) is still shrunk back to 16 KiB.

// workerStackReserve is the stack space a pinned worker keeps beneath its loop.
const workerStackReserve = 6 << 10

// pinnedWorkers is how many workers keep a reserve: at most 64 × 16 KiB of stacks stay in use
// while idle. A daemon with more workers runs handlers slow enough that a regrown stack is lost
// in their time.
const pinnedWorkers = 64

// withStackReserve runs f beneath a frame of workerStackReserve bytes (not scanned by the
// collector: they hold no pointers).
//
//go:noinline
func withStackReserve(f func()) {
	var reserve [workerStackReserve]byte
	holdReserve(&reserve)
	f()
}

// holdReserve makes the reserve a used variable that does not escape, so the compiler keeps it in
// withStackReserve's frame.
//
//go:noinline
func holdReserve(*[workerStackReserve]byte) {}
