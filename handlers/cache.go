package handlers

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
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
	// MaxEntries bounds the cache; when it is full the least recently used entry goes (default 1000).
	MaxEntries int
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
}

// CacheStats counts lookups.
type CacheStats struct {
	Hits, Misses int64
}

// TTLCache is an in-process [Cache] whose entries expire TTL after they were stored: an LRU
// (github.com/hashicorp/golang-lru/v2) of at most MaxEntries entries, each with its expiry time,
// checked on lookup with the configured clock. It is safe for concurrent use and starts no
// goroutine (the library's expirable LRU starts one per cache that cannot be stopped, and reads the
// wall clock).
type TTLCache struct {
	opts TTLCacheOptions

	mu      sync.Mutex
	entries *simplelru.LRU[string, cacheEntry]
	stats   CacheStats
}

type cacheEntry struct {
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
	entries, _ := simplelru.NewLRU[string, cacheEntry](opts.MaxEntries, nil) // fails only for a size below 1
	return &TTLCache{opts: opts, entries: entries}
}

// Get returns a copy of the fresh body stored for key.
func (c *TTLCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries.Get(key)
	if ok && !c.opts.Now().Before(e.expires) {
		c.entries.Remove(key)
		ok = false
	}
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	return append([]byte(nil), e.body...), true
}

// Set stores a copy of body for key, fresh for the TTL from now.
func (c *TTLCache) Set(key string, body []byte) {
	e := cacheEntry{body: append([]byte(nil), body...)}
	c.mu.Lock()
	defer c.mu.Unlock()
	e.expires = c.opts.Now().Add(c.opts.TTL)
	c.entries.Add(key, e)
}

// Len returns the number of fresh entries.
func (c *TTLCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	n := 0
	for _, e := range c.entries.Values() {
		if now.Before(e.expires) {
			n++
		}
	}
	return n
}

// Stats returns the hit and miss counts so far.
func (c *TTLCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}
