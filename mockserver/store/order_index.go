package store

import (
	"fmt"
	"time"

	"github.com/morimock/morimock/order"
)

// before reports whether the order (ca, a) sorts before (cb, b) in a tenant's list:
// by creation instant, then by id, shorter ids first so that digit ids sort as numbers.
func before(ca time.Time, a string, cb time.Time, b string) bool {
	if !ca.Equal(cb) {
		return ca.Before(cb)
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// checkNew rejects a record no store can index.
func checkNew(rec *order.Record) error {
	switch {
	case rec.ID == "":
		return fmt.Errorf("create order: empty id")
	case rec.Tenant == "":
		return fmt.Errorf("create order %s: empty tenant", rec.ID)
	case len(rec.ID) > 255:
		return fmt.Errorf("create order: id longer than 255 bytes")
	}
	return nil
}

// checkUpdate rejects an update that moves an order in the indexes.
func checkUpdate(old, upd *order.Record) error {
	if upd.ID != old.ID || upd.Tenant != old.Tenant || upd.IdempotencyKey != old.IdempotencyKey || !upd.CreatedAt.Equal(old.CreatedAt) {
		return fmt.Errorf("update order %s: id, tenant, idempotency key and creation instant are fixed", old.ID)
	}
	return nil
}

// fileKeys lists the blobs an order owns by name (besides its OrderBlobPrefix).
func fileKeys(rec *order.Record) []string {
	keys := make([]string, 0, len(rec.Files))
	for _, f := range rec.Files {
		if f.Key != "" {
			keys = append(keys, f.Key)
		}
	}
	return keys
}
