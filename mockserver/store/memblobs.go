package store

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"io"
	"strings"
	"sync"
	"time"
)

// The in-memory store promises nothing across restarts, so its blobs need no file
// system: creating, writing and renaming a file per upload (and a directory per order)
// was most of a lifecycle's cost. Blobs up to memBlobMax live in memory while they
// take at most memBlobLimit bytes in all; the rest (larger ones, or every new one once
// the budget is spent) go to the blob directory as before, so memory stays bounded
// whatever the traffic.
const (
	memBlobMax   = 4 << 20
	memBlobLimit = 128 << 20
)

// memBlobs holds blobs in a tree of key segments ("/"-separated), so that deleting by
// prefix (an order's blobs, a tenant's) costs what it deletes, as a directory does.
// Blobs of the same bytes share them, counted once against the budget: a test suite
// uploads its fixtures again and again, and their outputs are the same every time
// (see the server's cache of outputs), so a run of them costs one copy, not one per
// order, and does not push every later blob to the disk.
type memBlobs struct {
	spill    *blobDir
	max, lim int64
	seed     maphash.Seed

	mu     sync.Mutex
	root   memNode
	used   int64                  // bytes of the distinct contents held
	byHash map[uint64][]*memBytes // every content held, by its maphash
}

// memBytes is one content held, and how many blobs share it.
type memBytes struct {
	data []byte
	hash uint64
	refs int
}

type memNode struct {
	children map[string]*memNode
	blobs    map[string]*memBlob
}

// memBlob is a blob's bytes (never changed once stored: a put replaces the whole
// blob), or a mark that the blob lives in the spill directory.
type memBlob struct {
	content *memBytes // nil when onDisk
	mod     time.Time
	onDisk  bool
}

func newMemBlobs(spill *blobDir, max, limit int64) *memBlobs {
	return &memBlobs{spill: spill, max: max, lim: limit, seed: maphash.MakeSeed(), byHash: map[uint64][]*memBytes{}}
}

// intern returns the held content equal to data, shared, or holds data when the
// budget allows (m.mu held); nil when it does not.
func (m *memBlobs) intern(data []byte, hash uint64) *memBytes {
	for _, c := range m.byHash[hash] {
		if bytes.Equal(c.data, data) {
			c.refs++
			return c
		}
	}
	if m.used+int64(len(data)) > m.lim {
		return nil
	}
	c := &memBytes{data: data, hash: hash, refs: 1}
	m.byHash[hash] = append(m.byHash[hash], c)
	m.used += int64(len(data))
	return c
}

// release drops a blob's share of its content (m.mu held).
func (m *memBlobs) release(b *memBlob) {
	c := b.content
	if c == nil {
		return
	}
	if c.refs--; c.refs > 0 {
		return
	}
	list := m.byHash[c.hash]
	for i, x := range list {
		if x == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(m.byHash, c.hash)
	} else {
		m.byHash[c.hash] = list
	}
	m.used -= int64(len(c.data))
}

// node returns the node of dir's segments, creating it when create.
func (m *memBlobs) node(segs []string, create bool) *memNode {
	n := &m.root
	for _, s := range segs {
		c := n.children[s]
		if c == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = map[string]*memNode{}
			}
			c = &memNode{}
			n.children[s] = c
		}
		n = c
	}
	return n
}

func splitKey(key string) (dir []string, name string) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return nil, key
	}
	return strings.Split(key[:i], "/"), key[i+1:]
}

// set stores b under key (m.mu held), replacing any blob there.
func (m *memBlobs) set(key string, b *memBlob) {
	dir, name := splitKey(key)
	n := m.node(dir, true)
	if old := n.blobs[name]; old != nil {
		m.release(old)
	}
	if n.blobs == nil {
		n.blobs = map[string]*memBlob{}
	}
	n.blobs[name] = b
}

func (m *memBlobs) put(ctx context.Context, key string, r io.Reader, max int64) (int64, error) {
	if _, err := checkKey(key); err != nil {
		return 0, err
	}
	small := min(max, m.max)
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(ctxReader{ctx, r}, small+1))
	if err != nil {
		return 0, err
	}
	if n > max {
		return 0, ErrTooLarge
	}
	if n <= small {
		if err := m.keep(ctx, key, buf.Bytes()); err != nil {
			return 0, err
		}
		return n, nil
	}
	n, err = m.spill.put(ctx, key, io.MultiReader(&buf, r), max)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	m.set(key, &memBlob{onDisk: true})
	m.mu.Unlock()
	return n, nil
}

// keep stores data under key as it is, without a copy: data must not change after.
func (m *memBlobs) keep(ctx context.Context, key string, data []byte) error {
	if _, err := checkKey(key); err != nil {
		return err
	}
	n := int64(len(data))
	if n <= m.max {
		h := maphash.Bytes(m.seed, data)
		m.mu.Lock()
		if c := m.intern(data, h); c != nil {
			m.set(key, &memBlob{content: c, mod: time.Now()})
			m.mu.Unlock()
			return nil
		}
		m.mu.Unlock()
	}
	if _, err := m.spill.put(ctx, key, bytes.NewReader(data), n); err != nil {
		return err
	}
	m.mu.Lock()
	m.set(key, &memBlob{onDisk: true})
	m.mu.Unlock()
	return nil
}

type memBlobReader struct {
	*bytes.Reader
	mod time.Time
}

func (b memBlobReader) Close() error       { return nil }
func (b memBlobReader) ModTime() time.Time { return b.mod }

func (m *memBlobs) open(key string) (Blob, error) {
	if _, err := checkKey(key); err != nil {
		return nil, err
	}
	dir, name := splitKey(key)
	m.mu.Lock()
	var b *memBlob
	if n := m.node(dir, false); n != nil {
		b = n.blobs[name]
	}
	m.mu.Unlock()
	switch {
	case b == nil:
		return nil, ErrNotFound
	case b.onDisk:
		return m.spill.open(key)
	}
	return memBlobReader{Reader: bytes.NewReader(b.content.data), mod: b.mod}, nil
}

// deletePrefix removes every blob whose key starts with prefix.
func (m *memBlobs) deletePrefix(prefix string) error {
	m.mu.Lock()
	disk := m.deleteLocked(prefix)
	m.mu.Unlock()
	return m.spill.removeAll(nil, disk)
}

// deleteLocked deletes the blobs under prefix and returns the keys of those that were
// on disk.
func (m *memBlobs) deleteLocked(prefix string) []string {
	dir, name := splitKey(prefix)
	path := []*memNode{&m.root}
	for _, s := range dir {
		c := path[len(path)-1].children[s]
		if c == nil {
			return nil
		}
		path = append(path, c)
	}
	n := path[len(path)-1]
	base := prefix[:len(prefix)-len(name)]
	var disk []string
	for k, b := range n.blobs {
		if strings.HasPrefix(k, name) {
			m.release(b)
			if b.onDisk {
				disk = append(disk, base+k)
			}
			delete(n.blobs, k)
		}
	}
	for k, c := range n.children {
		if strings.HasPrefix(k, name) {
			disk = m.dropTree(c, base+k+"/", disk)
			delete(n.children, k)
		}
	}
	// Prune the nodes left empty, so a forgotten order costs nothing.
	for i := len(path) - 1; i > 0; i-- {
		if len(path[i].blobs) > 0 || len(path[i].children) > 0 {
			break
		}
		delete(path[i-1].children, dir[i-1])
	}
	return disk
}

func (m *memBlobs) dropTree(n *memNode, base string, disk []string) []string {
	for k, b := range n.blobs {
		m.release(b)
		if b.onDisk {
			disk = append(disk, base+k)
		}
	}
	for k, c := range n.children {
		disk = m.dropTree(c, base+k+"/", disk)
	}
	return disk
}

// removeAll deletes the whole-key blobs keys and everything under prefixes.
func (m *memBlobs) removeAll(prefixes, keys []string) error {
	var disk []string
	m.mu.Lock()
	for _, k := range keys {
		if _, err := checkKey(k); err != nil {
			continue // never stored
		}
		dir, name := splitKey(k)
		n := m.node(dir, false)
		if n == nil || n.blobs[name] == nil {
			continue
		}
		if n.blobs[name].onDisk {
			disk = append(disk, k)
		}
		// An exact key is the prefix that matches it and what starts with it; delete it
		// alone, then prune.
		m.release(n.blobs[name])
		delete(n.blobs, name)
		if len(n.blobs) == 0 && len(n.children) == 0 && len(dir) > 0 {
			m.deleteLocked(strings.Join(dir, "/") + "/\x00") // prunes the empty path; matches nothing
		}
	}
	for _, p := range prefixes {
		disk = append(disk, m.deleteLocked(p)...)
	}
	m.mu.Unlock()
	return errors.Join(m.spill.removeAll(nil, disk))
}
