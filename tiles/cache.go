package tiles

import (
	"container/list"
	"sync"
)

// Cache is an in-process LRU of encoded tiles, bounded by bytes. Keys
// hold the layer, audience, z/x/y, canonical filter and data version, so
// an entry made before an import can never be found after it; old
// entries simply age out.
type Cache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
	// Hits and Misses count lookups, for the benchmark and tests.
	hits, misses int64
}

type cacheEntry struct {
	key string
	t   *Tile
}

// DefaultCacheBytes is the cache's default size: 256 MB holds the whole
// district to z16 for a few filters.
const DefaultCacheBytes = 256 << 20

// NewCache returns a cache holding up to max bytes of tiles.
func NewCache(max int64) *Cache {
	return &Cache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *Cache) get(key string) (*Tile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		c.hits++
		return e.Value.(*cacheEntry).t, true
	}
	c.misses++
	return nil, false
}

func (c *Cache) put(key string, t *Tile) {
	n := t.bytes()
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.size -= e.Value.(*cacheEntry).t.bytes()
		e.Value = &cacheEntry{key, t}
		c.ll.MoveToFront(e)
	} else {
		c.items[key] = c.ll.PushFront(&cacheEntry{key, t})
	}
	c.size += n
	for c.size > c.max {
		e := c.ll.Back()
		ce := e.Value.(*cacheEntry)
		c.ll.Remove(e)
		delete(c.items, ce.key)
		c.size -= ce.t.bytes()
	}
}

// Clear empties the cache (the benchmark's cold runs).
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	c.items = map[string]*list.Element{}
	c.size = 0
}

// Stats returns the hits, misses, entries and bytes so far.
func (c *Cache) Stats() (hits, misses int64, entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, len(c.items), c.size
}
