package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/morimock/morimock/order"
)

// Bolt is a Store that keeps everything under one directory (--state-dir): orders,
// idempotency keys, clock offsets and blobs up to 256 KiB in a bbolt file
// (dir/state.db), larger blobs as files under dir/blobs (see bolt_blobs.go). bbolt
// commits are atomic and fsynced, and blob files are renamed into place after an
// fsync, so a process killed at any moment reopens with every write that returned and
// none half done.
//
// bbolt was chosen over SQLite (cgo, or a large pure-Go port) and hand-rolled files
// (a write-ahead log to get right): it is one small pure-Go dependency, opens by
// mapping the file (no load at start, whatever the number of orders) and keeps keys
// sorted, which gives each tenant's newest-first list for free.
//
// Layout: bucket "orders" maps an id to the record (see encodeRecord); bucket "tenants" holds a
// bucket per tenant with "list" (sortKey -> id) and "keys" (idempotency key -> id);
// bucket "clocks" maps a tenant to its offset in nanoseconds. Webhooks and events: see
// bolt_webhooks.go.
type Bolt struct {
	db      *bolt.DB
	blobs   *blobDir
	blobMax int64 // larger blobs are files (boltBlobMax but in tests)
	group   groupCommit
}

var (
	bucketOrders  = []byte("orders")
	bucketTenants = []byte("tenants")
	bucketClocks  = []byte("clocks")
	bucketList    = []byte("list")
	bucketKeys    = []byte("keys")
)

// allBuckets are the top-level buckets Open creates.
var allBuckets = [][]byte{bucketOrders, bucketBlobs, bucketBlobRefs, bucketContents, bucketContentRefs, bucketTenants, bucketClocks, bucketWebhooks, bucketEvents, bucketEventKeys, bucketHookEvents, bucketDue}

// Open opens (creating if needed) the store kept in dir.
func Open(dir string) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open state dir: %w", err)
	}
	blobs, err := newBlobDir(filepath.Join(dir, "blobs"), true)
	if err != nil {
		return nil, err
	}
	// The timeout turns a second process on the same directory into an error, not a hang.
	db, err := bolt.Open(filepath.Join(dir, "state.db"), 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open state dir %s: %w", dir, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state dir %s: %w", dir, err)
	}
	return &Bolt{db: db, blobs: blobs, blobMax: boltBlobMax}, nil
}

// write commits fn, with the writes that wait for a commit as it arrives (see
// groupCommit).
func (s *Bolt) write(fn func(*bolt.Tx) error) error {
	return s.group.write(s.db, fn)
}

// sortKey orders a tenant's list by creation instant, then id (shorter first), as
// before does: the instant as big-endian nanoseconds with the sign bit flipped, the
// id's length, the id.
func sortKey(created time.Time, id string) []byte {
	k := make([]byte, 9, 9+len(id))
	binary.BigEndian.PutUint64(k, uint64(created.UnixNano())^(1<<63))
	k[8] = byte(len(id))
	return append(k, id...)
}

func sortKeyTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k)^(1<<63)))
}

func (s *Bolt) getTx(tx *bolt.Tx, tenant, id string) (order.Record, error) {
	data := tx.Bucket(bucketOrders).Get([]byte(id))
	if data == nil {
		return order.Record{}, ErrNotFound
	}
	r, err := decodeRecord(data)
	if err != nil {
		return order.Record{}, fmt.Errorf("order %s: %w", id, err)
	}
	if r.Tenant != tenant {
		return order.Record{}, ErrNotFound
	}
	return r, nil
}

// createTx stores rec in tx (see CreateOrder).
func (s *Bolt) createTx(tx *bolt.Tx, rec *order.Record) (order.Record, bool, error) {
	tb, err := tx.Bucket(bucketTenants).CreateBucketIfNotExists([]byte(rec.Tenant))
	if err != nil {
		return order.Record{}, false, err
	}
	keys, err := tb.CreateBucketIfNotExists(bucketKeys)
	if err != nil {
		return order.Record{}, false, err
	}
	list, err := tb.CreateBucketIfNotExists(bucketList)
	if err != nil {
		return order.Record{}, false, err
	}
	if rec.IdempotencyKey != "" {
		if id := keys.Get([]byte(rec.IdempotencyKey)); id != nil {
			r, err := s.getTx(tx, rec.Tenant, string(id))
			return r, false, err
		}
	}
	orders := tx.Bucket(bucketOrders)
	if orders.Get([]byte(rec.ID)) != nil {
		return order.Record{}, false, fmt.Errorf("create order %s: %w", rec.ID, ErrIDTaken)
	}
	if err := orders.Put([]byte(rec.ID), encodeRecord(rec)); err != nil {
		return order.Record{}, false, err
	}
	if rec.IdempotencyKey != "" {
		if err := keys.Put([]byte(rec.IdempotencyKey), []byte(rec.ID)); err != nil {
			return order.Record{}, false, err
		}
	}
	if err := list.Put(sortKey(rec.CreatedAt, rec.ID), []byte(rec.ID)); err != nil {
		return order.Record{}, false, err
	}
	if v := tb.Get(sweptKey); len(v) == 8 && !rec.CreatedAt.After(sortKeyTime(v)) {
		// A clock moved far back: the next Expire looks at this order again.
		if err := tb.Put(sweptKey, encodeInstant(rec.CreatedAt.Add(-1))); err != nil {
			return order.Record{}, false, err
		}
	}
	return rec.Clone(), true, nil
}

// CreateOrder implements Store.
func (s *Bolt) CreateOrder(ctx context.Context, rec order.Record) (order.Record, bool, error) {
	if err := checkNew(&rec); err != nil {
		return order.Record{}, false, err
	}
	var got order.Record
	var created bool
	err := s.write(func(tx *bolt.Tx) error {
		var err error
		got, created, err = s.createTx(tx, &rec)
		return err
	})
	if err != nil {
		return order.Record{}, false, err
	}
	return got, created, nil
}

// GetOrder implements Store.
func (s *Bolt) GetOrder(ctx context.Context, tenant, id string) (order.Record, error) {
	var r order.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = s.getTx(tx, tenant, id)
		return err
	})
	return r, err
}

// OrderExists implements Store.
func (s *Bolt) OrderExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketOrders).Get([]byte(id)) != nil
		return nil
	})
	return ok, err
}

// UpdateOrder implements Store.
func (s *Bolt) UpdateOrder(ctx context.Context, tenant, id string, fn func(*order.Record) error) (order.Record, error) {
	return s.UpdateOrderBlobs(ctx, tenant, id, nil, fn)
}

// UpdateOrderBlobs implements Store: blobs up to boltBlobMax go into the update's
// own transaction; larger ones are written to their files first.
func (s *Bolt) UpdateOrderBlobs(ctx context.Context, tenant, id string, blobs []NamedBlob, fn func(*order.Record) error) (order.Record, error) {
	var inline []NamedBlob
	var files [][]byte // keys whose bytes went to files: a smaller blob in bbolt would shadow them
	now := time.Now()
	for _, b := range blobs {
		if _, err := checkKey(b.Key); err != nil {
			return order.Record{}, err
		}
		if int64(len(b.Data)) <= s.blobMax {
			inline = append(inline, b)
			continue
		}
		if _, err := s.blobs.put(ctx, b.Key, bytes.NewReader(b.Data), int64(len(b.Data))); err != nil {
			return order.Record{}, err
		}
		files = append(files, []byte(b.Key))
	}
	var upd order.Record
	err := s.write(func(tx *bolt.Tx) error {
		old, err := s.getTx(tx, tenant, id)
		if err != nil {
			return err
		}
		upd = old.Clone()
		if err := fn(&upd); err != nil {
			return err
		}
		if err := checkUpdate(&old, &upd); err != nil {
			return err
		}
		for _, b := range inline {
			if err := putBlobTx(tx, []byte(b.Key), b.Data, now); err != nil {
				return err
			}
		}
		for _, k := range files {
			if err := dropBlobTx(tx, k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketOrders).Put([]byte(id), encodeRecord(&upd))
	})
	if err != nil {
		return order.Record{}, err
	}
	return upd, nil
}

// ListOrders implements Store.
func (s *Bolt) ListOrders(ctx context.Context, tenant string) ([]order.Record, error) {
	page, _, err := s.PageOrders(ctx, tenant, 0, -1, nil)
	return page, err
}

// PageOrders implements Store. Without keep it reads only the records of the page.
func (s *Bolt) PageOrders(ctx context.Context, tenant string, offset, limit int, keep func(*order.Record) bool) ([]order.Record, int, error) {
	var page []order.Record
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTenants).Bucket([]byte(tenant))
		if tb == nil {
			return nil
		}
		c := tb.Bucket(bucketList).Cursor()
		for k, id := c.Last(); k != nil; k, id = c.Prev() {
			want := total >= offset && (limit < 0 || len(page) < limit)
			if keep == nil && !want {
				total++ // only counting: no need to read the record
				continue
			}
			r, err := s.getTx(tx, tenant, string(id))
			if err != nil {
				return fmt.Errorf("list orders: %w", err)
			}
			if keep != nil && !keep(&r) {
				continue
			}
			if want {
				page = append(page, r)
			}
			total++
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return page, total, nil
}

// sweptKey, in a tenant's bucket, holds the instant (as sortKey encodes it) at or
// before which every order of the tenant has had its blobs deleted (see Expire).
var sweptKey = []byte("swept")

func encodeInstant(t time.Time) []byte { return sortKey(t, "")[:8] }

// expireCuts returns the tenant's instants for Expire: orders created at or before
// forget are forgotten, those at or before files lose their blobs.
func (s *Bolt) expireCuts(tx *bolt.Tx, tenant []byte, now time.Time, filesAfter, forgetAfter time.Duration) (forget, files time.Time) {
	if v := tx.Bucket(bucketClocks).Get(tenant); len(v) == 8 {
		now = now.Add(time.Duration(binary.BigEndian.Uint64(v)))
	}
	return now.Add(-forgetAfter), now.Add(-filesAfter)
}

// expireWork reports whether Expire has anything to do for the tenant: an order to
// forget, or one whose blobs are still there and should not be.
func expireWork(tb *bolt.Bucket, forget, files time.Time) bool {
	c := tb.Bucket(bucketList).Cursor()
	k, _ := c.First()
	if k == nil {
		return false
	}
	if !sortKeyTime(k).After(forget) {
		return true
	}
	if v := tb.Get(sweptKey); len(v) == 8 {
		k, _ = c.Seek(encodeInstant(sortKeyTime(v).Add(1))) // the first order after it
	}
	return k != nil && !sortKeyTime(k).After(files)
}

// Expire implements Store. A read-only pass finds the tenants with something to do,
// so an hourly sweep over many quiet tenants writes (and fsyncs) nothing.
func (s *Bolt) Expire(ctx context.Context, tenant string, now time.Time, filesAfter, forgetAfter time.Duration) (int, error) {
	var busy [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		check := func(name []byte) error {
			tb := tx.Bucket(bucketTenants).Bucket(name)
			if tb == nil {
				return nil
			}
			forget, files := s.expireCuts(tx, name, now, filesAfter, forgetAfter)
			if expireWork(tb, forget, files) {
				busy = append(busy, append([]byte(nil), name...))
			}
			return nil
		}
		if tenant != "" {
			return check([]byte(tenant))
		}
		return tx.Bucket(bucketTenants).ForEachBucket(check)
	})
	if err != nil || len(busy) == 0 {
		return 0, err
	}
	var prefixes, blobs []string
	n := 0
	err = s.db.Update(func(tx *bolt.Tx) error {
		prefixes, blobs, n = nil, nil, 0
		orders := tx.Bucket(bucketOrders)
		for _, tenant := range busy {
			tb := tx.Bucket(bucketTenants).Bucket(tenant)
			if tb == nil {
				continue
			}
			forget, files := s.expireCuts(tx, tenant, now, filesAfter, forgetAfter)
			list, keys := tb.Bucket(bucketList), tb.Bucket(bucketKeys)
			var gone [][]byte
			c := list.Cursor()
			k, id := c.First()
			for ; k != nil && !sortKeyTime(k).After(forget); k, id = c.Next() {
				gone = append(gone, k)
				r, err := s.getTx(tx, string(tenant), string(id))
				if err != nil {
					return fmt.Errorf("delete order %s: %w", id, err)
				}
				if r.IdempotencyKey != "" && bytes.Equal(keys.Get([]byte(r.IdempotencyKey)), id) {
					if err := keys.Delete([]byte(r.IdempotencyKey)); err != nil {
						return err
					}
				}
				if err := orders.Delete(id); err != nil {
					return err
				}
				prefixes = append(prefixes, OrderBlobPrefix(r.Tenant, r.ID))
				blobs = append(blobs, fileKeys(&r)...)
			}
			swept := tb.Get(sweptKey)
			if len(swept) == 8 && k != nil {
				if sk, sid := c.Seek(encodeInstant(sortKeyTime(swept).Add(1))); sk == nil || bytes.Compare(sk, k) > 0 {
					k, id = sk, sid
				}
			}
			for ; k != nil && !sortKeyTime(k).After(files); k, id = c.Next() {
				r, err := s.getTx(tx, string(tenant), string(id))
				if err != nil {
					return fmt.Errorf("expire order %s: %w", id, err)
				}
				prefixes = append(prefixes, OrderBlobPrefix(r.Tenant, r.ID))
				blobs = append(blobs, fileKeys(&r)...)
			}
			if cut := encodeInstant(files); len(swept) != 8 || bytes.Compare(cut, swept) > 0 {
				if err := tb.Put(sweptKey, cut); err != nil {
					return err
				}
			}
			for _, k := range gone {
				if err := list.Delete(k); err != nil {
					return err
				}
			}
			n += len(gone)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire orders: %w", err)
	}
	return n, s.removeBlobs(prefixes, blobs)
}

// ClockOffset implements Store.
func (s *Bolt) ClockOffset(ctx context.Context, tenant string) (time.Duration, error) {
	var d time.Duration
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketClocks).Get([]byte(tenant)); len(v) == 8 {
			d = time.Duration(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return d, err
}

// SetClockOffset implements Store.
func (s *Bolt) SetClockOffset(ctx context.Context, tenant string, d time.Duration) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClocks).Put([]byte(tenant), binary.BigEndian.AppendUint64(nil, uint64(d)))
	})
}

// Reset implements Store.
func (s *Bolt) Reset(ctx context.Context, tenant string) error {
	var blobs []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		blobs = nil
		if err := tx.Bucket(bucketClocks).Delete([]byte(tenant)); err != nil {
			return err
		}
		if err := resetWebhooksTx(tx, tenant); err != nil {
			return err
		}
		tenants := tx.Bucket(bucketTenants)
		tb := tenants.Bucket([]byte(tenant))
		if tb == nil {
			return nil
		}
		orders := tx.Bucket(bucketOrders)
		err := tb.Bucket(bucketList).ForEach(func(_, id []byte) error {
			if r, err := s.getTx(tx, tenant, string(id)); err == nil {
				blobs = append(blobs, fileKeys(&r)...)
			}
			return orders.Delete(id)
		})
		if err != nil {
			return err
		}
		return tenants.DeleteBucket([]byte(tenant))
	})
	if err != nil {
		return fmt.Errorf("reset tenant: %w", err)
	}
	return s.removeBlobs([]string{tenantBlobPrefix(tenant)}, blobs)
}

// Close implements Store.
func (s *Bolt) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	return nil
}

var _ Store = (*Bolt)(nil)
