package delivery

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/store"
)

// call is one delivery the fake receiver holds until the test answers it.
type call struct {
	url    string
	answer chan struct{}
}

// heldTransport hands every request to the test and answers 200 when told (or when
// the request is abandoned): a receiver that hangs until the test lets it go.
type heldTransport chan call

func (h heldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := call{url: req.URL.String(), answer: make(chan struct{})}
	select {
	case h <- c:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	select {
	case <-c.answer:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
}

// addDue registers a webhook at url for tenant with one event due at at.
func addDue(t *testing.T, st store.Store, tenant, url string, at time.Time) {
	t.Helper()
	ctx := t.Context()
	w, err := st.CreateWebhook(ctx, store.Webhook{Tenant: tenant, Name: url, URL: url, Secret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddEvent(ctx, store.Event{Tenant: tenant, WebhookID: w.ID, OrderID: "o-" + url, EventID: url, Status: store.EventPending, Body: []byte(`{}`), NextAt: &at}); err != nil {
		t.Fatal(err)
	}
}

// TestFairShareBetweenTenants: one tenant whose receivers hang holds every slot
// while it is alone, but when another tenant's event comes due, the next slot that
// frees goes to it, although the first tenant's events came due earlier (review2 #4:
// 300 hanging webhooks delayed another tenant's delivery by about 80 s).
func TestFairShareBetweenTenants(t *testing.T) {
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		addDue(t, st, "hog", fmt.Sprintf("http://hog.invalid/%d", i), now.Add(-time.Minute))
	}
	calls := make(heldTransport)
	d := New(Config{
		Store:       st,
		Occur:       func(context.Context, store.Event, time.Time) (Occurrence, error) { return Occurrence{Drop: true}, nil },
		Now:         func() time.Time { return now },
		AfterFunc:   func(time.Duration, func()) func() bool { return func() bool { return false } },
		MaxInFlight: 4,
		Transport:   calls,
	})
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() { defer close(ran); d.Run(ctx) }()
	var held []call
	defer func() {
		cancel()
		for _, c := range held {
			close(c.answer)
		}
		// A slot freed above may start one more attempt before Run sees the cancel:
		// answer those too, or each waits out its timeout (5 s).
		for {
			select {
			case c := <-calls:
				close(c.answer)
			case <-ran:
				return
			}
		}
	}()
	// Alone, the hog may use every slot.
	for range 4 {
		c := <-calls
		if !strings.HasPrefix(c.url, "http://hog.invalid/") {
			t.Fatalf("delivery to %s; want the hog's", c.url)
		}
		held = append(held, c)
	}
	addDue(t, st, "victim", "http://victim.invalid/1", now)
	d.Wake()
	// The next slot that frees is the victim's, ahead of the hog's six waiting events.
	close(held[0].answer)
	held = held[1:]
	c := <-calls
	held = append(held, c)
	if c.url != "http://victim.invalid/1" {
		t.Errorf("after one of the hog's attempts ended, the next delivery went to %s; want the victim's", c.url)
	}
}

// TestLaterKeepsAnEndLearnedMeanwhile: when the order's end becomes known while the
// deliverer holds an event (the outputs were stored as it looked), the event is looked
// at again at that end, not at the later instant the deliverer chose without it.
func TestLaterKeepsAnEndLearnedMeanwhile(t *testing.T) {
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w, err := st.CreateWebhook(t.Context(), store.Webhook{Tenant: "t", Name: "w", URL: "http://t.invalid/1", Secret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	due := now.Add(-time.Minute) // the order's earliest end, before its outputs exist
	if _, _, err := st.AddEvent(t.Context(), store.Event{Tenant: "t", WebhookID: w.ID, OrderID: "o-1", EventID: "e-1", Status: store.EventScheduled, CreatedAt: due, NextAt: &due}); err != nil {
		t.Fatal(err)
	}
	d := New(Config{
		Store: st,
		Occur: func(ctx context.Context, e store.Event, at time.Time) (Occurrence, error) {
			// What orderEnded does meanwhile: the end is now.
			if _, err := st.UpdateEvent(ctx, e.Tenant, e.ID, func(x *store.Event) error { n := now; x.NextAt = &n; return nil }); err != nil {
				return Occurrence{}, err
			}
			later := at.Add(time.Hour)
			return Occurrence{Later: &later}, nil
		},
		Now:       func() time.Time { return now },
		AfterFunc: func(time.Duration, func()) func() bool { return func() bool { return false } },
		Transport: make(heldTransport),
	})
	evs, err := st.ClaimDue(t.Context(), d.owner, now, time.Minute, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("ClaimDue = %d events, %v; want 1", len(evs), err)
	}
	if err := d.handle(t.Context(), evs[0]); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetEvent(t.Context(), "t", evs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.NextAt == nil || !got.NextAt.Equal(now) || got.LeaseOwner != "" {
		t.Errorf("event after the attempt: next %v, lease %q; want next %v and no lease", got.NextAt, got.LeaseOwner, now)
	}
}

// TestEventDueAgainDuringItsAttemptIsQueued: an attempt that releases its event's lease
// with the event due at once (an order's end learned meanwhile, a retry the tenant's
// clock made due) may see the loop lease the event anew before the attempt gives back
// its slot. That event is queued when the attempt ends, not left leased and unsent
// until the lease runs out.
func TestEventDueAgainDuringItsAttemptIsQueued(t *testing.T) {
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	d := New(Config{
		Store:     st,
		Occur:     func(context.Context, store.Event, time.Time) (Occurrence, error) { return Occurrence{Drop: true}, nil },
		Now:       func() time.Time { return now },
		AfterFunc: func(time.Duration, func()) func() bool { return func() bool { return false } },
		Transport: make(heldTransport),
	})
	addDue(t, st, "t", "http://t.invalid/1", now.Add(-time.Second))
	if n, err := d.fill(t.Context()); err != nil || n != 1 {
		t.Fatalf("fill = %d, %v; want the due event", n, err)
	}
	e, ok := d.next()
	if !ok {
		t.Fatal("next: no event")
	}
	// What the attempt writes before it ends: the lease released, the event due now.
	if _, err := st.UpdateEvent(t.Context(), e.Tenant, e.ID, func(x *store.Event) error {
		n := now
		x.NextAt, x.LeaseOwner, x.LeaseUntil = &n, "", time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.fill(t.Context()); err != nil { // the loop, woken meanwhile
		t.Fatal(err)
	}
	if got, _ := st.GetEvent(t.Context(), e.Tenant, e.ID); got.LeaseOwner != d.owner {
		t.Fatalf("the loop did not lease the event anew (owner %q); the test does not reach the case", got.LeaseOwner)
	}
	d.done(e)
	again, ok := d.next()
	if !ok || again.ID != e.ID {
		t.Fatalf("after the attempt: next = %v, %v; want event %d queued again at once", again.ID, ok, e.ID)
	}
	d.done(again)
	if len(d.held) != 0 || len(d.tenants) != 0 {
		t.Errorf("after both attempts the deliverer holds %d events of %d tenants; want none", len(d.held), len(d.tenants))
	}
}
