package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// TestMemoryForgetsIdleClocksBeyondTheBound: a tenant whose orders are all forgotten
// keeps its moved clock, its idempotency keys are gone, and it costs no buckets; once
// idleClocksMax other tenants have become clock-only since, it is forgotten (its clock
// is the real one again), unless it has a webhook or created an order meanwhile.
func TestMemoryForgetsIdleClocksBeyondTheBound(t *testing.T) {
	ctx := context.Background()
	m := newTestMemory(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	const moved = 40 * 24 * time.Hour
	// used: an order made, the clock moved past retention, the order forgotten.
	used := func(tenant string) {
		t.Helper()
		if _, _, err := m.CreateOrder(ctx, order.Record{ID: "id-" + tenant, Tenant: tenant, IdempotencyKey: "k", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := m.SetClockOffset(ctx, tenant, moved); err != nil {
			t.Fatal(err)
		}
		if n, err := m.Expire(ctx, tenant, now, 7*24*time.Hour, 30*24*time.Hour); err != nil || n != 1 {
			t.Fatalf("Expire(%s) = %d, %v; want the one order forgotten", tenant, n, err)
		}
	}
	offset := func(tenant string) time.Duration {
		t.Helper()
		d, err := m.ClockOffset(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	used("first")
	used("hooked")
	if _, err := m.CreateWebhook(ctx, Webhook{Tenant: "hooked", Name: "w", URL: "http://h.invalid/", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	used("back")
	if offset("first") != moved {
		t.Fatalf("an idle tenant's clock: offset %v; want %v kept", offset("first"), moved)
	}
	m.mu.RLock()
	first := m.tenants["first"]
	m.mu.RUnlock()
	if first.keys != nil || first.list != nil {
		t.Errorf("an idle tenant holds its emptied map and list (%v, %v); want both given back", first.keys, first.list)
	}
	// "back" comes back: an order with its old idempotency key is a new order, and it
	// is no longer idle.
	if _, created, err := m.CreateOrder(ctx, order.Record{ID: "again-back", Tenant: "back", IdempotencyKey: "k", CreatedAt: now.Add(moved)}); err != nil || !created {
		t.Fatalf("CreateOrder after the idle time = created %v, %v; want a new order", created, err)
	}
	for i := range idleClocksMax {
		if err := m.SetClockOffset(ctx, fmt.Sprintf("other-%d", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got := offset("first"); got != 0 {
		t.Errorf("after %d other idle clocks, the first one's offset is %v; want it forgotten (0)", idleClocksMax, got)
	}
	if got := offset("hooked"); got != moved {
		t.Errorf("a tenant with a webhook: offset %v; want %v kept", got, moved)
	}
	if got := offset("back"); got != moved {
		t.Errorf("a tenant that created an order after becoming idle: offset %v; want %v kept", got, moved)
	}
	if got := offset(fmt.Sprintf("other-%d", idleClocksMax-1)); got != time.Hour {
		t.Errorf("the newest idle clock: offset %v; want 1h", got)
	}
	m.mu.RLock()
	n, queued := len(m.tenants), len(m.idle.queue)-m.idle.head
	m.mu.RUnlock()
	if n > idleClocksMax+3 || queued > idleClocksMax {
		t.Errorf("%d tenants and %d queued idle clocks; want at most %d + the 3 kept, and %d", n, queued, idleClocksMax, idleClocksMax)
	}
}
