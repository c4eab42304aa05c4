package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Layout of webhooks and events in the embedded store: "webhooks" maps an ID (8 bytes,
// big-endian) to the webhook, "events" an ID to the event (see codec_webhooks.go);
// "eventKeys" maps webhook ID + order id to the event's ID (one event per order and
// webhook), "hookEvents" holds webhook ID + event ID for each event (a webhook's
// events in order), "due" the IDs of the events with a NextAt. IDs of both come from
// the sequence of "webhooks".
var (
	bucketWebhooks   = []byte("webhooks")
	bucketEvents     = []byte("events")
	bucketEventKeys  = []byte("eventKeys")
	bucketHookEvents = []byte("hookEvents")
	bucketDue        = []byte("due")
)

func idKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func getWebhookTx(tx *bolt.Tx, tenant string, id int64) (Webhook, error) {
	data := tx.Bucket(bucketWebhooks).Get(idKey(id))
	if data == nil {
		return Webhook{}, ErrNotFound
	}
	w, err := decodeWebhook(data)
	if err != nil {
		return Webhook{}, fmt.Errorf("webhook %d: %w", id, err)
	}
	if w.Tenant != tenant {
		return Webhook{}, ErrNotFound
	}
	return w, nil
}

func getEventTx(tx *bolt.Tx, id []byte) (Event, error) {
	data := tx.Bucket(bucketEvents).Get(id)
	if data == nil {
		return Event{}, ErrNotFound
	}
	e, err := decodeEvent(data)
	if err != nil {
		return Event{}, fmt.Errorf("event %x: %w", id, err)
	}
	return e, nil
}

func putEventTx(tx *bolt.Tx, e *Event) error {
	k := idKey(e.ID)
	if err := tx.Bucket(bucketEvents).Put(k, encodeEvent(e)); err != nil {
		return err
	}
	if e.NextAt != nil {
		return tx.Bucket(bucketDue).Put(k, nil)
	}
	return tx.Bucket(bucketDue).Delete(k)
}

func deleteWebhookTx(tx *bolt.Tx, id int64) error {
	prefix := idKey(id)
	c := tx.Bucket(bucketHookEvents).Cursor()
	var gone [][]byte
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		gone = append(gone, k)
	}
	for _, k := range gone {
		eid := k[8:]
		if e, err := getEventTx(tx, eid); err == nil {
			if err := tx.Bucket(bucketEventKeys).Delete(append(idKey(id), e.OrderID...)); err != nil {
				return err
			}
		}
		for _, b := range [][]byte{bucketEvents, bucketDue} {
			if err := tx.Bucket(b).Delete(eid); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketHookEvents).Delete(k); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketWebhooks).Delete(prefix)
}

func resetWebhooksTx(tx *bolt.Tx, tenant string) error {
	var ids []int64
	err := tx.Bucket(bucketWebhooks).ForEach(func(k, v []byte) error {
		if w, err := decodeWebhook(v); err == nil && w.Tenant == tenant {
			ids = append(ids, w.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := deleteWebhookTx(tx, id); err != nil {
			return err
		}
	}
	return nil
}

// CreateWebhook implements Store.
func (s *Bolt) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebhooks)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		w.ID = int64(seq)
		return b.Put(idKey(w.ID), encodeWebhook(&w))
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	return w, nil
}

// GetWebhook implements Store.
func (s *Bolt) GetWebhook(ctx context.Context, tenant string, id int64) (Webhook, error) {
	var w Webhook
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		w, err = getWebhookTx(tx, tenant, id)
		return err
	})
	return w, err
}

// ListWebhooks implements Store. A tenant has a few webhooks and the store a few
// tenants, so a scan is cheap.
func (s *Bolt) ListWebhooks(ctx context.Context, tenant string) ([]Webhook, error) {
	var out []Webhook
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWebhooks).ForEach(func(k, v []byte) error {
			w, err := decodeWebhook(v)
			if err != nil {
				return err
			}
			if w.Tenant == tenant {
				out = append(out, w)
			}
			return nil
		})
	})
	return out, err
}

// UpdateWebhook implements Store.
func (s *Bolt) UpdateWebhook(ctx context.Context, tenant string, id int64, fn func(*Webhook) error) (Webhook, error) {
	var upd Webhook
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, err := getWebhookTx(tx, tenant, id)
		if err != nil {
			return err
		}
		upd = cloneWebhook(old)
		if err := fn(&upd); err != nil {
			return err
		}
		upd.ID, upd.Tenant = old.ID, old.Tenant
		return tx.Bucket(bucketWebhooks).Put(idKey(id), encodeWebhook(&upd))
	})
	if err != nil {
		return Webhook{}, err
	}
	return upd, nil
}

// DeleteWebhook implements Store.
func (s *Bolt) DeleteWebhook(ctx context.Context, tenant string, id int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if _, err := getWebhookTx(tx, tenant, id); err != nil {
			return err
		}
		return deleteWebhookTx(tx, id)
	})
}

// AddEvent implements Store.
func (s *Bolt) AddEvent(ctx context.Context, e Event) (Event, bool, error) {
	var got Event
	var created bool
	err := s.write(func(tx *bolt.Tx) error {
		created = false
		if _, err := getWebhookTx(tx, e.Tenant, e.WebhookID); err != nil {
			return err
		}
		key := append(idKey(e.WebhookID), e.OrderID...)
		if id := tx.Bucket(bucketEventKeys).Get(key); id != nil {
			var err error
			got, err = getEventTx(tx, id)
			return err
		}
		seq, err := tx.Bucket(bucketWebhooks).NextSequence()
		if err != nil {
			return err
		}
		got = cloneEvent(e)
		got.ID = int64(seq)
		created = true
		if err := tx.Bucket(bucketEventKeys).Put(key, idKey(got.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHookEvents).Put(append(idKey(e.WebhookID), idKey(got.ID)...), nil); err != nil {
			return err
		}
		return putEventTx(tx, &got)
	})
	if err != nil {
		return Event{}, false, err
	}
	return got, created, nil
}

// GetEvent implements Store.
func (s *Bolt) GetEvent(ctx context.Context, tenant string, id int64) (Event, error) {
	var e Event
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, err = getEventTx(tx, idKey(id))
		if err == nil && e.Tenant != tenant {
			err = ErrNotFound
		}
		return err
	})
	return e, err
}

// ListEvents implements Store.
func (s *Bolt) ListEvents(ctx context.Context, tenant string, webhookID int64) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := getWebhookTx(tx, tenant, webhookID); err != nil {
			return nil // no such webhook of the tenant: no events
		}
		prefix := idKey(webhookID)
		c := tx.Bucket(bucketHookEvents).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			e, err := getEventTx(tx, k[8:])
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// UpdateEvent implements Store.
func (s *Bolt) UpdateEvent(ctx context.Context, tenant string, id int64, fn func(*Event) error) (Event, error) {
	var upd Event
	err := s.write(func(tx *bolt.Tx) error {
		old, err := getEventTx(tx, idKey(id))
		if err == nil && old.Tenant != tenant {
			err = ErrNotFound
		}
		if err != nil {
			return err
		}
		upd = cloneEvent(old)
		if err := fn(&upd); err != nil {
			return err
		}
		if err := checkEventUpdate(&old, &upd); err != nil {
			return err
		}
		return putEventTx(tx, &upd)
	})
	if err != nil {
		return Event{}, err
	}
	return upd, nil
}

func offsetTx(tx *bolt.Tx, tenant string) time.Duration {
	if v := tx.Bucket(bucketClocks).Get([]byte(tenant)); len(v) == 8 {
		return time.Duration(binary.BigEndian.Uint64(v))
	}
	return 0
}

// ClaimDue implements Store. The due set holds only undelivered events, so the scan
// is short. It is read first without a write: the deliverer looks whenever an order
// ends, and a write transaction costs a commit and its fsync even when it changes
// nothing.
func (s *Bolt) ClaimDue(ctx context.Context, owner string, now time.Time, leaseFor time.Duration, limit int) ([]Event, error) {
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		ready, err := readyTx(tx, now)
		found = len(ready) > 0
		return err
	})
	if err != nil || !found || limit <= 0 {
		if err != nil {
			return nil, fmt.Errorf("claim due events: %w", err)
		}
		return nil, nil
	}
	var out []Event
	err = s.db.Update(func(tx *bolt.Tx) error {
		out = nil
		ready, err := readyTx(tx, now)
		if err != nil {
			return err
		}
		for _, e := range ready[:min(len(ready), limit)] {
			e.LeaseOwner, e.LeaseUntil = owner, now.Add(leaseFor)
			if err := putEventTx(tx, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim due events: %w", err)
	}
	return out, nil
}

// readyTx returns the events of the due set that are due at now, on their tenants'
// clocks, earliest first.
func readyTx(tx *bolt.Tx, now time.Time) ([]Event, error) {
	offsets := map[string]time.Duration{}
	var ready []Event
	err := tx.Bucket(bucketDue).ForEach(func(k, _ []byte) error {
		e, err := getEventTx(tx, k)
		if err != nil {
			return err
		}
		off, ok := offsets[e.Tenant]
		if !ok {
			off = offsetTx(tx, e.Tenant)
			offsets[e.Tenant] = off
		}
		if due(&e, now, off) {
			ready = append(ready, e)
		}
		return nil
	})
	slices.SortFunc(ready, func(a, b Event) int {
		if c := a.NextAt.Compare(*b.NextAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return ready, err
}

// NextDue implements Store.
func (s *Bolt) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDue).ForEach(func(k, _ []byte) error {
			e, err := getEventTx(tx, k)
			if err != nil {
				return err
			}
			if e.NextAt == nil {
				return nil
			}
			if at := dueAt(&e, offsetTx(tx, e.Tenant)); !found || at.Before(next) {
				next, found = at, true
			}
			return nil
		})
	})
	return next, found, err
}
