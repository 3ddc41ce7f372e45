package pubsubmem

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// dedupWindow is how long SQS and SNS FIFO remember a deduplication id.
const dedupWindow = 5 * 60 * 1e9

// fifoState is the FIFO part of a queue: message groups in order, and the deduplication window.
type fifoState struct {
	groups    map[string]*fifoGroup
	groupList []*fifoGroup // receive order: oldest group first; empty groups are pruned while receiving
	dedup     dedupCache
	fifoSeq   uint64
}

// fifoGroup holds a group's live messages in send order. While any is in flight the group is locked.
type fifoGroup struct {
	id       string
	msgs     []*message
	inflight int
}

func (q *queue) addToGroup(m *message) {
	g := q.groups[m.groupID]
	if g == nil {
		g = &fifoGroup{id: m.groupID}
		q.groups[m.groupID] = g
		q.groupList = append(q.groupList, g)
	}
	g.msgs = append(g.msgs, m)
	m.group = g
}

func (q *queue) removeFromGroup(m *message) {
	g := m.group
	for i, x := range g.msgs {
		if x == m {
			copy(g.msgs[i:], g.msgs[i+1:])
			g.msgs[len(g.msgs)-1] = nil
			g.msgs = g.msgs[:len(g.msgs)-1]
			break
		}
	}
	if g.inflight == 0 && len(g.msgs) > 0 && g.msgs[0].state == stReady {
		q.signal() // the group may just have been unlocked
	}
}

// nextSequenceNumber returns the next 20-digit FIFO sequence number.
func (f *fifoState) nextSequenceNumber() string {
	f.fifoSeq++
	return strconv.FormatUint(10000000000000000000+f.fifoSeq, 10)
}

// contentDedupID is the deduplication id ContentBasedDeduplication derives: SHA-256 of the body.
func contentDedupID(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// dedupCache remembers deduplication ids for the dedup window.
type dedupCache struct {
	byID  map[string]dedupEntry
	order []dedupKey
}

type dedupEntry struct {
	msgID, seqNum string
	expires       int64
}

type dedupKey struct {
	id      string
	expires int64
}

// lookup prunes expired ids and reports the entry for id, if still remembered.
func (d *dedupCache) lookup(id string, now int64) (dedupEntry, bool) {
	for len(d.order) > 0 && d.order[0].expires <= now {
		k := d.order[0]
		if e, ok := d.byID[k.id]; ok && e.expires == k.expires {
			delete(d.byID, k.id)
		}
		d.order = d.order[1:]
	}
	e, ok := d.byID[id]
	return e, ok
}

func (d *dedupCache) add(id string, e dedupEntry) {
	if d.byID == nil {
		d.byID = map[string]dedupEntry{}
	}
	d.byID[id] = e
	d.order = append(d.order, dedupKey{id, e.expires})
}
