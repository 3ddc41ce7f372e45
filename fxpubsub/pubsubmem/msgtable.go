package pubsubmem

// msgTable holds a queue's live messages by key. Keys are issued in increasing order, so the table
// keeps them in pages of consecutive keys: a lookup is one small map access (or none, when the page
// is the one used last) and an index, where a map of every message would miss the CPU cache once a
// queue holds many. A page is freed when its last message goes, so a message that lingers keeps at
// most one page (about 0.5 KB) alive.
type msgTable struct {
	pages map[uint64]*msgPage // by key >> pageBits
	n     int
	// last is the page used last (nil: none); receives, deletes and sends touch nearby keys.
	last    *msgPage
	lastNum uint64
}

const (
	pageBits = 6
	pageSize = 1 << pageBits
)

type msgPage struct {
	slots [pageSize]*message
	live  int
}

// page returns the page holding key, creating it if create is set (nil if absent otherwise).
func (t *msgTable) page(key uint64, create bool) *msgPage {
	num := key >> pageBits
	if t.last != nil && t.lastNum == num {
		return t.last
	}
	p := t.pages[num]
	if p == nil {
		if !create {
			return nil
		}
		if t.pages == nil {
			t.pages = map[uint64]*msgPage{}
		}
		p = &msgPage{}
		t.pages[num] = p
	}
	t.last, t.lastNum = p, num
	return p
}

// get returns the live message with key (nil if none).
func (t *msgTable) get(key uint64) *message {
	p := t.page(key, false)
	if p == nil {
		return nil
	}
	return p.slots[key&(pageSize-1)]
}

// put adds m under m.key, which must not be in the table.
func (t *msgTable) put(m *message) {
	p := t.page(m.key, true)
	p.slots[m.key&(pageSize-1)] = m
	p.live++
	t.n++
}

// del removes the message with key, if present.
func (t *msgTable) del(key uint64) {
	p := t.page(key, false)
	if p == nil || p.slots[key&(pageSize-1)] == nil {
		return
	}
	p.slots[key&(pageSize-1)] = nil
	p.live--
	t.n--
	if p.live == 0 {
		num := key >> pageBits
		delete(t.pages, num)
		if t.last == p {
			t.last = nil
		}
	}
}

// len is the number of live messages.
func (t *msgTable) len() int { return t.n }

// each calls fn for every live message, in no particular order.
func (t *msgTable) each(fn func(*message)) {
	for _, p := range t.pages {
		for _, m := range p.slots {
			if m != nil {
				fn(m)
			}
		}
	}
}

// reset empties the table.
func (t *msgTable) reset() {
	*t = msgTable{}
}
