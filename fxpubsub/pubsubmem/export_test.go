package pubsubmem

// PollerParked reports whether a long poll is parked on the queue at url (tests wait on it instead
// of sleeping).
func (b *Backend) PollerParked(url string) bool {
	b.mu.RLock()
	q := b.queues[url]
	b.mu.RUnlock()
	if q == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.notifyUsed
}
