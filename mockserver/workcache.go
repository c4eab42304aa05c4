package mockserver

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// Test suites upload the same fixture files again and again, and an order's outputs
// are a function of its inputs' bytes, its type, options, probability, watermark
// texts and the server's seed (never of its id or its key). So the outputs of small
// inputs are remembered: a repeated one costs a copy of the outputs, not a decode,
// the image work and an encode (for a 640 x 480 photo, milliseconds of CPU). The
// bound is small on purpose: a suite's fixtures take a few megabytes of outputs, and
// with Go's GC at 200 % a live megabyte held here costs about three of RSS (with
// distinct inputs it cannot reuse, the load test's server sat at 78 MiB after its
// warm-up with 8 MiB here, 51 MiB with none).
//
// And only work seen twice is kept: the first time an order's work is done, only its
// key is remembered (32 bytes); the outputs are kept when the same work is done
// again. A stream of distinct inputs (a load test, real traffic) then never fills
// the cache with outputs nobody asks for twice, whose churn kept the heap, and so
// the RSS, megabytes higher and growing; a suite that uploads a fixture again and
// again pays for its work twice instead of once.
const (
	cachedInputsMax  = 1 << 20 // an order whose inputs are larger together is not remembered
	cachedOutputsMax = 8 << 20 // nor one whose outputs are larger together
	workCacheMax     = 8 << 20 // what the cache holds at most; the least recently used goes first
	seenMax          = 4096    // keys of work done once remembered at most (128 KiB); then forgotten all at once
)

type workCacheKey [sha256.Size]byte

type cachedWork struct {
	key   workCacheKey
	res   result
	blobs []store.NamedBlob // names under the order's prefix; read-only once cached
	size  int64
}

// workCache is a least-recently-used map of cachedWork, bounded by bytes.
type workCache struct {
	mu    sync.Mutex
	size  int64
	lru   list.List // of *cachedWork, most recently used first
	byKey map[workCacheKey]*list.Element
	seen  map[workCacheKey]struct{} // work done once and not kept
}

func (c *workCache) get(k workCacheKey) (result, []store.NamedBlob, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok {
		return result{}, nil, false
	}
	c.lru.MoveToFront(e)
	w := e.Value.(*cachedWork)
	res := w.res
	if res.detected != nil {
		d := *res.detected
		res.detected = &d
	}
	return res, w.blobs, true
}

func (c *workCache) put(k workCacheKey, res result, blobs []store.NamedBlob) {
	var size int64
	for _, b := range blobs {
		size += int64(len(b.Data)) + int64(len(b.Key))
	}
	if size > cachedOutputsMax {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[workCacheKey]*list.Element{}
	}
	if _, ok := c.byKey[k]; ok {
		return // another worker made the same outputs
	}
	if _, ok := c.seen[k]; !ok {
		if c.seen == nil {
			c.seen = make(map[workCacheKey]struct{})
		} else if len(c.seen) >= seenMax {
			clear(c.seen)
		}
		c.seen[k] = struct{}{}
		return
	}
	delete(c.seen, k)
	c.byKey[k] = c.lru.PushFront(&cachedWork{key: k, res: res, blobs: blobs, size: size})
	c.size += size
	for c.size > workCacheMax {
		old := c.lru.Remove(c.lru.Back()).(*cachedWork)
		delete(c.byKey, old.key)
		c.size -= old.size
	}
}

// workKeyOf is the cache key of an order's work: everything its outputs depend on.
// digests holds each input's SHA-256 (zero for a file that is not read).
func workKeyOf(rec *order.Record, seed int64, digests [][sha256.Size]byte) workCacheKey {
	h := sha256.New()
	field := func(s string) { // length-prefixed, so no two key lists hash alike
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	field("morimock work v1")
	field(string(rec.Type))
	field(strconv.FormatInt(seed, 10))
	field(strconv.FormatUint(math.Float64bits(rec.Outcome.Probability), 16))
	if o := rec.Options; o != nil {
		field(fmt.Sprint(o.GenerateHeatmap, o.GenerateOverlay, o.GenerateThumbnail))
	} else {
		field("no options")
	}
	field(rec.Strength)
	for i := range rec.Files {
		f := &rec.Files[i]
		field(f.Role)
		field(f.Name)
		field(formatOf(f))
		field(strconv.Itoa(len(f.Watermarks)))
		for _, w := range f.Watermarks {
			field(w)
		}
		h.Write(digests[i][:])
	}
	var k workCacheKey
	h.Sum(k[:0])
	return k
}
