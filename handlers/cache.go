package handlers

import (
	"container/list"
	"sync"
	"time"
)

// Cache holds fetched resource bodies by URI for [URIHandler]. Implementations must be safe for
// concurrent use; [TTLCache] is the in-process one.
type Cache interface {
	// Get returns the body stored for key, if present and fresh.
	Get(key string) ([]byte, bool)
	// Set stores body for key.
	Set(key string, body []byte)
}

// TTLCacheOptions configure a [TTLCache]; zero values mean defaults.
type TTLCacheOptions struct {
	// TTL is how long an entry stays fresh (default 60 s, the original's resource_cache_ttl).
	TTL time.Duration
	// MaxEntries bounds the cache; the oldest entry is evicted first (default 1000).
	MaxEntries int
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
}

// CacheStats counts lookups.
type CacheStats struct {
	Hits, Misses int64
}

// TTLCache is an in-process [Cache] whose entries expire TTL after they were stored. Every entry
// lives for the same TTL, so insertion order is expiry order: expired entries are dropped from the
// front, and when the cache is full the oldest entry goes. It is safe for concurrent use.
type TTLCache struct {
	opts TTLCacheOptions

	mu      sync.Mutex
	order   *list.List // of *cacheEntry, oldest first
	entries map[string]*list.Element
	stats   CacheStats
}

type cacheEntry struct {
	key     string
	body    []byte
	expires time.Time
}

var _ Cache = (*TTLCache)(nil)

// NewTTLCache returns an empty cache.
func NewTTLCache(opts TTLCacheOptions) *TTLCache {
	if opts.TTL <= 0 {
		opts.TTL = 60 * time.Second
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &TTLCache{opts: opts, order: list.New(), entries: map[string]*list.Element{}}
}

// Get returns a copy of the fresh body stored for key.
func (c *TTLCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(c.opts.Now())
	el, ok := c.entries[key]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	return append([]byte(nil), el.Value.(*cacheEntry).body...), true
}

// Set stores a copy of body for key, fresh for the TTL from now.
func (c *TTLCache) Set(key string, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	c.expireLocked(now)
	if el, ok := c.entries[key]; ok {
		c.order.Remove(el)
		delete(c.entries, key)
	}
	for c.order.Len() >= c.opts.MaxEntries {
		c.removeLocked(c.order.Front())
	}
	e := &cacheEntry{key: key, body: append([]byte(nil), body...), expires: now.Add(c.opts.TTL)}
	c.entries[key] = c.order.PushBack(e)
}

// Len returns the number of fresh entries.
func (c *TTLCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(c.opts.Now())
	return c.order.Len()
}

// Stats returns the hit and miss counts so far.
func (c *TTLCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *TTLCache) expireLocked(now time.Time) {
	for el := c.order.Front(); el != nil && !now.Before(el.Value.(*cacheEntry).expires); el = c.order.Front() {
		c.removeLocked(el)
	}
}

func (c *TTLCache) removeLocked(el *list.Element) {
	c.order.Remove(el)
	delete(c.entries, el.Value.(*cacheEntry).key)
}
