package pubsubmem

import (
	"crypto/rand"
	"sync"
)

// Random bytes for ids are read from crypto/rand in blocks, so an id costs one short critical section
// rather than a system call.
var entropy struct {
	sync.Mutex
	buf [4096]byte
	off int
}

func init() { entropy.off = len(entropy.buf) }

// newUUID returns a random (version 4, RFC 9562) UUID in its canonical lower-case form.
func newUUID() string {
	var u [16]byte
	entropy.Lock()
	if entropy.off+16 > len(entropy.buf) {
		_, _ = rand.Read(entropy.buf[:]) // never fails (crypto/rand panics on failure since Go 1.24)
		entropy.off = 0
	}
	copy(u[:], entropy.buf[entropy.off:])
	entropy.off += 16
	entropy.Unlock()
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80

	const hexdigits = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j] = hexdigits[c>>4]
		s[j+1] = hexdigits[c&0xf]
		j += 2
	}
	return string(s[:])
}
