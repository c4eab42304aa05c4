// Package store keeps the stateful sandbox's state: orders, idempotency keys, tenants'
// clocks, file bytes, webhooks and their delivery events. The HTTP layer talks to the Store
// interface only; memory, the embedded store behind --state-dir and Redis (--redis, shared
// by replicas) implement it, and every implementation passes the same conformance suite
// (storetest).
package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/morimock/morimock/order"
)

// ErrNotFound is returned for an order or blob that does not exist (for this tenant).
var ErrNotFound = errors.New("not found")

// ErrTooLarge is returned by PutBlob when the body is over the limit it was given.
var ErrTooLarge = errors.New("too large")

// ErrIDTaken is returned by CreateOrder when another order (of any tenant) already has
// the new order's id.
var ErrIDTaken = errors.New("order id taken")

// ErrUnavailable wraps a failure to reach a store shared over the network (Redis down,
// restarting or loading its data): the call may succeed when retried later, and the
// server answers it as a temporary failure rather than a bug.
var ErrUnavailable = errors.New("store unavailable")

// Shared is implemented by a store several server processes (replicas) share. The
// server then asks it whether it is reachable (/healthz) and for the key that signs
// presigned URLs, so that a URL one replica signed is valid on every other.
type Shared interface {
	Store
	// Ping reports whether the store answers now; its error wraps ErrUnavailable.
	Ping(ctx context.Context) error
	// SigningKey returns the key every replica signs URLs with, made by the first
	// replica that asked for it.
	SigningKey(ctx context.Context) ([]byte, error)
}

// OrderBlobPrefix is the key prefix of the blobs an order owns besides its files'
// keys (results, thumbnails, heatmaps): Expire and Reset delete every blob
// under it and every File.Key of the order.
func OrderBlobPrefix(tenant, id string) string { return "o/" + tenant + "/" + id + "/" }

// tenantBlobPrefix is the prefix of every OrderBlobPrefix of a tenant.
func tenantBlobPrefix(tenant string) string { return "o/" + tenant + "/" }

// Store is the sandbox's state. Every method is safe for concurrent use; tenant is an
// opaque digest of the bearer token (never the token itself).
type Store interface {
	// CreateOrder stores rec, unless rec.Tenant already has an order made with
	// rec.IdempotencyKey: then it stores nothing and returns that order and false.
	// Concurrent calls with one key create exactly one order.
	CreateOrder(ctx context.Context, rec order.Record) (order.Record, bool, error)
	// GetOrder returns the tenant's order id, or ErrNotFound.
	GetOrder(ctx context.Context, tenant, id string) (order.Record, error)
	// OrderExists reports whether any tenant has an order with this id (to answer
	// 403 ORDER_NOT_OWNER rather than 404).
	OrderExists(ctx context.Context, id string) (bool, error)
	// UpdateOrder applies fn to the tenant's order atomically: no other update of the
	// same order runs between the read fn sees and the write of its result. An error
	// from fn is returned as is and nothing is written. fn must not change the order's
	// ID, Tenant, IdempotencyKey or CreatedAt (the indexes hang on them), must not call
	// the store, and may be called more than once.
	UpdateOrder(ctx context.Context, tenant, id string, fn func(*order.Record) error) (order.Record, error)
	// UpdateOrderBlobs stores blobs (each replacing its key) and then applies fn as
	// UpdateOrder does, in one commit where the store can (on disk: one fsync, not one
	// per blob and one for the order): a reader that sees the update sees the blobs.
	// When the update fails the blobs may be kept or not; they are the order's (under
	// its OrderBlobPrefix) and go with it.
	UpdateOrderBlobs(ctx context.Context, tenant, id string, blobs []NamedBlob, fn func(*order.Record) error) (order.Record, error)
	// ListOrders returns the tenant's orders, newest first (CreatedAt, then id).
	ListOrders(ctx context.Context, tenant string) ([]order.Record, error)
	// PageOrders returns a page of the tenant's orders that keep accepts, newest first:
	// it skips the first offset of them and returns at most limit (all when limit < 0),
	// with how many keep accepts in all. keep may be nil (every order); it sees each
	// order read-only, must not retain it and must not call the store.
	PageOrders(ctx context.Context, tenant string, offset, limit int, keep func(*order.Record) bool) ([]order.Record, int, error)
	// Expire applies the passage of time to tenant's orders (to every tenant's when
	// tenant is ""), each tenant on its own clock: now plus its ClockOffset. Orders
	// created filesAfter or longer before that instant lose their blobs (their files
	// and everything under OrderBlobPrefix) but are kept; orders created forgetAfter
	// or longer before it are forgotten with their blobs and idempotency keys. It
	// returns how many orders it forgot. An order whose blobs were deleted is not
	// looked at again (unless a clock moved back more than filesAfter makes an order
	// that old), so a sweep costs what it finds to delete.
	Expire(ctx context.Context, tenant string, now time.Time, filesAfter, forgetAfter time.Duration) (int, error)

	// ClockOffset is the tenant's clock offset from the real clock (0 when never set).
	ClockOffset(ctx context.Context, tenant string) (time.Duration, error)
	SetClockOffset(ctx context.Context, tenant string, d time.Duration) error

	// Webhooks and their events (see Webhooks).
	Webhooks

	// Reset forgets the tenant's orders, keys, blobs, clock offset, webhooks and
	// events.
	Reset(ctx context.Context, tenant string) error

	// PutBlob streams r to the blob key (replacing it), refusing more than max bytes
	// with ErrTooLarge (and keeping nothing). It returns the size written.
	PutBlob(ctx context.Context, key string, r io.Reader, max int64) (int64, error)
	// OpenBlob opens the blob key for reading, or returns ErrNotFound.
	OpenBlob(ctx context.Context, key string) (Blob, error)
	// DeleteBlobs deletes every blob whose key starts with prefix.
	DeleteBlobs(ctx context.Context, prefix string) error

	// Close releases the store; a store that keeps state on disk flushes it.
	Close() error
}

// NamedBlob is a blob held in memory and the key it is stored under.
type NamedBlob struct {
	Key  string
	Data []byte
}

// putThenUpdate is UpdateOrderBlobs for a store without a commit that spans both:
// the blobs first, so that the update is never seen without them.
func putThenUpdate(ctx context.Context, s Store, tenant, id string, blobs []NamedBlob, fn func(*order.Record) error) (order.Record, error) {
	for _, b := range blobs {
		if _, err := s.PutBlob(ctx, b.Key, bytes.NewReader(b.Data), int64(len(b.Data))); err != nil {
			return order.Record{}, err
		}
	}
	return s.UpdateOrder(ctx, tenant, id, fn)
}

// Blob is an open blob.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}
