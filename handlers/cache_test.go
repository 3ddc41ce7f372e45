package handlers_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/microcosm-go/pubsub/handlers"
)

func TestTTLCache(t *testing.T) {
	clk := newClock()
	c := handlers.NewTTLCache(handlers.TTLCacheOptions{TTL: 10 * time.Second, MaxEntries: 2, Now: clk.Now})

	if _, ok := c.Get("a"); ok {
		t.Fatal("hit on an empty cache")
	}
	body := []byte("A")
	c.Set("a", body)
	body[0] = 'X' // the cache keeps its own copy
	if got, ok := c.Get("a"); !ok || string(got) != "A" {
		t.Fatalf("Get(a) = %q, %v", got, ok)
	}

	clk.Advance(5 * time.Second)
	c.Set("b", []byte("B"))
	c.Set("c", []byte("C")) // full: evicts the oldest, a
	if _, ok := c.Get("a"); ok {
		t.Fatal("a survived eviction")
	}
	if c.Len() != 2 {
		t.Fatalf("Len = %d", c.Len())
	}

	clk.Advance(10 * time.Second) // b and c expire
	if _, ok := c.Get("b"); ok {
		t.Fatal("b survived its TTL")
	}
	if c.Len() != 0 {
		t.Fatalf("Len after expiry = %d", c.Len())
	}

	// Setting a key again refreshes its TTL.
	c.Set("d", []byte("1"))
	clk.Advance(8 * time.Second)
	c.Set("d", []byte("2"))
	clk.Advance(8 * time.Second)
	if got, ok := c.Get("d"); !ok || string(got) != "2" {
		t.Fatalf("refreshed d = %q, %v", got, ok)
	}
	if st := c.Stats(); st.Hits != 2 || st.Misses != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTTLCacheConcurrent(t *testing.T) {
	c := handlers.NewTTLCache(handlers.TTLCacheOptions{MaxEntries: 16})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := string(rune('a' + (g+i)%26))
				c.Set(k, []byte(k))
				if v, ok := c.Get(k); ok && string(v) != k {
					t.Errorf("Get(%s) = %s", k, v)
				}
			}
		}()
	}
	wg.Wait()
	if c.Len() > 16 {
		t.Fatalf("Len %d over MaxEntries", c.Len())
	}
}

// BenchmarkTTLCache: 8 goroutines per CPU hit a full cache of 1000 entries with 90 % lookups and
// 10 % stores over 2000 keys.
func BenchmarkTTLCache(b *testing.B) {
	c := handlers.NewTTLCache(handlers.TTLCacheOptions{MaxEntries: 1000})
	keys := make([]string, 2000)
	body := []byte(`{"id":"1","status":"shipped"}`)
	for i := range keys {
		keys[i] = "https://orders.internal/orders/" + strconv.Itoa(i)
		c.Set(keys[i], body)
	}
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k := keys[(i*7919)%len(keys)]
			if i%10 == 0 {
				c.Set(k, body)
			} else {
				c.Get(k)
			}
			i++
		}
	})
}

// TestTTLCacheEvictsLeastRecentlyUsed: a full cache drops the entry used longest ago, not the one
// stored first.
func TestTTLCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := handlers.NewTTLCache(handlers.TTLCacheOptions{MaxEntries: 3})
	for _, k := range []string{"a", "b", "c"} {
		c.Set(k, []byte(k))
	}
	c.Get("a") // a is now the most recently used
	c.Set("d", []byte("d"))
	if _, ok := c.Get("b"); ok {
		t.Fatal("b, the least recently used, survived")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%s was evicted", k)
		}
	}
}
