package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/morimock/morimock/order"
)

// Redis is a Store kept on a Redis server that several sandbox processes (replicas
// behind a load balancer) share: an order created on one is read, confirmed and
// listed on any other, an idempotency key makes one order whichever replica gets it,
// and a tenant's clock is the same everywhere. Every write that changes more than one
// key runs as one Lua script, which Redis executes atomically, so no replica ever sees
// half of another's write; an update is a compare-and-set retried until it applies.
//
// Layout, under the prefix (--redis-prefix, so several sandboxes can share a Redis):
//
//	order:<id>        the record (encodeRecord, the embedded store's codec)
//	list:<tenant>     sorted set of sortKey(createdAt, id), all scores 0: Redis orders
//	                  equal scores by the members' bytes, which is the tenant's list order
//	                  to the nanosecond (a float score could not hold nanoseconds)
//	keys:<tenant>     hash: idempotency key -> order id
//	tenants           set of the tenants with orders, for the sweep of every tenant
//	swept             hash: tenant -> unix milliseconds at or before which every order
//	                  of the tenant has lost its blobs (Expire's mark)
//	clocks            hash: tenant -> clock offset in nanoseconds
//	signing-key       the key presigned URLs are signed with
//	blob:<key>, chunk:<gen>:<i>, blobs   file bytes (see redis_blobs.go)
//	webhook:<id>, event:<id>, ...        webhooks and events (see redis_webhooks.go)
//
// Scripts name keys they build from the prefix, so the store needs one Redis server
// (or a primary with replicas or Sentinel), not a Redis Cluster.
type Redis struct {
	rdb    *redis.Client
	prefix string
	blobs  blobConfig
	files  *blobDir // --files-dir: blobs in a shared directory instead of on Redis

	keyMu sync.Mutex
	key   []byte // the signing key once read
}

// DefaultRedisPrefix namespaces the keys of a sandbox on its Redis.
const DefaultRedisPrefix = "morimock:"

// RedisOptions configure OpenRedis; the zero value works.
type RedisOptions struct {
	// Prefix starts every key; "" is DefaultRedisPrefix.
	Prefix string
	// BlobTTL is how long file bytes stay on Redis after their upload: the orders'
	// retention, after which their blobs are deleted anyway. 0 is 30 days.
	BlobTTL time.Duration
	// MaxBlobBytes bounds one blob on Redis, whatever the caller allows; 0 is
	// DefaultRedisMaxBlob.
	MaxBlobBytes int64
	// FilesDir, when set, keeps file bytes as files in this directory, which every
	// replica must share (a volume), instead of on Redis.
	FilesDir string
}

// OpenRedis returns a store on the Redis server at rawURL (redis:// or rediss://,
// with user, password and database number as redis.ParseURL reads them). It does not
// wait for the server: the first calls fail with ErrUnavailable until it answers (see
// Ping), so that a replica can start before its Redis.
func OpenRedis(rawURL string, o RedisOptions) (*Redis, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url %s: %w", redactURL(rawURL), err)
	}
	// While Redis is away a replica must fail fast (and say so), not hold each request
	// for the default 5 s dial timeout and five dials; the URL may still set its own.
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 2 * time.Second
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	return NewRedis(redis.NewClient(opt), o)
}

// NewRedis returns a store on the client, which it closes with Close.
func NewRedis(rdb *redis.Client, o RedisOptions) (*Redis, error) {
	s := &Redis{rdb: rdb, prefix: o.Prefix}
	if s.prefix == "" {
		s.prefix = DefaultRedisPrefix
	}
	s.blobs = blobConfig{ttl: o.BlobTTL, max: o.MaxBlobBytes, chunk: redisChunkSize}
	if s.blobs.ttl <= 0 {
		s.blobs.ttl = 30 * 24 * time.Hour
	}
	if s.blobs.max <= 0 {
		s.blobs.max = DefaultRedisMaxBlob
	}
	if o.FilesDir != "" {
		d, err := newSharedBlobDir(o.FilesDir, true)
		if err != nil {
			rdb.Close()
			return nil, err
		}
		s.files = d
	}
	return s, nil
}

// redactURL hides the password of a Redis URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

func (s *Redis) orderKey(id string) string         { return s.prefix + "order:" + id }
func (s *Redis) listKey(tenant string) string      { return s.prefix + "list:" + tenant }
func (s *Redis) idemKey(tenant string) string      { return s.prefix + "keys:" + tenant }
func (s *Redis) tenantsKey() string                { return s.prefix + "tenants" }
func (s *Redis) sweptKey() string                  { return s.prefix + "swept" }
func (s *Redis) clocksKey() string                 { return s.prefix + "clocks" }
func (s *Redis) signingKeyKey() string             { return s.prefix + "signing-key" }
func memberOf(created time.Time, id string) string { return string(sortKey(created, id)) }

// idOfMember is the order id in a list member (see sortKey).
func idOfMember(m string) string {
	if len(m) < 9 {
		return ""
	}
	return m[9:]
}

// fail wraps a Redis error: ErrUnavailable when the server could not be reached or
// cannot serve now, so that the caller answers "try again" and not "bug".
func (s *Redis) fail(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("redis %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("redis %s: %w", op, err)
}

func unavailable(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) || errors.Is(err, redis.ErrClosed) {
		return true // the network, a timeout, a closed client: not an answer of Redis
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsClusterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsOOMError(err)
}

// Ping implements Shared.
func (s *Redis) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// SigningKey implements Shared: the first replica to ask stores a random key (SET NX);
// every replica then reads that one.
func (s *Redis) SigningKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if err := s.rdb.SetNX(ctx, s.signingKeyKey(), fresh, 0).Err(); err != nil {
		return nil, s.fail("signing key", err)
	}
	key, err := s.rdb.Get(ctx, s.signingKeyKey()).Bytes()
	if err != nil {
		return nil, s.fail("signing key", err)
	}
	s.key = key
	return key, nil
}

// createScript stores an order unless its tenant has one with its idempotency key.
// KEYS: order, idempotency hash, tenant list, tenants, swept; ARGV: key, id, record,
// member, the order key prefix, tenant, creation in unix milliseconds. Returns {0,
// record} for the existing order, {1} when stored, {2} when the id is taken. A key
// whose order is gone (deleted) makes a new order. An order created at or before the
// tenant's Expire mark (its clock moved far back) moves the mark before it, so that
// the next sweep looks at it.
var createScript = redis.NewScript(`
local k = ARGV[1]
if k ~= '' then
  local old = redis.call('HGET', KEYS[2], k)
  if old then
    local rec = redis.call('GET', ARGV[5] .. old)
    if rec then return {0, rec} end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {2} end
redis.call('SET', KEYS[1], ARGV[3])
if k ~= '' then redis.call('HSET', KEYS[2], k, ARGV[2]) end
redis.call('ZADD', KEYS[3], 0, ARGV[4])
redis.call('SADD', KEYS[4], ARGV[6])
local mark = redis.call('HGET', KEYS[5], ARGV[6])
if mark and tonumber(ARGV[7]) <= tonumber(mark) then
  redis.call('HSET', KEYS[5], ARGV[6], tonumber(ARGV[7]) - 1)
end
return {1}
`)

// CreateOrder implements Store.
func (s *Redis) CreateOrder(ctx context.Context, rec order.Record) (order.Record, bool, error) {
	if err := checkNew(&rec); err != nil {
		return order.Record{}, false, err
	}
	res, err := createScript.Run(ctx, s.rdb,
		[]string{s.orderKey(rec.ID), s.idemKey(rec.Tenant), s.listKey(rec.Tenant), s.tenantsKey(), s.sweptKey()},
		rec.IdempotencyKey, rec.ID, encodeRecord(&rec), memberOf(rec.CreatedAt, rec.ID), s.prefix+"order:",
		rec.Tenant, floorMilli(rec.CreatedAt)).Slice()
	if err != nil {
		return order.Record{}, false, s.fail("create order "+rec.ID, err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 1:
		return rec.Clone(), true, nil
	case 2:
		return order.Record{}, false, fmt.Errorf("create order %s: %w", rec.ID, ErrIDTaken)
	}
	data, _ := res[1].(string)
	old, err := decodeRecord([]byte(data))
	if err != nil {
		return order.Record{}, false, fmt.Errorf("create order %s: existing order: %w", rec.ID, err)
	}
	return old, false, nil
}

// GetOrder implements Store.
func (s *Redis) GetOrder(ctx context.Context, tenant, id string) (order.Record, error) {
	r, _, err := s.readOrder(ctx, "get order", tenant, id)
	return r, err
}

// readOrder reads and decodes tenant's order id, returning the stored bytes too (for
// UpdateOrder's compare-and-set). Another tenant's order is ErrNotFound, as a missing
// one is, so a tenant cannot learn which ids others hold. op names the caller in
// errors from Redis.
func (s *Redis) readOrder(ctx context.Context, op, tenant, id string) (order.Record, []byte, error) {
	data, err := s.rdb.Get(ctx, s.orderKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return order.Record{}, nil, ErrNotFound
	}
	if err != nil {
		return order.Record{}, nil, s.fail(op+" "+id, err)
	}
	r, err := decodeRecord(data)
	if err != nil {
		return order.Record{}, nil, fmt.Errorf("order %s: %w", id, err)
	}
	if r.Tenant != tenant {
		return order.Record{}, nil, ErrNotFound
	}
	return r, data, nil
}

// OrderExists implements Store.
func (s *Redis) OrderExists(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.orderKey(id)).Result()
	if err != nil {
		return false, s.fail("order exists "+id, err)
	}
	return n == 1, nil
}

// casScript replaces an order's record if it is still the one the caller read.
// KEYS: order; ARGV: the record read, the new record. Returns 0 when the order is
// gone, 1 when another write came first, 2 when written.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if cur ~= ARGV[1] then return 1 end
redis.call('SET', KEYS[1], ARGV[2])
return 2
`)

// maxUpdateAttempts bounds UpdateOrder's retries. Every failed attempt means another
// update of the same order was written, so it only runs out when hundreds of writers
// race on one order.
const maxUpdateAttempts = 1000

// UpdateOrder implements Store: read, apply fn, and compare-and-set; when another
// update (from any replica) came in between, read again and call fn again.
func (s *Redis) UpdateOrder(ctx context.Context, tenant, id string, fn func(*order.Record) error) (order.Record, error) {
	key := s.orderKey(id)
	for range maxUpdateAttempts {
		cur, data, err := s.readOrder(ctx, "update order", tenant, id)
		if err != nil {
			return order.Record{}, err
		}
		upd := cur.Clone()
		if err := fn(&upd); err != nil {
			return order.Record{}, err
		}
		if err := checkUpdate(&cur, &upd); err != nil {
			return order.Record{}, err
		}
		n, err := casScript.Run(ctx, s.rdb, []string{key}, data, encodeRecord(&upd)).Int()
		if err != nil {
			return order.Record{}, s.fail("update order "+id, err)
		}
		switch n {
		case 0:
			return order.Record{}, ErrNotFound
		case 2:
			return upd, nil
		}
		if err := ctx.Err(); err != nil {
			return order.Record{}, err
		}
	}
	return order.Record{}, fmt.Errorf("update order %s: still contended after %d attempts", id, maxUpdateAttempts)
}

// UpdateOrderBlobs implements Store. Redis writes need no fsync of ours: the blobs
// and the update are separate writes, the blobs first.
func (s *Redis) UpdateOrderBlobs(ctx context.Context, tenant, id string, blobs []NamedBlob, fn func(*order.Record) error) (order.Record, error) {
	return putThenUpdate(ctx, s, tenant, id, blobs, fn)
}

// ListOrders implements Store.
func (s *Redis) ListOrders(ctx context.Context, tenant string) ([]order.Record, error) {
	page, _, err := s.PageOrders(ctx, tenant, 0, -1, nil)
	return page, err
}

// pageBatch is how many orders a filtered page reads per round trip.
const pageBatch = 500

// PageOrders implements Store. Without keep it reads only the page (ZREVRANGE by
// rank); with keep it reads the tenant's orders newest first, pageBatch at a time.
func (s *Redis) PageOrders(ctx context.Context, tenant string, offset, limit int, keep func(*order.Record) bool) ([]order.Record, int, error) {
	offset = max(offset, 0)
	list := s.listKey(tenant)
	if keep == nil {
		if limit == 0 {
			n, err := s.rdb.ZCard(ctx, list).Result()
			if err != nil {
				return nil, 0, s.fail("list orders", err)
			}
			return nil, int(n), nil
		}
		stop := int64(-1)
		if limit > 0 {
			stop = int64(offset + limit - 1)
		}
		var card *redis.IntCmd
		var members *redis.StringSliceCmd
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			card = p.ZCard(ctx, list)
			members = p.ZRevRange(ctx, list, int64(offset), stop)
			return nil
		})
		if err != nil {
			return nil, 0, s.fail("list orders", err)
		}
		page, err := s.readOrders(ctx, tenant, members.Val(), nil)
		return page, int(card.Val()), err
	}
	var page []order.Record
	total := 0
	for start := int64(0); ; start += pageBatch {
		members, err := s.rdb.ZRevRange(ctx, list, start, start+pageBatch-1).Result()
		if err != nil {
			return nil, 0, s.fail("list orders", err)
		}
		recs, err := s.readOrders(ctx, tenant, members, keep)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range recs {
			if total >= offset && (limit < 0 || len(page) < limit) {
				page = append(page, r)
			}
			total++
		}
		if len(members) < pageBatch {
			return page, total, nil
		}
	}
}

// readOrders reads the orders of list members in one MGET, in order, skipping those
// deleted meanwhile and those keep refuses.
func (s *Redis) readOrders(ctx context.Context, tenant string, members []string, keep func(*order.Record) bool) ([]order.Record, error) {
	recs, err := s.recordsOf(ctx, members)
	if err != nil || recs == nil {
		return nil, err // no members: nil, as a list with none has always read
	}
	out := make([]order.Record, 0, len(recs))
	for _, r := range recs {
		if r == nil || r.Tenant != tenant || (keep != nil && !keep(r)) {
			continue // deleted since the list was read, or refused
		}
		out = append(out, *r)
	}
	return out, nil
}

// deleteScript forgets an order and its index entries. KEYS: order, tenant list,
// idempotency hash; ARGV: member, idempotency key, id. The key is dropped only while
// it still names this order.
var deleteScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' and redis.call('HGET', KEYS[3], ARGV[2]) == ARGV[3] then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
return 1
`)

// floorMilli is t in unix milliseconds, rounded down: the unit of the Expire mark,
// which Lua compares as a number (a double holds milliseconds exactly, not nanoseconds).
func floorMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).After(t) {
		ms--
	}
	return ms
}

// lexBelowOrAt is the ZRANGEBYLEX bound of the list members of orders created at or
// before t: each member starts with the 8 bytes of its creation (sortKey), so those
// members sort below the bare 8 bytes of the next nanosecond.
func lexBelowOrAt(t time.Time) string { return "(" + string(encodeInstant(t.Add(1))) }

// Expire implements Store: each tenant (every tenant in the tenants set when tenant
// is "") is swept by its own clock, read from the clocks hash.
func (s *Redis) Expire(ctx context.Context, tenant string, now time.Time, filesAfter, forgetAfter time.Duration) (int, error) {
	if tenant != "" {
		return s.expireTenant(ctx, tenant, now, filesAfter, forgetAfter)
	}
	n := 0
	iter := s.rdb.SScan(ctx, s.tenantsKey(), 0, "", pageBatch).Iterator()
	for iter.Next(ctx) {
		k, err := s.expireTenant(ctx, iter.Val(), now, filesAfter, forgetAfter)
		n += k
		if err != nil {
			return n, err
		}
	}
	if err := iter.Err(); err != nil {
		return n, s.fail("retention", err)
	}
	return n, nil
}

// forgetTenantScript drops a tenant whose list is empty from the tenants set and its
// Expire mark, unless an order came meanwhile. KEYS: list, tenants, swept; ARGV: tenant.
var forgetTenantScript = redis.NewScript(`
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
return 1
`)

// expireTenant forgets the tenant's orders created at or before forgetAfter ago on its
// clock, then deletes the blobs of those created at or before filesAfter ago and after
// its mark, and moves the mark up. Several replicas may sweep at once: each deletion
// is idempotent, and the mark only ever claims what has been deleted.
func (s *Redis) expireTenant(ctx context.Context, tenant string, now time.Time, filesAfter, forgetAfter time.Duration) (int, error) {
	off, err := s.ClockOffset(ctx, tenant)
	if err != nil {
		return 0, err
	}
	tnow := now.Add(off)
	forgetCut, filesCut := tnow.Add(-forgetAfter), tnow.Add(-filesAfter)
	list := s.listKey(tenant)
	n := 0
	for {
		members, err := s.rdb.ZRangeByLex(ctx, list, &redis.ZRangeBy{Min: "-", Max: lexBelowOrAt(forgetCut), Count: pageBatch}).Result()
		if err != nil {
			return n, s.fail("retention", err)
		}
		if len(members) == 0 {
			break
		}
		recs, err := s.recordsOf(ctx, members)
		if err != nil {
			return n, err
		}
		var prefixes, fkeys []string
		for i, r := range recs {
			if r == nil { // gone meanwhile: drop its list entry only
				if err := s.rdb.ZRem(ctx, list, members[i]).Err(); err != nil {
					return n, s.fail("retention", err)
				}
				continue
			}
			err := deleteScript.Run(ctx, s.rdb, []string{s.orderKey(r.ID), list, s.idemKey(tenant)},
				members[i], r.IdempotencyKey, r.ID).Err()
			if err != nil {
				return n, s.fail("retention", err)
			}
			n++
			prefixes = append(prefixes, OrderBlobPrefix(r.Tenant, r.ID))
			fkeys = append(fkeys, fileKeys(r)...)
		}
		if err := s.removeBlobs(ctx, prefixes, fkeys); err != nil {
			return n, err
		}
	}

	// The orders whose files expired since the last sweep: after the mark (and after
	// forgetCut: those are gone) and at or before filesCut.
	from := lexBelowOrAt(forgetCut) // as a lower bound: created after forgetCut
	mark, err := s.rdb.HGet(ctx, s.sweptKey(), tenant).Int64()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return n, s.fail("retention", err)
	case time.UnixMilli(mark).After(forgetCut):
		from = "[" + string(encodeInstant(time.UnixMilli(mark))) // from the mark's millisecond on
	}
	for from != "" {
		members, err := s.rdb.ZRangeByLex(ctx, list, &redis.ZRangeBy{Min: from, Max: lexBelowOrAt(filesCut), Count: pageBatch}).Result()
		if err != nil {
			return n, s.fail("retention", err)
		}
		if len(members) < pageBatch {
			from = ""
		} else {
			from = "(" + members[len(members)-1]
		}
		recs, err := s.recordsOf(ctx, members)
		if err != nil {
			return n, err
		}
		var prefixes, fkeys []string
		for _, r := range recs {
			if r != nil {
				prefixes = append(prefixes, OrderBlobPrefix(r.Tenant, r.ID))
				fkeys = append(fkeys, fileKeys(r)...)
			}
		}
		if err := s.removeBlobs(ctx, prefixes, fkeys); err != nil {
			return n, err
		}
	}
	if err := raiseMarkScript.Run(ctx, s.rdb, []string{s.sweptKey()}, tenant, floorMilli(filesCut)).Err(); err != nil {
		return n, s.fail("retention", err)
	}
	if err := forgetTenantScript.Run(ctx, s.rdb, []string{list, s.tenantsKey(), s.sweptKey()}, tenant).Err(); err != nil {
		return n, s.fail("retention", err)
	}
	return n, nil
}

// raiseMarkScript moves a tenant's Expire mark up to ARGV[2], never down (a create
// before the mark lowers it, see createScript). KEYS: swept; ARGV: tenant, mark.
var raiseMarkScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or tonumber(ARGV[2]) > tonumber(cur) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
`)

// recordsOf reads the orders of list members, nil for those gone.
func (s *Redis) recordsOf(ctx context.Context, members []string) ([]*order.Record, error) {
	if len(members) == 0 {
		return nil, nil
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = s.orderKey(idOfMember(m))
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, s.fail("read orders", err)
	}
	out := make([]*order.Record, len(vals))
	for i, v := range vals {
		data, ok := v.(string)
		if !ok {
			continue
		}
		r, err := decodeRecord([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("order %s: %w", idOfMember(members[i]), err)
		}
		out[i] = &r
	}
	return out, nil
}

// ClockOffset implements Store.
func (s *Redis) ClockOffset(ctx context.Context, tenant string) (time.Duration, error) {
	v, err := s.rdb.HGet(ctx, s.clocksKey(), tenant).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail("clock", err)
	}
	d, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("clock of %s: %w", tenant, err)
	}
	return time.Duration(d), nil
}

// SetClockOffset implements Store.
func (s *Redis) SetClockOffset(ctx context.Context, tenant string, d time.Duration) error {
	if err := s.rdb.HSet(ctx, s.clocksKey(), tenant, int64(d)).Err(); err != nil {
		return s.fail("set clock", err)
	}
	return nil
}

// Reset implements Store.
func (s *Redis) Reset(ctx context.Context, tenant string) error {
	list := s.listKey(tenant)
	members, err := s.rdb.ZRange(ctx, list, 0, -1).Result()
	if err != nil {
		return s.fail("reset", err)
	}
	recs, err := s.readOrders(ctx, tenant, members, nil)
	if err != nil {
		return err
	}
	var fkeys []string
	for i := range recs {
		fkeys = append(fkeys, fileKeys(&recs[i])...)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range members {
			p.Del(ctx, s.orderKey(idOfMember(m)))
		}
		p.Del(ctx, list, s.idemKey(tenant))
		p.HDel(ctx, s.clocksKey(), tenant)
		p.HDel(ctx, s.sweptKey(), tenant)
		p.SRem(ctx, s.tenantsKey(), tenant)
		return nil
	})
	if err != nil {
		return s.fail("reset", err)
	}
	if err := s.resetWebhooks(ctx, tenant); err != nil {
		return err
	}
	return s.removeBlobs(ctx, []string{tenantBlobPrefix(tenant)}, fkeys)
}

// Close implements Store: it closes the connections (the state stays on Redis).
func (s *Redis) Close() error {
	if err := s.rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}

var _ Shared = (*Redis)(nil)
