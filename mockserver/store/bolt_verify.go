package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Verify checks the embedded store from end to end: bbolt's own page consistency,
// then the indexes against the records (each list entry names an order of its
// tenant created at its instant, each order is listed, each idempotency key names an
// order made with it). A store that fails it was damaged outside the store's code.
func (s *Bolt) Verify(ctx context.Context) error {
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("verify state: %w", errors.Join(errs...))
		}
		orders := tx.Bucket(bucketOrders)
		listed := 0
		err := tx.Bucket(bucketTenants).ForEachBucket(func(tenant []byte) error {
			tb := tx.Bucket(bucketTenants).Bucket(tenant)
			err := tb.Bucket(bucketList).ForEach(func(k, id []byte) error {
				listed++
				r, err := s.getTx(tx, string(tenant), string(id))
				if err != nil {
					return fmt.Errorf("list of tenant %x names order %s: %w", tenant, id, err)
				}
				if !bytes.Equal(k, sortKey(r.CreatedAt, r.ID)) {
					return fmt.Errorf("order %s is listed under the wrong instant", id)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return tb.Bucket(bucketKeys).ForEach(func(key, id []byte) error {
				r, err := s.getTx(tx, string(tenant), string(id))
				if err != nil {
					return fmt.Errorf("idempotency key %q names order %s: %w", key, id, err)
				}
				if r.IdempotencyKey != string(key) {
					return fmt.Errorf("idempotency key %q names order %s, made with %q", key, id, r.IdempotencyKey)
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("verify state: %w", err)
		}
		if n := orders.Stats().KeyN; n != listed {
			return fmt.Errorf("verify state: %d orders but %d listed", n, listed)
		}
		if err := verifyContentsTx(tx); err != nil {
			return fmt.Errorf("verify state: %w", err)
		}
		return nil
	})
}

// verifyContentsTx checks the shared blob contents: every reference names a content
// that is kept, and every content is kept with the number of references to it.
func verifyContentsTx(tx *bolt.Tx) error {
	named := map[string]uint64{}
	err := tx.Bucket(bucketBlobRefs).ForEach(func(k, v []byte) error {
		if len(v) != 8+sha256.Size {
			return fmt.Errorf("blob %q: a reference of %d bytes", k, len(v))
		}
		if tx.Bucket(bucketContents).Get(v[8:]) == nil {
			return fmt.Errorf("blob %q names content %x, which is not kept", k, v[8:])
		}
		named[string(v[8:])]++
		return nil
	})
	if err != nil {
		return err
	}
	refs := tx.Bucket(bucketContentRefs)
	err = tx.Bucket(bucketContents).ForEach(func(sum, _ []byte) error {
		c := refs.Get(sum)
		if len(c) != 8 || binary.BigEndian.Uint64(c) != named[string(sum)] {
			return fmt.Errorf("content %x is counted %x, named by %d blobs", sum, c, named[string(sum)])
		}
		delete(named, string(sum))
		return nil
	})
	if err != nil {
		return err
	}
	if n := refs.Stats().KeyN; n != tx.Bucket(bucketContents).Stats().KeyN {
		return fmt.Errorf("%d reference counts for %d contents", n, tx.Bucket(bucketContents).Stats().KeyN)
	}
	return nil
}
