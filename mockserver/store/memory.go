package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/morimock/morimock/order"
)

// Memory is a Store that keeps orders, keys and clocks in memory, and blobs in memory
// up to a bound (see memBlobLimit) and beyond it as files in a directory, written
// without fsync. It forgets everything but the blobs' directory when closed.
type Memory struct {
	blobs   *memBlobs
	tempDir string // removed by Close; "" when the caller chose the directory

	mu      sync.RWMutex
	orders  map[string]*memRec // by id, across tenants
	tenants map[string]*memTenant
	hooks   memHooks
	idle    idleClocks
}

// idleClocksMax is how many tenants Memory keeps that hold nothing but a moved clock
// (every order forgotten, no webhook). Each costs about 200 bytes, and a long-lived
// sandbox whose CI jobs each use a key of their own, move its clock past retention
// and never come back made one for every job: the soak's server grew by 8 MB of heap
// in four minutes, about 550 bytes a tenant. Beyond this many, the one that became
// idle longest ago is forgotten, and its clock is the real one again.
const idleClocksMax = 4096

// idleClocks is the queue of tenants that became clock-only, oldest first. An entry
// is stale when its tenant was reset, or created an order, since (seq differs).
type idleClocks struct {
	seq   uint64
	queue []idleClock
	head  int
}

type idleClock struct {
	name string
	seq  uint64
}

// memRec is a stored order in the binary form the --state-dir store uses (see
// encodeRecord): about a third of the bytes of an order.Record with its strings, times
// and files, and one allocation instead of a dozen, so that 100,000 orders fit in
// 2 KiB each of resident memory with the garbage collector's headroom. The id,
// tenant and creation instant, which the indexes need, are kept beside it.
type memRec struct {
	id      string
	t       *memTenant
	created int64  // CreatedAt in Unix nanoseconds
	data    []byte // encodeRecord without the ID and Tenant (they are above)
}

func newMemRec(t *memTenant, rec *order.Record) *memRec {
	r := &memRec{id: rec.ID, t: t, created: rec.CreatedAt.UnixNano()}
	r.set(rec)
	return r
}

func (r *memRec) set(rec *order.Record) {
	c := *rec
	c.ID, c.Tenant = "", ""
	r.data = bytes.Clone(encodeRecord(&c)) // exactly its size
}

func (r *memRec) record() (order.Record, error) {
	rec, err := decodeFields(r.data)
	if err != nil {
		return order.Record{}, fmt.Errorf("order %s: %w", r.id, err)
	}
	rec.ID, rec.Tenant = r.id, r.t.name
	return rec, nil
}

// memBefore is before on memRecs.
func memBefore(a, b *memRec) bool {
	if a.created != b.created {
		return a.created < b.created
	}
	if len(a.id) != len(b.id) {
		return len(a.id) < len(b.id)
	}
	return a.id < b.id
}

type memTenant struct {
	name   string            // interned: every record's Tenant points at these bytes
	list   []*memRec         // oldest first (see before)
	keys   map[string]string // idempotency key -> order id
	offset time.Duration
	// Every order created at or before swept has had its blobs deleted (Expire), when
	// sweptSet.
	swept    time.Time
	sweptSet bool
	idleSeq  uint64 // its entry in Memory.idle while it holds only its clock; 0 when not queued
}

// markIdle queues t when it holds nothing but a moved clock (a tenant with neither
// orders nor a moved clock is dropped at once), gives back what its emptied
// idempotency map and order list still hold, and forgets the tenants idle longest
// ago beyond idleClocksMax. Callers hold m.mu.
func (m *Memory) markIdle(t *memTenant) {
	if len(t.list) > 0 || t.idleSeq != 0 {
		return
	}
	if t.offset == 0 {
		delete(m.tenants, t.name)
		return
	}
	t.keys, t.list = nil, nil // a map keeps its buckets when emptied
	m.idle.seq++
	t.idleSeq = m.idle.seq
	m.idle.queue = append(m.idle.queue, idleClock{t.name, t.idleSeq})
	for len(m.idle.queue)-m.idle.head > idleClocksMax {
		old := m.idle.queue[m.idle.head]
		m.idle.queue[m.idle.head] = idleClock{}
		m.idle.head++
		if o := m.tenants[old.name]; o != nil && o.idleSeq == old.seq && !m.hooks.hasWebhooks(old.name) {
			delete(m.tenants, old.name)
		}
	}
	if m.idle.head > idleClocksMax && m.idle.head*2 > len(m.idle.queue) {
		m.idle.queue = append([]idleClock(nil), m.idle.queue[m.idle.head:]...)
		m.idle.head = 0
	}
}

// NewMemory returns an in-memory store whose blobs that do not fit in memory (see
// memBlobLimit) live under dir, or under a new temporary directory (removed by Close)
// when dir is "".
func NewMemory(dir string) (*Memory, error) {
	m := &Memory{orders: map[string]*memRec{}, tenants: map[string]*memTenant{}, hooks: newMemHooks()}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "morimock-blobs-")
		if err != nil {
			return nil, fmt.Errorf("create blob dir: %w", err)
		}
		dir, m.tempDir = tmp, tmp
	}
	b, err := newBlobDir(dir, false)
	if err != nil {
		if m.tempDir != "" {
			os.RemoveAll(m.tempDir)
		}
		return nil, err
	}
	m.blobs = newMemBlobs(b, memBlobMax, memBlobLimit)
	return m, nil
}

func (m *Memory) tenant(name string, create bool) *memTenant {
	t := m.tenants[name]
	if t == nil && create {
		t = &memTenant{name: name, keys: map[string]string{}}
		m.tenants[name] = t
	}
	return t
}

// CreateOrder implements Store.
func (m *Memory) CreateOrder(ctx context.Context, rec order.Record) (order.Record, bool, error) {
	if err := checkNew(&rec); err != nil {
		return order.Record{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(rec.Tenant, true)
	if rec.IdempotencyKey != "" {
		if id, ok := t.keys[rec.IdempotencyKey]; ok { // a nil map (an idle tenant's) has none
			got, err := m.orders[id].record()
			return got, false, err
		}
	}
	if _, ok := m.orders[rec.ID]; ok {
		return order.Record{}, false, fmt.Errorf("create order %s: %w", rec.ID, ErrIDTaken)
	}
	stored := newMemRec(t, &rec)
	m.orders[stored.id] = stored
	t.idleSeq = 0 // no longer idle: its queue entry is stale
	if rec.IdempotencyKey != "" {
		if t.keys == nil {
			t.keys = map[string]string{}
		}
		t.keys[rec.IdempotencyKey] = stored.id
	}
	// Orders mostly arrive in creation order, so this is an append.
	i := len(t.list)
	for i > 0 && memBefore(stored, t.list[i-1]) {
		i--
	}
	t.list = slices.Insert(t.list, i, stored)
	if t.sweptSet && !rec.CreatedAt.After(t.swept) {
		t.swept = rec.CreatedAt.Add(-1) // a clock moved far back: sweep it again
	}
	return rec.Clone(), true, nil
}

// GetOrder implements Store.
func (m *Memory) GetOrder(ctx context.Context, tenant, id string) (order.Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.orders[id]
	if !ok || r.t.name != tenant {
		return order.Record{}, ErrNotFound
	}
	return r.record()
}

// OrderExists implements Store.
func (m *Memory) OrderExists(ctx context.Context, id string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.orders[id]
	return ok, nil
}

// UpdateOrder implements Store.
func (m *Memory) UpdateOrder(ctx context.Context, tenant, id string, fn func(*order.Record) error) (order.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.orders[id]
	if !ok || r.t.name != tenant {
		return order.Record{}, ErrNotFound
	}
	old, err := r.record()
	if err != nil {
		return order.Record{}, err
	}
	upd := old.Clone()
	if err := fn(&upd); err != nil {
		return order.Record{}, err
	}
	if err := checkUpdate(&old, &upd); err != nil {
		return order.Record{}, err
	}
	r.set(&upd) // in place: the tenant's list holds r
	return upd, nil
}

// UpdateOrderBlobs implements Store.
// The blobs' bytes are kept as they are, not copied: the caller gives them up.
func (m *Memory) UpdateOrderBlobs(ctx context.Context, tenant, id string, blobs []NamedBlob, fn func(*order.Record) error) (order.Record, error) {
	for _, b := range blobs {
		if err := m.blobs.keep(ctx, b.Key, b.Data); err != nil {
			return order.Record{}, err
		}
	}
	return m.UpdateOrder(ctx, tenant, id, fn)
}

// ListOrders implements Store.
func (m *Memory) ListOrders(ctx context.Context, tenant string) ([]order.Record, error) {
	page, _, err := m.PageOrders(ctx, tenant, 0, -1, nil)
	return page, err
}

// PageOrders implements Store.
func (m *Memory) PageOrders(ctx context.Context, tenant string, offset, limit int, keep func(*order.Record) bool) ([]order.Record, int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t := m.tenant(tenant, false)
	if t == nil {
		return nil, 0, nil
	}
	if keep == nil {
		// Without a filter the page is a slice of the list: no scan.
		n := len(t.list)
		end := n
		if limit >= 0 {
			end = min(n, offset+limit)
		}
		var page []order.Record
		for i := max(offset, 0); i < end; i++ {
			rec, err := t.list[n-1-i].record()
			if err != nil {
				return nil, 0, err
			}
			page = append(page, rec)
		}
		return page, n, nil
	}
	var page []order.Record
	total := 0
	for i := len(t.list) - 1; i >= 0; i-- {
		rec, err := t.list[i].record()
		if err != nil {
			return nil, 0, err
		}
		if !keep(&rec) {
			continue
		}
		if total >= offset && (limit < 0 || len(page) < limit) {
			page = append(page, rec)
		}
		total++
	}
	return page, total, nil
}

// Expire implements Store.
func (m *Memory) Expire(ctx context.Context, tenant string, now time.Time, filesAfter, forgetAfter time.Duration) (int, error) {
	var prefixes, keys []string
	var errs []error
	n := 0
	m.mu.Lock()
	// An order's own blobs, and its idempotency key when it is forgotten.
	drop := func(t *memTenant, r *memRec, forget bool) {
		prefixes = append(prefixes, OrderBlobPrefix(t.name, r.id))
		rec, err := r.record()
		if err != nil {
			errs = append(errs, err)
			return
		}
		keys = append(keys, fileKeys(&rec)...)
		if forget && rec.IdempotencyKey != "" && t.keys[rec.IdempotencyKey] == r.id {
			delete(t.keys, rec.IdempotencyKey)
		}
	}
	sweep := func(t *memTenant) {
		tnow := now.Add(t.offset)
		forgetCut, filesCut := tnow.Add(-forgetAfter).UnixNano(), tnow.Add(-filesAfter).UnixNano()
		i := 0
		for i < len(t.list) && t.list[i].created <= forgetCut {
			delete(m.orders, t.list[i].id)
			drop(t, t.list[i], true)
			i++
		}
		j := i
		if t.sweptSet {
			swept := t.swept.UnixNano()
			j = max(j, sort.Search(len(t.list), func(k int) bool { return t.list[k].created > swept }))
		}
		for ; j < len(t.list) && t.list[j].created <= filesCut; j++ {
			drop(t, t.list[j], false)
		}
		filesCutT := tnow.Add(-filesAfter)
		if !t.sweptSet || filesCutT.After(t.swept) {
			t.swept, t.sweptSet = filesCutT, true
		}
		n += i
		t.list = slices.Delete(t.list, 0, i)
		m.markIdle(t)
	}
	if tenant != "" {
		if t := m.tenant(tenant, false); t != nil {
			sweep(t)
		}
	} else {
		for _, t := range m.tenants {
			sweep(t)
		}
	}
	m.mu.Unlock()
	return n, errors.Join(errors.Join(errs...), m.blobs.removeAll(prefixes, keys))
}

// ClockOffset implements Store.
func (m *Memory) ClockOffset(ctx context.Context, tenant string) (time.Duration, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if t := m.tenant(tenant, false); t != nil {
		return t.offset, nil
	}
	return 0, nil
}

// SetClockOffset implements Store.
func (m *Memory) SetClockOffset(ctx context.Context, tenant string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(tenant, true)
	t.offset = d
	m.markIdle(t) // a key that only ever moves its clock
	return nil
}

// Reset implements Store.
func (m *Memory) Reset(ctx context.Context, tenant string) error {
	m.mu.Lock()
	t := m.tenant(tenant, false)
	var keys []string
	if t != nil {
		for _, r := range t.list {
			delete(m.orders, r.id)
			if rec, err := r.record(); err == nil {
				keys = append(keys, fileKeys(&rec)...)
			}
		}
		delete(m.tenants, tenant)
	}
	m.hooks.reset(tenant)
	m.mu.Unlock()
	return m.blobs.removeAll([]string{tenantBlobPrefix(tenant)}, keys)
}

// PutBlob implements Store.
func (m *Memory) PutBlob(ctx context.Context, key string, r io.Reader, max int64) (int64, error) {
	return m.blobs.put(ctx, key, r, max)
}

// OpenBlob implements Store.
func (m *Memory) OpenBlob(ctx context.Context, key string) (Blob, error) {
	return m.blobs.open(key)
}

// DeleteBlobs implements Store.
func (m *Memory) DeleteBlobs(ctx context.Context, prefix string) error {
	return m.blobs.deletePrefix(prefix)
}

// Close implements Store: it forgets the orders and removes a temporary blob directory.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.orders, m.tenants, m.hooks = map[string]*memRec{}, map[string]*memTenant{}, newMemHooks()
	m.mu.Unlock()
	m.blobs.mu.Lock()
	m.blobs.root, m.blobs.used, m.blobs.byHash = memNode{}, 0, map[uint64][]*memBytes{}
	m.blobs.mu.Unlock()
	if m.tempDir != "" {
		if err := os.RemoveAll(m.tempDir); err != nil {
			return fmt.Errorf("remove blob dir: %w", err)
		}
	}
	return nil
}

var _ Store = (*Memory)(nil)
