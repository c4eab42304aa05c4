package store

import (
	"bytes"
	"context"
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
		return nil
	})
}
