package store

import (
	"context"
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
	orders  map[string]*order.Record // by id, across tenants
	tenants map[string]*memTenant
	hooks   memHooks
}

type memTenant struct {
	name   string            // interned: every record's Tenant points at these bytes
	list   []*order.Record   // oldest first (see before)
	keys   map[string]string // idempotency key -> order id
	offset time.Duration
	// Every order created at or before swept has had its blobs deleted (Expire), when
	// sweptSet.
	swept    time.Time
	sweptSet bool
}

// NewMemory returns an in-memory store whose blobs live under dir, or under a new
// temporary directory (removed by Close) when dir is "".
func NewMemory(dir string) (*Memory, error) {
	m := &Memory{orders: map[string]*order.Record{}, tenants: map[string]*memTenant{}, hooks: newMemHooks()}
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
		if id, ok := t.keys[rec.IdempotencyKey]; ok {
			return m.orders[id].Clone(), false, nil
		}
	}
	if _, ok := m.orders[rec.ID]; ok {
		return order.Record{}, false, fmt.Errorf("create order %s: %w", rec.ID, ErrIDTaken)
	}
	stored := rec.Clone()
	stored.Tenant = t.name
	m.orders[rec.ID] = &stored
	if rec.IdempotencyKey != "" {
		t.keys[rec.IdempotencyKey] = rec.ID
	}
	// Orders mostly arrive in creation order, so this is an append.
	i := len(t.list)
	for i > 0 && before(stored.CreatedAt, stored.ID, t.list[i-1].CreatedAt, t.list[i-1].ID) {
		i--
	}
	t.list = slices.Insert(t.list, i, &stored)
	if t.sweptSet && !stored.CreatedAt.After(t.swept) {
		t.swept = stored.CreatedAt.Add(-1) // a clock moved far back: sweep it again
	}
	return rec.Clone(), true, nil
}

// GetOrder implements Store.
func (m *Memory) GetOrder(ctx context.Context, tenant, id string) (order.Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.orders[id]
	if !ok || r.Tenant != tenant {
		return order.Record{}, ErrNotFound
	}
	return r.Clone(), nil
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
	if !ok || r.Tenant != tenant {
		return order.Record{}, ErrNotFound
	}
	upd := r.Clone()
	if err := fn(&upd); err != nil {
		return order.Record{}, err
	}
	if err := checkUpdate(r, &upd); err != nil {
		return order.Record{}, err
	}
	upd.Tenant = r.Tenant
	*r = upd.Clone() // in place: the tenant's list holds r
	return upd, nil
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
			page = append(page, t.list[n-1-i].Clone())
		}
		return page, n, nil
	}
	var page []order.Record
	total := 0
	for i := len(t.list) - 1; i >= 0; i-- {
		r := t.list[i]
		if !keep(r) {
			continue
		}
		if total >= offset && (limit < 0 || len(page) < limit) {
			page = append(page, r.Clone())
		}
		total++
	}
	return page, total, nil
}

// Expire implements Store.
func (m *Memory) Expire(ctx context.Context, tenant string, now time.Time, filesAfter, forgetAfter time.Duration) (int, error) {
	var prefixes, keys []string
	n := 0
	m.mu.Lock()
	sweep := func(t *memTenant) {
		tnow := now.Add(t.offset)
		forgetCut, filesCut := tnow.Add(-forgetAfter), tnow.Add(-filesAfter)
		i := 0
		for i < len(t.list) && !t.list[i].CreatedAt.After(forgetCut) {
			r := t.list[i]
			delete(m.orders, r.ID)
			if r.IdempotencyKey != "" && t.keys[r.IdempotencyKey] == r.ID {
				delete(t.keys, r.IdempotencyKey)
			}
			prefixes = append(prefixes, OrderBlobPrefix(r.Tenant, r.ID))
			keys = append(keys, fileKeys(r)...)
			i++
		}
		j := i
		if t.sweptSet {
			j = max(j, sort.Search(len(t.list), func(k int) bool { return t.list[k].CreatedAt.After(t.swept) }))
		}
		for ; j < len(t.list) && !t.list[j].CreatedAt.After(filesCut); j++ {
			prefixes = append(prefixes, OrderBlobPrefix(t.list[j].Tenant, t.list[j].ID))
			keys = append(keys, fileKeys(t.list[j])...)
		}
		if !t.sweptSet || filesCut.After(t.swept) {
			t.swept, t.sweptSet = filesCut, true
		}
		n += i
		t.list = slices.Delete(t.list, 0, i)
		if len(t.list) == 0 && t.offset == 0 {
			delete(m.tenants, t.name)
		}
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
	return n, m.blobs.removeAll(prefixes, keys)
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
	m.tenant(tenant, true).offset = d
	return nil
}

// Reset implements Store.
func (m *Memory) Reset(ctx context.Context, tenant string) error {
	m.mu.Lock()
	t := m.tenant(tenant, false)
	var keys []string
	if t != nil {
		for _, r := range t.list {
			delete(m.orders, r.ID)
			keys = append(keys, fileKeys(r)...)
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
	m.orders, m.tenants, m.hooks = map[string]*order.Record{}, map[string]*memTenant{}, newMemHooks()
	m.mu.Unlock()
	m.blobs.mu.Lock()
	m.blobs.root, m.blobs.used = memNode{}, 0
	m.blobs.mu.Unlock()
	if m.tempDir != "" {
		if err := os.RemoveAll(m.tempDir); err != nil {
			return fmt.Errorf("remove blob dir: %w", err)
		}
	}
	return nil
}

var _ Store = (*Memory)(nil)
