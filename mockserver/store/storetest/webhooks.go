package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/morimock/morimock/mockserver/store"
)

// webhookTests are the behaviours of store.Webhooks every store passes.
var webhookTests = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"WebhookCRUD", testWebhookCRUD},
	{"EventOncePerOrder", testEventOncePerOrder},
	{"EventListAndUpdate", testEventListAndUpdate},
	{"ClaimDueTenantClock", testClaimDueTenantClock},
	{"ClaimDueLease", testClaimDueLease},
	{"ClaimDueConcurrent", testClaimDueConcurrent},
	{"DeleteWebhookEvents", testDeleteWebhookEvents},
	{"ResetWebhooks", testResetWebhooks},
}

// Webhook returns a plausible webhook of tenant.
func Webhook(tenant, name string) store.Webhook {
	return store.Webhook{Tenant: tenant, Name: name, URL: "http://127.0.0.1:9/" + name, Secret: "whsec_" + name, CreatedAt: base, UpdatedAt: base}
}

// Event returns a plausible event of webhook w for orderID, due at next (nil: not due).
func Event(w store.Webhook, orderID string, next *time.Time) store.Event {
	return store.Event{
		Tenant: w.Tenant, WebhookID: w.ID, OrderID: orderID, EventID: "550e8400-e29b-41d4-a716-4466554400" + orderID,
		Origin: "http://127.0.0.1:8080", EventType: "order.antiAi.completed", Body: []byte(`{"orderId":"` + orderID + `"}`),
		Status: store.EventPending, CreatedAt: base, NextAt: next,
	}
}

func at(d time.Duration) *time.Time { t := base.Add(d); return &t }

func mustWebhook(t *testing.T, s store.Store, w store.Webhook) store.Webhook {
	t.Helper()
	got, err := s.CreateWebhook(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustEvent(t *testing.T, s store.Store, e store.Event) store.Event {
	t.Helper()
	got, created, err := s.AddEvent(context.Background(), e)
	if err != nil || !created {
		t.Fatalf("AddEvent = %v, %v; want created", created, err)
	}
	return got
}

func testWebhookCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustWebhook(t, s, Webhook("t", "a"))
	b := mustWebhook(t, s, Webhook("t", "b"))
	mustWebhook(t, s, Webhook("u", "c"))
	if a.ID <= 0 || b.ID <= a.ID {
		t.Fatalf("webhook IDs %d, %d; want positive and increasing", a.ID, b.ID)
	}
	if got, err := s.GetWebhook(ctx, "t", a.ID); err != nil || got.Name != "a" || got.Secret != "whsec_a" {
		t.Errorf("GetWebhook = %+v, %v", got, err)
	}
	if _, err := s.GetWebhook(ctx, "u", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetWebhook(other tenant) error = %v; want ErrNotFound", err)
	}
	list, err := s.ListWebhooks(ctx, "t")
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Errorf("ListWebhooks = %+v, %v; want a then b", list, err)
	}
	sent := base.Add(time.Minute)
	upd, err := s.UpdateWebhook(ctx, "t", a.ID, func(w *store.Webhook) error { w.URL = "http://x/"; w.LastSentAt = &sent; return nil })
	if err != nil || upd.URL != "http://x/" {
		t.Fatalf("UpdateWebhook = %+v, %v", upd, err)
	}
	if got, _ := s.GetWebhook(ctx, "t", a.ID); got.URL != "http://x/" || got.LastSentAt == nil || !got.LastSentAt.Equal(sent) {
		t.Errorf("after UpdateWebhook: %+v", got)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateWebhook(ctx, "t", a.ID, func(w *store.Webhook) error { w.URL = "lost"; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateWebhook(fn fails) error = %v; want fn's", err)
	}
	if err := s.DeleteWebhook(ctx, "u", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteWebhook(other tenant) = %v; want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, "t", a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebhook(ctx, "t", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetWebhook(deleted) = %v; want ErrNotFound", err)
	}
}

func testEventOncePerOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	first := mustEvent(t, s, Event(w, "1", at(time.Second)))
	again := Event(w, "1", nil)
	again.EventID = "another"
	got, created, err := s.AddEvent(ctx, again)
	if err != nil || created || got.ID != first.ID || got.EventID != first.EventID {
		t.Errorf("AddEvent(same order) = %+v, %v, %v; want the first, not created", got, created, err)
	}
	if _, _, err := s.AddEvent(ctx, Event(store.Webhook{ID: w.ID, Tenant: "u"}, "2", nil)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddEvent(other tenant's webhook) error = %v; want ErrNotFound", err)
	}
	// Concurrent adds for one order and webhook make one event.
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _, err := s.AddEvent(ctx, Event(w, "3", nil))
			if err != nil {
				t.Error(err)
			}
			ids[i] = e.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent AddEvent gave IDs %v; want one", ids)
		}
	}
}

func testEventListAndUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	other := mustWebhook(t, s, Webhook("t", "b"))
	e1 := mustEvent(t, s, Event(w, "1", nil))
	e2 := mustEvent(t, s, Event(w, "2", at(time.Second)))
	mustEvent(t, s, Event(other, "1", nil))
	list, err := s.ListEvents(ctx, "t", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]store.Event{e2, e1}, list); d != "" {
		t.Errorf("ListEvents mismatch (-want +got):\n%s", d)
	}
	if list, _ := s.ListEvents(ctx, "u", w.ID); len(list) != 0 {
		t.Errorf("ListEvents(other tenant) = %d events; want none", len(list))
	}
	sent := base.Add(2 * time.Second)
	upd, err := s.UpdateEvent(ctx, "t", e2.ID, func(e *store.Event) error {
		e.Status, e.Attempts, e.LastCode, e.LastSent, e.NextAt = store.EventSent, 1, 204, &sent, nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetEvent(ctx, "t", e2.ID); cmp.Diff(upd, got) != "" {
		t.Errorf("GetEvent after update mismatch (-want +got):\n%s", cmp.Diff(upd, got))
	}
	if _, err := s.UpdateEvent(ctx, "t", e2.ID, func(e *store.Event) error { e.OrderID = "9"; return nil }); err == nil {
		t.Error("UpdateEvent changed OrderID; want an error")
	}
	if _, err := s.GetEvent(ctx, "u", e2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent(other tenant) = %v; want ErrNotFound", err)
	}
	if _, ok, _ := s.NextDue(ctx); ok {
		t.Error("NextDue after the only due event was sent: found one; want none")
	}
}

// testClaimDueTenantClock: NextAt is read on the tenant's clock, so moving a tenant's
// clock makes its events due, and NextDue answers on the real clock.
func testClaimDueTenantClock(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	e := mustEvent(t, s, Event(w, "1", at(30*time.Minute)))
	if next, ok, err := s.NextDue(ctx); err != nil || !ok || !next.Equal(base.Add(30*time.Minute)) {
		t.Errorf("NextDue = %v, %v, %v; want base+30m", next, ok, err)
	}
	if got, _ := s.ClaimDue(ctx, "r1", base.Add(time.Minute), time.Minute, 10); len(got) != 0 {
		t.Fatalf("ClaimDue before due = %d events; want none", len(got))
	}
	if err := s.SetClockOffset(ctx, "t", 29*time.Minute); err != nil {
		t.Fatal(err)
	}
	if next, _, _ := s.NextDue(ctx); !next.Equal(base.Add(time.Minute)) {
		t.Errorf("NextDue with the tenant 29m ahead = %v; want base+1m", next)
	}
	got, err := s.ClaimDue(ctx, "r1", base.Add(time.Minute), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != e.ID || got[0].LeaseOwner != "r1" || !got[0].LeaseUntil.Equal(base.Add(2*time.Minute)) {
		t.Fatalf("ClaimDue at the tenant's due instant = %+v, %v; want the event leased to r1 until base+2m", got, err)
	}
}

// testClaimDueLease: a leased event goes to nobody else until the lease ends; the
// owner releases it with UpdateEvent; an event whose lease ran out is claimed again.
func testClaimDueLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	e1 := mustEvent(t, s, Event(w, "1", at(0)))
	e2 := mustEvent(t, s, Event(w, "2", at(-time.Second)))
	got, err := s.ClaimDue(ctx, "r1", base, 10*time.Second, 1)
	if err != nil || len(got) != 1 || got[0].ID != e2.ID {
		t.Fatalf("ClaimDue(limit 1) = %+v, %v; want the earliest due, event %d", got, err, e2.ID)
	}
	got, _ = s.ClaimDue(ctx, "r2", base, 10*time.Second, 10)
	if len(got) != 1 || got[0].ID != e1.ID {
		t.Fatalf("ClaimDue by r2 = %+v; want only event %d (the other is leased)", got, e1.ID)
	}
	if next, _, _ := s.NextDue(ctx); !next.Equal(base.Add(10 * time.Second)) {
		t.Errorf("NextDue with both leased = %v; want the lease end, base+10s", next)
	}
	// r1 writes its result under its lease: due again in 2s, lease cleared.
	release := func(owner string, id int64, next *time.Time) error {
		_, err := s.UpdateEvent(ctx, "t", id, func(e *store.Event) error {
			if e.LeaseOwner != owner {
				return store.ErrLeaseLost
			}
			e.LeaseOwner, e.LeaseUntil, e.NextAt, e.Attempts = "", time.Time{}, next, e.Attempts+1
			return nil
		})
		return err
	}
	if err := release("r1", e2.ID, at(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimDue(ctx, "r3", base.Add(time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("ClaimDue at base+1s = %+v; want none (e2 due at 2s, e1 leased)", got)
	}
	// r2's lease runs out: r3 takes e1, and r2's late write is refused.
	got, _ = s.ClaimDue(ctx, "r3", base.Add(11*time.Second), time.Minute, 10)
	if len(got) != 2 {
		t.Fatalf("ClaimDue after r2's lease ended = %d events; want both", len(got))
	}
	if err := release("r2", e1.ID, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("write under a lost lease = %v; want ErrLeaseLost", err)
	}
}

// testClaimDueConcurrent: owners claiming at once never share an event.
func testClaimDueConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	const n = 40
	for i := range n {
		mustEvent(t, s, Event(w, string(rune('A'+i)), at(0)))
	}
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for _, owner := range []string{"r1", "r2", "r3", "r4"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimDue(ctx, owner, base, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					if prev, dup := seen[e.ID]; dup {
						t.Errorf("event %d claimed by %s and %s", e.ID, prev, owner)
					}
					seen[e.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d events; want %d", len(seen), n)
	}
}

func testDeleteWebhookEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	e := mustEvent(t, s, Event(w, "1", at(0)))
	if err := s.DeleteWebhook(ctx, "t", w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetEvent(ctx, "t", e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent after its webhook was deleted = %v; want ErrNotFound", err)
	}
	if got, _ := s.ClaimDue(ctx, "r", base, time.Minute, 10); len(got) != 0 {
		t.Errorf("ClaimDue after the webhook was deleted = %d; want none", len(got))
	}
}

func testResetWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := mustWebhook(t, s, Webhook("t", "a"))
	mustEvent(t, s, Event(w, "1", at(0)))
	keep := mustWebhook(t, s, Webhook("u", "b"))
	if err := s.Reset(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListWebhooks(ctx, "t"); len(list) != 0 {
		t.Errorf("ListWebhooks after Reset = %d; want none", len(list))
	}
	if _, ok, _ := s.NextDue(ctx); ok {
		t.Error("NextDue after Reset found the reset tenant's event")
	}
	if _, err := s.GetWebhook(ctx, "u", keep.ID); err != nil {
		t.Errorf("Reset(t) lost tenant u's webhook: %v", err)
	}
}

// testReopenWebhooks: webhooks, events, their due instants and leases survive a reopen.
func testReopenWebhooks(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	w := mustWebhook(t, s, Webhook("t", "a"))
	e := mustEvent(t, s, Event(w, "1", at(30*time.Minute)))
	e.Status, e.Attempts, e.LastCode, e.LastError = store.EventRetrying, 4, 500, "500 Internal Server Error"
	if _, err := s.UpdateEvent(ctx, "t", e.ID, func(x *store.Event) error { *x = e; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	got, err := s.GetEvent(ctx, "t", e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, got); d != "" {
		t.Errorf("event after reopen mismatch (-want +got):\n%s", d)
	}
	if next, ok, _ := s.NextDue(ctx); !ok || !next.Equal(base.Add(30*time.Minute)) {
		t.Errorf("NextDue after reopen = %v, %v; want base+30m", next, ok)
	}
	w2 := mustWebhook(t, s, Webhook("t", "b"))
	if w2.ID <= e.ID {
		t.Errorf("webhook ID after reopen %d; want above every earlier ID (%d)", w2.ID, e.ID)
	}
}
