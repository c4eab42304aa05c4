package store

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// memHooks is Memory's webhooks and events, guarded by Memory.mu.
type memHooks struct {
	seq      int64 // the last ID handed out, to webhooks and events alike
	webhooks map[int64]*Webhook
	events   map[int64]*Event
	byOrder  map[string]int64  // eventKey -> event ID
	byHook   map[int64][]int64 // webhook ID -> its event IDs, ascending
	due      map[int64]bool    // events with a NextAt
}

func newMemHooks() memHooks {
	return memHooks{webhooks: map[int64]*Webhook{}, events: map[int64]*Event{}, byOrder: map[string]int64{}, byHook: map[int64][]int64{}, due: map[int64]bool{}}
}

func eventKey(webhookID int64, orderID string) string {
	return strconv.FormatInt(webhookID, 10) + "/" + orderID
}

// hasWebhooks reports whether tenant has a webhook; it looks at every webhook, so it
// is for rare calls (Memory.markIdle's forgetting).
func (h *memHooks) hasWebhooks(tenant string) bool {
	for _, w := range h.webhooks {
		if w.Tenant == tenant {
			return true
		}
	}
	return false
}

func (h *memHooks) deleteWebhook(id int64) {
	for _, eid := range h.byHook[id] {
		if e := h.events[eid]; e != nil {
			delete(h.byOrder, eventKey(id, e.OrderID))
		}
		delete(h.events, eid)
		delete(h.due, eid)
	}
	delete(h.byHook, id)
	delete(h.webhooks, id)
}

func (h *memHooks) reset(tenant string) {
	for id, w := range h.webhooks {
		if w.Tenant == tenant {
			h.deleteWebhook(id)
		}
	}
}

func (h *memHooks) setDue(e *Event) {
	if e.NextAt != nil {
		h.due[e.ID] = true
	} else {
		delete(h.due, e.ID)
	}
}

// CreateWebhook implements Store.
func (m *Memory) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hooks.seq++
	w.ID = m.hooks.seq
	stored := cloneWebhook(w)
	m.hooks.webhooks[w.ID] = &stored
	return cloneWebhook(w), nil
}

// GetWebhook implements Store.
func (m *Memory) GetWebhook(ctx context.Context, tenant string, id int64) (Webhook, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	w, ok := m.hooks.webhooks[id]
	if !ok || w.Tenant != tenant {
		return Webhook{}, ErrNotFound
	}
	return cloneWebhook(*w), nil
}

// ListWebhooks implements Store.
func (m *Memory) ListWebhooks(ctx context.Context, tenant string) ([]Webhook, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Webhook
	for _, w := range m.hooks.webhooks {
		if w.Tenant == tenant {
			out = append(out, cloneWebhook(*w))
		}
	}
	slices.SortFunc(out, func(a, b Webhook) int { return int(a.ID - b.ID) })
	return out, nil
}

// UpdateWebhook implements Store.
func (m *Memory) UpdateWebhook(ctx context.Context, tenant string, id int64, fn func(*Webhook) error) (Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.hooks.webhooks[id]
	if !ok || w.Tenant != tenant {
		return Webhook{}, ErrNotFound
	}
	upd := cloneWebhook(*w)
	if err := fn(&upd); err != nil {
		return Webhook{}, err
	}
	upd.ID, upd.Tenant = w.ID, w.Tenant
	*w = cloneWebhook(upd)
	return upd, nil
}

// DeleteWebhook implements Store.
func (m *Memory) DeleteWebhook(ctx context.Context, tenant string, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.hooks.webhooks[id]
	if !ok || w.Tenant != tenant {
		return ErrNotFound
	}
	m.hooks.deleteWebhook(id)
	return nil
}

// AddEvent implements Store.
func (m *Memory) AddEvent(ctx context.Context, e Event) (Event, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.hooks.webhooks[e.WebhookID]
	if !ok || w.Tenant != e.Tenant {
		return Event{}, false, ErrNotFound
	}
	key := eventKey(e.WebhookID, e.OrderID)
	if id, ok := m.hooks.byOrder[key]; ok {
		return cloneEvent(*m.hooks.events[id]), false, nil
	}
	m.hooks.seq++
	e.ID = m.hooks.seq
	stored := cloneEvent(e)
	m.hooks.events[e.ID] = &stored
	m.hooks.byOrder[key] = e.ID
	m.hooks.byHook[e.WebhookID] = append(m.hooks.byHook[e.WebhookID], e.ID)
	m.hooks.setDue(&stored)
	return cloneEvent(e), true, nil
}

// GetEvent implements Store.
func (m *Memory) GetEvent(ctx context.Context, tenant string, id int64) (Event, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.hooks.events[id]
	if !ok || e.Tenant != tenant {
		return Event{}, ErrNotFound
	}
	return cloneEvent(*e), nil
}

// ListEvents implements Store.
func (m *Memory) ListEvents(ctx context.Context, tenant string, webhookID int64) ([]Event, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	w, ok := m.hooks.webhooks[webhookID]
	if !ok || w.Tenant != tenant {
		return nil, nil
	}
	ids := m.hooks.byHook[webhookID]
	out := make([]Event, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		out = append(out, cloneEvent(*m.hooks.events[ids[i]]))
	}
	return out, nil
}

// UpdateEvent implements Store.
func (m *Memory) UpdateEvent(ctx context.Context, tenant string, id int64, fn func(*Event) error) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.hooks.events[id]
	if !ok || e.Tenant != tenant {
		return Event{}, ErrNotFound
	}
	upd := cloneEvent(*e)
	if err := fn(&upd); err != nil {
		return Event{}, err
	}
	if err := checkEventUpdate(e, &upd); err != nil {
		return Event{}, err
	}
	*e = cloneEvent(upd)
	m.hooks.setDue(e)
	return upd, nil
}

// ClaimDue implements Store.
func (m *Memory) ClaimDue(ctx context.Context, owner string, now time.Time, leaseFor time.Duration, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ready []*Event
	for id := range m.hooks.due {
		e := m.hooks.events[id]
		var off time.Duration
		if t := m.tenant(e.Tenant, false); t != nil {
			off = t.offset
		}
		if due(e, now, off) {
			ready = append(ready, e)
		}
	}
	slices.SortFunc(ready, func(a, b *Event) int {
		if c := a.NextAt.Compare(*b.NextAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	var out []Event
	for _, e := range ready[:min(len(ready), max(limit, 0))] {
		e.LeaseOwner, e.LeaseUntil = owner, now.Add(leaseFor)
		out = append(out, cloneEvent(*e))
	}
	return out, nil
}

// NextDue implements Store.
func (m *Memory) NextDue(ctx context.Context) (time.Time, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var next time.Time
	found := false
	for id := range m.hooks.due {
		e := m.hooks.events[id]
		var off time.Duration
		if t := m.tenant(e.Tenant, false); t != nil {
			off = t.offset
		}
		if at := dueAt(e, off); !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found, nil
}
