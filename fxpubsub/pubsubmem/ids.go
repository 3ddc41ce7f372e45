package pubsubmem

import (
	"crypto/rand"
	"sync"
)

// idSource reads random bytes for ids from crypto/rand in blocks, so an id costs one short critical
// section rather than a system call. Each Backend owns one.
type idSource struct {
	mu     sync.Mutex
	buf    [4096]byte
	off    int
	filled bool
}

// newUUID returns a random (version 4, RFC 9562) UUID in its canonical lower-case form.
func (src *idSource) newUUID() string {
	var u [16]byte
	src.mu.Lock()
	if !src.filled || src.off+16 > len(src.buf) {
		_, _ = rand.Read(src.buf[:]) // never fails (crypto/rand panics on failure since Go 1.24)
		src.off, src.filled = 0, true
	}
	copy(u[:], src.buf[src.off:])
	src.off += 16
	src.mu.Unlock()
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
