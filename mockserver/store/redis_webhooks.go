package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Webhooks and events on Redis, under the prefix:
//
//	seq                 the last id handed out, to webhooks and events alike (INCR)
//	webhook:<id>        the webhook (encodeWebhook)
//	webhooks:<tenant>   sorted set of the tenant's webhook ids, scored by id
//	event:<id>          the event (encodeEvent), its lease included
//	events:<webhook>    sorted set of the webhook's event ids, scored by id
//	evorder:<webhook>   hash: order id -> event id (one event per order and webhook)
//	due                 sorted set of the events with a NextAt, member "<id>/<tenant>",
//	                    scored by NextAt in unix milliseconds on the tenant's clock
//
// A lease is the LeaseOwner and LeaseUntil written into the event itself: ClaimDue
// writes them with a compare-and-set on the event's bytes, so of several replicas
// claiming one event exactly one write applies, and the others see the lease and
// skip it. A replica that dies holding a lease simply never clears it; once
// LeaseUntil passes (real clock) the event is due again for any other replica.

func (s *Redis) seqKey() string                   { return s.prefix + "seq" }
func (s *Redis) webhookKey(id int64) string       { return s.prefix + "webhook:" + strconv.FormatInt(id, 10) }
func (s *Redis) webhooksKey(tenant string) string { return s.prefix + "webhooks:" + tenant }
func (s *Redis) eventKey(id int64) string         { return s.prefix + "event:" + strconv.FormatInt(id, 10) }
func (s *Redis) eventsKey(webhook int64) string {
	return s.prefix + "events:" + strconv.FormatInt(webhook, 10)
}
func (s *Redis) evOrderKey(webhook int64) string {
	return s.prefix + "evorder:" + strconv.FormatInt(webhook, 10)
}
func (s *Redis) dueKey() string { return s.prefix + "due" }

func dueMember(e *Event) string { return strconv.FormatInt(e.ID, 10) + "/" + e.Tenant }

// dueScore is the due set's score of e, "" when it has no NextAt (not in the set).
func dueScore(e *Event) string {
	if e.NextAt == nil {
		return ""
	}
	return strconv.FormatInt(floorMilli(*e.NextAt), 10)
}

func parseDueMember(m string) (int64, string, bool) {
	id, tenant, ok := strings.Cut(m, "/")
	n, err := strconv.ParseInt(id, 10, 64)
	return n, tenant, ok && err == nil
}

// CreateWebhook implements Store.
func (s *Redis) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	id, err := s.rdb.Incr(ctx, s.seqKey()).Result()
	if err != nil {
		return Webhook{}, s.fail("create webhook", err)
	}
	w.ID = id
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.webhookKey(id), encodeWebhook(&w), 0)
		p.ZAdd(ctx, s.webhooksKey(w.Tenant), redis.Z{Score: float64(id), Member: id})
		return nil
	})
	if err != nil {
		return Webhook{}, s.fail("create webhook", err)
	}
	return cloneWebhook(w), nil
}

// getWebhook returns the webhook and the bytes it was read from.
func (s *Redis) getWebhook(ctx context.Context, tenant string, id int64) (Webhook, []byte, error) {
	data, err := s.rdb.Get(ctx, s.webhookKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Webhook{}, nil, ErrNotFound
	}
	if err != nil {
		return Webhook{}, nil, s.fail("get webhook", err)
	}
	w, err := decodeWebhook(data)
	if err != nil {
		return Webhook{}, nil, fmt.Errorf("webhook %d: %w", id, err)
	}
	if w.Tenant != tenant {
		return Webhook{}, nil, ErrNotFound
	}
	return w, data, nil
}

// GetWebhook implements Store.
func (s *Redis) GetWebhook(ctx context.Context, tenant string, id int64) (Webhook, error) {
	w, _, err := s.getWebhook(ctx, tenant, id)
	return w, err
}

// ListWebhooks implements Store.
func (s *Redis) ListWebhooks(ctx context.Context, tenant string) ([]Webhook, error) {
	ids, err := s.rdb.ZRange(ctx, s.webhooksKey(tenant), 0, -1).Result()
	if err != nil {
		return nil, s.fail("list webhooks", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.prefix + "webhook:" + id
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail("list webhooks", err)
	}
	var out []Webhook
	for i, v := range vals {
		data, ok := v.(string)
		if !ok {
			continue // deleted meanwhile
		}
		w, err := decodeWebhook([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("webhook %s: %w", ids[i], err)
		}
		if w.Tenant == tenant {
			out = append(out, w)
		}
	}
	return out, nil
}

// UpdateWebhook implements Store: read, apply fn, compare-and-set, retried as
// UpdateOrder is.
func (s *Redis) UpdateWebhook(ctx context.Context, tenant string, id int64, fn func(*Webhook) error) (Webhook, error) {
	for range maxUpdateAttempts {
		cur, data, err := s.getWebhook(ctx, tenant, id)
		if err != nil {
			return Webhook{}, err
		}
		upd := cloneWebhook(cur)
		if err := fn(&upd); err != nil {
			return Webhook{}, err
		}
		upd.ID, upd.Tenant = cur.ID, cur.Tenant
		n, err := casScript.Run(ctx, s.rdb, []string{s.webhookKey(id)}, data, encodeWebhook(&upd)).Int()
		if err != nil {
			return Webhook{}, s.fail("update webhook", err)
		}
		switch n {
		case 0:
			return Webhook{}, ErrNotFound
		case 2:
			return upd, nil
		}
		if err := ctx.Err(); err != nil {
			return Webhook{}, err
		}
	}
	return Webhook{}, fmt.Errorf("update webhook %d: still contended after %d attempts", id, maxUpdateAttempts)
}

// deleteWebhookScript forgets a webhook and its events. KEYS: webhook, the tenant's
// webhooks, events, evorder, due; ARGV: webhook id, tenant, event key prefix.
var deleteWebhookScript = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[3], 0, -1)
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[3] .. id)
  redis.call('ZREM', KEYS[5], id .. '/' .. ARGV[2])
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

func (s *Redis) deleteWebhook(ctx context.Context, tenant string, id int64) error {
	err := deleteWebhookScript.Run(ctx, s.rdb,
		[]string{s.webhookKey(id), s.webhooksKey(tenant), s.eventsKey(id), s.evOrderKey(id), s.dueKey()},
		id, tenant, s.prefix+"event:").Err()
	if err != nil {
		return s.fail("delete webhook", err)
	}
	return nil
}

// DeleteWebhook implements Store.
func (s *Redis) DeleteWebhook(ctx context.Context, tenant string, id int64) error {
	if _, _, err := s.getWebhook(ctx, tenant, id); err != nil {
		return err
	}
	return s.deleteWebhook(ctx, tenant, id)
}

// resetWebhooks deletes every webhook of the tenant with its events (Reset).
func (s *Redis) resetWebhooks(ctx context.Context, tenant string) error {
	ids, err := s.rdb.ZRange(ctx, s.webhooksKey(tenant), 0, -1).Result()
	if err != nil {
		return s.fail("reset webhooks", err)
	}
	for _, v := range ids {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("reset webhooks: webhook id %q: %w", v, err)
		}
		if err := s.deleteWebhook(ctx, tenant, id); err != nil {
			return err
		}
	}
	return nil
}

// addEventScript stores an event unless the webhook has one for its order. KEYS:
// webhook, evorder, events, due, event; ARGV: order id, event id, event, due member,
// due score ("" when not due). Returns {0} when the webhook is gone, {1, event} for the
// existing event, {2} when stored.
var addEventScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local data = redis.call('GET', ARGV[6] .. old)
  if data then return {1, data} end
end
redis.call('SET', KEYS[5], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4]) end
return {2}
`)

// AddEvent implements Store. The id is drawn first; when the order has an event
// already it is simply not used (ids need only be unique).
func (s *Redis) AddEvent(ctx context.Context, e Event) (Event, bool, error) {
	if _, _, err := s.getWebhook(ctx, e.Tenant, e.WebhookID); err != nil {
		return Event{}, false, err
	}
	id, err := s.rdb.Incr(ctx, s.seqKey()).Result()
	if err != nil {
		return Event{}, false, s.fail("add event", err)
	}
	e.ID = id
	res, err := addEventScript.Run(ctx, s.rdb,
		[]string{s.webhookKey(e.WebhookID), s.evOrderKey(e.WebhookID), s.eventsKey(e.WebhookID), s.dueKey(), s.eventKey(id)},
		e.OrderID, id, encodeEvent(&e), dueMember(&e), dueScore(&e), s.prefix+"event:").Slice()
	if err != nil {
		return Event{}, false, s.fail("add event", err)
	}
	switch code, _ := res[0].(int64); code {
	case 0:
		return Event{}, false, ErrNotFound
	case 1:
		data, _ := res[1].(string)
		old, err := decodeEvent([]byte(data))
		if err != nil {
			return Event{}, false, fmt.Errorf("add event: existing event: %w", err)
		}
		return old, false, nil
	}
	return cloneEvent(e), true, nil
}

// getEvent returns the event and the bytes it was read from.
func (s *Redis) getEvent(ctx context.Context, tenant string, id int64) (Event, []byte, error) {
	data, err := s.rdb.Get(ctx, s.eventKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Event{}, nil, ErrNotFound
	}
	if err != nil {
		return Event{}, nil, s.fail("get event", err)
	}
	e, err := decodeEvent(data)
	if err != nil {
		return Event{}, nil, fmt.Errorf("event %d: %w", id, err)
	}
	if e.Tenant != tenant {
		return Event{}, nil, ErrNotFound
	}
	return e, data, nil
}

// GetEvent implements Store.
func (s *Redis) GetEvent(ctx context.Context, tenant string, id int64) (Event, error) {
	e, _, err := s.getEvent(ctx, tenant, id)
	return e, err
}

// ListEvents implements Store.
func (s *Redis) ListEvents(ctx context.Context, tenant string, webhookID int64) ([]Event, error) {
	if _, _, err := s.getWebhook(ctx, tenant, webhookID); errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ids, err := s.rdb.ZRevRange(ctx, s.eventsKey(webhookID), 0, -1).Result()
	if err != nil {
		return nil, s.fail("list events", err)
	}
	evs, err := s.readEvents(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		if e != nil && e.Tenant == tenant {
			out = append(out, *e)
		}
	}
	return out, nil
}

// readEvents reads events by id in one MGET, nil for those gone.
func (s *Redis) readEvents(ctx context.Context, ids []string) ([]*Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.prefix + "event:" + id
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail("read events", err)
	}
	out := make([]*Event, len(vals))
	for i, v := range vals {
		data, ok := v.(string)
		if !ok {
			continue
		}
		e, err := decodeEvent([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ids[i], err)
		}
		out[i] = &e
	}
	return out, nil
}

// casEventScript replaces an event if it is still the one the caller read, and sets
// its place in the due set. KEYS: event, due; ARGV: the event read, the new event,
// due member, due score ("" to leave the set). Returns 0 when the event is gone, 1
// when another write came first, 2 when written.
var casEventScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if cur ~= ARGV[1] then return 1 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
end
return 2
`)

// casEvent writes upd over the bytes old were read as: 0 gone, 1 lost the race, 2
// written.
func (s *Redis) casEvent(ctx context.Context, old []byte, upd *Event) (int, error) {
	n, err := casEventScript.Run(ctx, s.rdb, []string{s.eventKey(upd.ID), s.dueKey()},
		old, encodeEvent(upd), dueMember(upd), dueScore(upd)).Int()
	if err != nil {
		return 0, s.fail("update event", err)
	}
	return n, nil
}

// UpdateEvent implements Store: read, apply fn, compare-and-set, retried as
// UpdateOrder is. fn sees the lease as stored, so an owner whose lease another
// replica took over (it ran out) learns it here and gets ErrLeaseLost from its fn.
func (s *Redis) UpdateEvent(ctx context.Context, tenant string, id int64, fn func(*Event) error) (Event, error) {
	for range maxUpdateAttempts {
		cur, data, err := s.getEvent(ctx, tenant, id)
		if err != nil {
			return Event{}, err
		}
		upd := cloneEvent(cur)
		if err := fn(&upd); err != nil {
			return Event{}, err
		}
		if err := checkEventUpdate(&cur, &upd); err != nil {
			return Event{}, err
		}
		switch n, err := s.casEvent(ctx, data, &upd); {
		case err != nil:
			return Event{}, err
		case n == 0:
			return Event{}, ErrNotFound
		case n == 2:
			return upd, nil
		}
		if err := ctx.Err(); err != nil {
			return Event{}, err
		}
	}
	return Event{}, fmt.Errorf("update event %d: still contended after %d attempts", id, maxUpdateAttempts)
}

// dueEvent is an event of the due set with the bytes it was read as and its tenant's
// clock offset.
type dueEvent struct {
	e    Event
	data []byte
	off  time.Duration
}

// dueEvents reads the due set and returns its events whose NextAt's millisecond is at
// or before maxAt(offset), each with its bytes and offset; maxAt nil reads them all.
func (s *Redis) dueEvents(ctx context.Context, maxAt func(off time.Duration) time.Time) ([]dueEvent, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.dueKey(), 0, -1).Result()
	if err != nil {
		return nil, s.fail("due events", err)
	}
	if len(zs) == 0 {
		return nil, nil
	}
	var tenants []string
	for _, z := range zs {
		if _, t, ok := parseDueMember(z.Member.(string)); ok && !slices.Contains(tenants, t) {
			tenants = append(tenants, t)
		}
	}
	offs := map[string]time.Duration{}
	vals, err := s.rdb.HMGet(ctx, s.clocksKey(), tenants...).Result()
	if err != nil {
		return nil, s.fail("due events", err)
	}
	for i, v := range vals {
		if str, ok := v.(string); ok {
			d, err := strconv.ParseInt(str, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("clock of %s: %w", tenants[i], err)
			}
			offs[tenants[i]] = time.Duration(d)
		}
	}
	var keys []string
	for _, z := range zs {
		id, t, ok := parseDueMember(z.Member.(string))
		if !ok {
			continue
		}
		if maxAt != nil && int64(z.Score) > maxAt(offs[t]).UnixMilli() {
			continue
		}
		keys = append(keys, s.eventKey(id))
	}
	if len(keys) == 0 {
		return nil, nil
	}
	raw, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail("due events", err)
	}
	out := make([]dueEvent, 0, len(raw))
	for i, v := range raw {
		data, ok := v.(string)
		if !ok {
			continue // deleted since the set was read
		}
		e, err := decodeEvent([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keys[i], err)
		}
		if e.NextAt == nil {
			continue // sent since the set was read
		}
		out = append(out, dueEvent{e: e, data: []byte(data), off: offs[e.Tenant]})
	}
	return out, nil
}

// ClaimDue implements Store. It reads the due set with each tenant's offset, and
// leases each due event with a compare-and-set on its bytes: when another replica
// wrote the event first (claimed it, or recorded an attempt), the event is read again
// and taken only if it is still due, so no two owners ever hold one lease.
func (s *Redis) ClaimDue(ctx context.Context, owner string, now time.Time, leaseFor time.Duration, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	cands, err := s.dueEvents(ctx, func(off time.Duration) time.Time { return now.Add(off) })
	if err != nil {
		return nil, err
	}
	cands = slices.DeleteFunc(cands, func(c dueEvent) bool { return !due(&c.e, now, c.off) })
	slices.SortFunc(cands, func(a, b dueEvent) int {
		if c := a.e.NextAt.Compare(*b.e.NextAt); c != 0 {
			return c
		}
		return int(a.e.ID - b.e.ID)
	})
	var out []Event
	for _, c := range cands {
		if len(out) == limit {
			break
		}
		e, data := c.e, c.data
		for range maxUpdateAttempts {
			e.LeaseOwner, e.LeaseUntil = owner, now.Add(leaseFor)
			n, err := s.casEvent(ctx, data, &e)
			if err != nil {
				return out, err
			}
			if n == 2 {
				out = append(out, cloneEvent(e))
				break
			}
			if n == 0 {
				break // deleted
			}
			// Another write came first: take the event only if it is still due.
			if e, data, err = s.getEvent(ctx, c.e.Tenant, c.e.ID); errors.Is(err, ErrNotFound) {
				break
			} else if err != nil {
				return out, err
			}
			if !due(&e, now, c.off) {
				break
			}
		}
	}
	return out, nil
}

// NextDue implements Store.
func (s *Redis) NextDue(ctx context.Context) (time.Time, bool, error) {
	evs, err := s.dueEvents(ctx, nil)
	if err != nil {
		return time.Time{}, false, err
	}
	var next time.Time
	found := false
	for _, c := range evs {
		if at := dueAt(&c.e, c.off); !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found, nil
}
