package handlers_test

import (
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
