package mockserver

import (
	"crypto/sha256"
	"testing"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// TestWorkCacheIsBounded: the cache never holds more than workCacheMax bytes, drops
// the least recently used first, refuses an entry over cachedOutputsMax, and hands
// out copies of what a caller may change.
func TestWorkCacheIsBounded(t *testing.T) {
	var c workCache
	key := func(i int) workCacheKey { return sha256.Sum256([]byte{byte(i), byte(i >> 8)}) }
	entry := make([]byte, 1<<20)
	yes := true
	n := workCacheMax/len(entry) + 8
	for i := range n {
		c.put(key(i), result{detected: &yes}, []store.NamedBlob{{Key: "out/0", Data: entry}}) // seen once
		c.put(key(i), result{detected: &yes}, []store.NamedBlob{{Key: "out/0", Data: entry}}) // kept
		if i == 0 {
			continue
		}
		c.get(key(0)) // keep the first one in use
	}
	if c.size > workCacheMax {
		t.Errorf("cache holds %d bytes; want at most %d", c.size, workCacheMax)
	}
	if _, _, ok := c.get(key(0)); !ok {
		t.Errorf("the entry used all along was dropped")
	}
	if _, _, ok := c.get(key(1)); ok {
		t.Errorf("the least recently used entry is still there")
	}
	if _, _, ok := c.get(key(n - 1)); !ok {
		t.Errorf("the newest entry is missing")
	}
	res, _, _ := c.get(key(0))
	*res.detected = false
	if again, _, _ := c.get(key(0)); !*again.detected {
		t.Errorf("a change to a result from get changed the cached one")
	}
	for range 2 {
		c.put(key(-1), result{}, []store.NamedBlob{{Key: "big", Data: make([]byte, cachedOutputsMax+1)}})
	}
	if _, _, ok := c.get(key(-1)); ok {
		t.Errorf("an entry over cachedOutputsMax was cached")
	}
}

// TestWorkCacheKeepsWorkSeenTwice: outputs are kept the second time the same work is
// done, never the first, so distinct inputs leave nothing but their keys; and the
// keys remembered are bounded.
func TestWorkCacheKeepsWorkSeenTwice(t *testing.T) {
	var c workCache
	key := func(i int) workCacheKey { return sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)}) }
	blobs := []store.NamedBlob{{Key: "out/0", Data: []byte("protected")}}
	c.put(key(0), result{}, blobs)
	if _, _, ok := c.get(key(0)); ok {
		t.Fatal("work done once was kept")
	}
	if c.size != 0 {
		t.Errorf("the cache holds %d bytes after work done once; want 0", c.size)
	}
	c.put(key(0), result{}, blobs)
	if _, got, ok := c.get(key(0)); !ok || string(got[0].Data) != "protected" {
		t.Fatalf("work done twice: get = %v, %v; want the outputs", got, ok)
	}
	for i := 1; i <= 3*seenMax; i++ {
		c.put(key(i), result{}, blobs)
		if len(c.seen) > seenMax {
			t.Fatalf("%d keys of work done once remembered; want at most %d", len(c.seen), seenMax)
		}
	}
	if c.lru.Len() != 1 {
		t.Errorf("%d entries after %d distinct works; want only the one done twice", c.lru.Len(), 3*seenMax)
	}
}

// TestWorkKeyCoversInputs: every field the outputs depend on changes the key.
func TestWorkKeyCoversInputs(t *testing.T) {
	base := func() *order.Record {
		return &order.Record{Type: order.AIDetection, Options: &order.Options{GenerateHeatmap: true},
			Outcome: order.Outcome{Probability: 0.5}, Files: []order.File{{Name: "a.png", Watermarks: []string{"x"}}}}
	}
	digests := [][sha256.Size]byte{{1}}
	k0 := workKeyOf(base(), 1, digests)
	if workKeyOf(base(), 1, digests) != k0 {
		t.Fatal("the same work gave two keys")
	}
	for name, change := range map[string]func(r *order.Record) int64{
		"seed":        func(*order.Record) int64 { return 2 },
		"type":        func(r *order.Record) int64 { r.Type = order.AntiAI; return 1 },
		"probability": func(r *order.Record) int64 { r.Outcome.Probability = 0.51; return 1 },
		"options":     func(r *order.Record) int64 { r.Options.GenerateOverlay = true; return 1 },
		"no options":  func(r *order.Record) int64 { r.Options = nil; return 1 },
		"name":        func(r *order.Record) int64 { r.Files[0].Name = "b.png"; return 1 },
		"format":      func(r *order.Record) int64 { r.Files[0].Format = "JPG"; return 1 },
		"watermarks":  func(r *order.Record) int64 { r.Files[0].Watermarks = []string{"x", ""}; return 1 },
		"role":        func(r *order.Record) int64 { r.Files[0].Role = "original"; return 1 },
		"strength":    func(r *order.Record) int64 { r.Strength = "high"; return 1 },
	} {
		r := base()
		seed := change(r)
		if workKeyOf(r, seed, digests) == k0 {
			t.Errorf("a change of %s kept the key", name)
		}
	}
	if workKeyOf(base(), 1, [][sha256.Size]byte{{2}}) == k0 {
		t.Errorf("other input bytes kept the key")
	}
}
