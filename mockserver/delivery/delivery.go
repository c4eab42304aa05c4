// Package delivery sends the sandbox's webhook events: it keeps no timer per event,
// but asks the store for the earliest due instant (an order's end or a retry, each on
// its tenant's clock) and sleeps until then or until woken, because a tenant moved
// its clock or an order changed. Each attempt is leased in the store, so with several
// replicas exactly one makes it.
//
// The attempts in flight are shared fairly between tenants: due events are claimed
// into a queue per tenant, and a free slot goes to the waiting tenant with the fewest
// attempts in flight. One tenant's slow receivers can then hold every slot only while
// no other tenant has an event waiting, and another tenant's event waits at most for
// one attempt to end (Timeout), not for the first tenant's whole backlog.
package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/webhook"
)

// Defaults of Config.
const (
	DefaultTimeout     = 5 * time.Second // the vendor's: a 2xx within 5 s
	DefaultMaxInFlight = 16
	// MaxAnswer is how much of a receiver's answer is read: enough to report, never
	// a receiver's whole stream.
	MaxAnswer = 4 << 10
	// MaxRetryFailed is the most events one retry-failed call resends.
	MaxRetryFailed = 50
	// claimBatch is how many due events one ClaimDue call leases.
	claimBatch = 64
)

// Schedule is the wait before each retry after a failed attempt: three quick ones,
// then three from the vendor's scheduler; the seventh failure ends in FAILED. The
// waits run on the tenant's clock, so moving it fires them.
var Schedule = [...]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 30 * time.Minute, 2 * time.Hour, 4 * time.Hour}

// ManualRequeue is when a failed manual retry is tried once more (the guide).
const ManualRequeue = 30 * time.Minute

// Occurrence is what Config.Occur says of a Scheduled event whose instant came.
type Occurrence struct {
	Drop      bool       // the order is gone: the event will never occur
	Later     *time.Time // the order has not ended yet: look again then (tenant clock)
	EventType string
	Body      []byte
	At        time.Time // when the order ended (tenant clock)
}

// Config configures a Deliverer. Store and Occur are required.
type Config struct {
	Store store.Store
	// Occur turns a Scheduled event whose NextAt came into its body, at the
	// tenant's now; it is the sandbox's (the body's URLs and fields are its).
	Occur func(ctx context.Context, e store.Event, now time.Time) (Occurrence, error)
	// Now is the real clock; nil is time.Now. AfterFunc waits on the same clock;
	// nil is time.AfterFunc. Tests pass a fake pair.
	Now       func() time.Time
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Timeout is how long a receiver has to answer (DefaultTimeout when 0).
	Timeout     time.Duration
	MaxInFlight int // attempts at once (DefaultMaxInFlight when 0)
	// MaxQueued bounds the claimed events waiting for a slot, per tenant (4 x
	// MaxInFlight when 0). A tenant's due events beyond it stay leased, unsent,
	// until their lease runs out and they are claimed again: the price of a backlog
	// larger than its receivers can take, paid by that tenant alone.
	MaxQueued int
	// Lease is how long an event claimed for an attempt is held against every other
	// owner; 0 is Timeout plus 25 s. It must outlive the longest attempt: it runs out
	// only when its owner died, and then another owner attempts the event.
	Lease time.Duration
	// Poll, when > 0, bounds how long the loop sleeps without looking at the store.
	// With a store several replicas share, another replica adds events, moves clocks
	// and dies holding leases without waking this one; polling finds those events.
	Poll      time.Duration
	UserAgent string // sent on every delivery
	Log       *slog.Logger
	// Transport sends the deliveries; nil is a transport that ignores proxy
	// settings (a receiver is reached directly).
	Transport http.RoundTripper
}

// Deliverer runs the delivery loop and the manual retries.
type Deliverer struct {
	cfg    Config
	owner  string
	lease  time.Duration
	client *http.Client
	wake   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	running  int                 // attempts in flight
	tenants  map[string]*tenantQ // tenants with events queued or in flight
	held     map[int64]*hold     // the events queued or in flight
	lastPick uint64              // turn counter: ties go to the tenant served longest ago
}

// tenantQ is one tenant's share of the Deliverer: its claimed events waiting for a
// slot (oldest due first) and its attempts in flight.
type tenantQ struct {
	queue   []store.Event
	running int
	served  uint64 // lastPick when it last got a slot
}

// hold is what the Deliverer knows of an event it holds.
type hold struct {
	flying bool // its attempt runs
	// again is the event as ClaimDue leased it anew while its attempt ran: the attempt
	// had released the lease with the event due at once (an end learned meanwhile, a
	// retry the tenant's clock made due) before it gave back its slot. It is queued
	// when the attempt ends; skipped, it would wait for that lease to run out (30 s).
	again *store.Event
}

// New returns a Deliverer; Run starts it.
func New(cfg Config) *Deliverer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 4 * cfg.MaxInFlight
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		t.MaxIdleConnsPerHost = cfg.MaxInFlight
		tr = t
	}
	if cfg.Lease <= 0 {
		cfg.Lease = cfg.Timeout + 25*time.Second
	}
	var id [8]byte
	rand.Read(id[:])
	return &Deliverer{
		cfg:   cfg,
		owner: hex.EncodeToString(id[:]),
		lease: cfg.Lease,
		client: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// A redirect is an answer, not a 2xx: the delivery failed. Following it
			// would send the body where the tenant did not register.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		wake:    make(chan struct{}, 1),
		tenants: map[string]*tenantQ{},
		held:    map[int64]*hold{},
	}
}

// Wake makes the loop look at the store again at once: call it when a tenant's clock
// moved, an event was added or an order changed. It never blocks.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight (each ends
// within Timeout) and returns.
func (d *Deliverer) Run(ctx context.Context) {
	defer d.wg.Wait()
	stop := func() bool { return false }
	defer func() { stop() }()
	for {
		claimed, err := d.claim(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Log.Error("webhook deliveries: claim", "err", err)
		}
		stop()
		stop = func() bool { return false }
		next, ok, err := d.cfg.Store.NextDue(ctx)
		switch {
		case err == nil && ok:
			wait := next.Sub(d.cfg.Now())
			switch {
			case wait > 0:
				if d.cfg.Poll > 0 {
					wait = min(wait, d.cfg.Poll)
				}
				stop = d.cfg.AfterFunc(wait, d.Wake)
			case d.free() > 0 && (claimed > 0 || ctx.Err() == nil):
				continue // due already (the clock moved meanwhile), or more at once
			}
			// Due but every slot busy: an attempt's end wakes the loop.
		case d.cfg.Poll > 0:
			stop = d.cfg.AfterFunc(d.cfg.Poll, d.Wake) // nothing due, or the store is away
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		}
	}
}

// free is the number of slots no attempt holds.
func (d *Deliverer) free() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.MaxInFlight - d.running
}

// claim leases the due events into the tenants' queues, then starts attempts while
// slots are free. It returns how many events it took.
func (d *Deliverer) claim(ctx context.Context) (int, error) {
	took, err := d.fill(ctx)
	d.start(ctx)
	return took, err
}

// fill leases every due event it can queue. Events of a tenant whose queue is full
// keep the lease ClaimDue gave them, so the next ClaimDue reaches past them to the
// other tenants' events; they come back when that lease runs out.
func (d *Deliverer) fill(ctx context.Context) (int, error) {
	took := 0
	for {
		evs, err := d.cfg.Store.ClaimDue(ctx, d.owner, d.cfg.Now(), d.lease, claimBatch)
		if err != nil {
			return took, err
		}
		d.mu.Lock()
		for _, e := range evs {
			if h := d.held[e.ID]; h != nil {
				if h.flying {
					h.again = &e
				}
				continue // queued already (ClaimDue renewed its lease), or queued again by done
			}
			t := d.tenants[e.Tenant]
			if t == nil {
				t = &tenantQ{}
				d.tenants[e.Tenant] = t
			}
			if len(t.queue) >= d.cfg.MaxQueued {
				continue
			}
			t.queue = append(t.queue, e)
			d.held[e.ID] = &hold{}
			took++
		}
		d.mu.Unlock()
		if len(evs) < claimBatch {
			return took, nil
		}
	}
}

// next takes a slot for the queued event of the tenant with the fewest attempts in
// flight (ties: the one served longest ago); false when no slot is free or nothing
// waits.
func (d *Deliverer) next() (store.Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running >= d.cfg.MaxInFlight {
		return store.Event{}, false
	}
	var pick *tenantQ
	for _, t := range d.tenants {
		if len(t.queue) > 0 && (pick == nil || t.running < pick.running || t.running == pick.running && t.served < pick.served) {
			pick = t
		}
	}
	if pick == nil {
		return store.Event{}, false
	}
	e := pick.queue[0]
	pick.queue = pick.queue[1:]
	pick.running++
	d.lastPick++
	pick.served = d.lastPick
	d.running++
	d.held[e.ID].flying = true
	return e, true
}

// done gives back the slot of e's attempt (or of e, dropped before it), and queues e
// again when it was claimed anew meanwhile (see hold.again).
func (d *Deliverer) done(e store.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running--
	t := d.tenants[e.Tenant]
	t.running--
	if h := d.held[e.ID]; h != nil && h.again != nil {
		t.queue = append(t.queue, *h.again)
		*h = hold{} // queued, no longer flying
	} else {
		delete(d.held, e.ID)
	}
	if t.running == 0 && len(t.queue) == 0 {
		delete(d.tenants, e.Tenant)
	}
}

// start begins an attempt for queued events while slots are free.
func (d *Deliverer) start(ctx context.Context) {
	for {
		e, ok := d.next()
		if !ok {
			return
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() { d.done(e); d.Wake() }()
			// Detached from Run's ctx: an attempt started ends and records its
			// result, within Timeout, even while the server stops.
			switch err := d.attempt(context.WithoutCancel(ctx), e); {
			case errors.Is(err, store.ErrNotFound):
				// The webhook, or the key's state, was deleted while the attempt ran:
				// nothing is left to record it on, and nothing went wrong.
				d.cfg.Log.Info("webhook delivery ended: its webhook was deleted meanwhile", "event", e.EventID)
			case err != nil:
				d.cfg.Log.Error("webhook delivery", "event", e.EventID, "err", err)
			}
		}()
	}
}

// attempt renews the lease of an event that waited in its queue, so that it
// outlives the attempt, then makes the attempt. An event whose lease another owner
// took meanwhile (or whose webhook went) is left alone.
func (d *Deliverer) attempt(ctx context.Context, e store.Event) error {
	if now := d.cfg.Now(); e.LeaseUntil.Sub(now) < d.cfg.Timeout+5*time.Second {
		var err error
		e, err = d.cfg.Store.UpdateEvent(ctx, e.Tenant, e.ID, func(x *store.Event) error {
			if x.LeaseOwner != d.owner || x.NextAt == nil {
				return store.ErrLeaseLost
			}
			x.LeaseUntil = now.Add(d.lease)
			return nil
		})
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return d.handle(ctx, e)
}

// tenantNow is the tenant's clock.
func (d *Deliverer) tenantNow(ctx context.Context, tenant string) (time.Time, error) {
	off, err := d.cfg.Store.ClockOffset(ctx, tenant)
	if err != nil {
		return time.Time{}, err
	}
	return d.cfg.Now().Add(off).UTC(), nil
}

// mine is the check every write under a lease makes.
func (d *Deliverer) mine(e *store.Event) error {
	if e.LeaseOwner != d.owner {
		return store.ErrLeaseLost
	}
	return nil
}

// handle makes one attempt of a claimed event (first turning a Scheduled one into
// its body) and records the result, releasing the lease.
func (d *Deliverer) handle(ctx context.Context, e store.Event) error {
	now, err := d.tenantNow(ctx, e.Tenant)
	if err != nil {
		return err
	}
	if e.Status == store.EventScheduled {
		oc, err := d.cfg.Occur(ctx, e, now)
		if err != nil {
			return err
		}
		e, err = d.cfg.Store.UpdateEvent(ctx, e.Tenant, e.ID, func(x *store.Event) error {
			if err := d.mine(x); err != nil {
				return err
			}
			switch {
			case oc.Drop:
				x.NextAt, x.LeaseOwner, x.LeaseUntil = nil, "", time.Time{}
			case oc.Later != nil:
				later := oc.Later
				if x.NextAt != nil && (e.NextAt == nil || !x.NextAt.Equal(*e.NextAt)) && x.NextAt.Before(*later) {
					later = x.NextAt // moved earlier while leased: the order's end became known
				}
				x.NextAt, x.LeaseOwner, x.LeaseUntil = later, "", time.Time{}
			default:
				x.Status, x.EventType, x.Body, x.CreatedAt = store.EventPending, oc.EventType, oc.Body, oc.At
			}
			return nil
		})
		if err != nil || e.Status == store.EventScheduled {
			return err
		}
	}
	w, err := d.cfg.Store.GetWebhook(ctx, e.Tenant, e.WebhookID)
	if err != nil {
		return err // deleted meanwhile: its events went with it
	}
	res := d.Send(ctx, w.URL, w.Secret, e.Body)
	return d.record(ctx, e, res, false)
}

// record writes an attempt's result under the caller's lease.
func (d *Deliverer) record(ctx context.Context, e store.Event, res Result, manual bool) error {
	now, err := d.tenantNow(ctx, e.Tenant)
	if err != nil {
		return err
	}
	upd, err := d.cfg.Store.UpdateEvent(ctx, e.Tenant, e.ID, func(x *store.Event) error {
		if err := d.mine(x); err != nil {
			return err
		}
		x.Attempts++
		x.LastSent, x.LastCode, x.LastError = &now, res.StatusCode, res.Error
		x.LeaseOwner, x.LeaseUntil, x.NextAt = "", time.Time{}, nil
		switch {
		case res.OK:
			x.Status, x.Manual = store.EventSent, false
		case manual:
			next := now.Add(ManualRequeue)
			x.Status, x.Manual, x.NextAt = store.EventRetrying, true, &next
		case x.Manual || x.Attempts > len(Schedule):
			x.Status, x.Manual = store.EventFailed, false
		default:
			next := now.Add(Schedule[x.Attempts-1])
			x.Status, x.NextAt = store.EventRetrying, &next
		}
		return nil
	})
	if err != nil {
		return err
	}
	if upd.NextAt != nil {
		d.Wake()
	}
	_, err = d.cfg.Store.UpdateWebhook(ctx, e.Tenant, e.WebhookID, func(w *store.Webhook) error {
		w.LastSentAt = &now
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return err
}

// Result is what one attempt got.
type Result struct {
	OK         bool   // a 2xx within the timeout
	StatusCode int    // the receiver's status; 0 when none came
	Error      string // why it failed, for the event log; "" when OK
}

// Send POSTs body, signed with secret, to url once. Nothing else of the tenant's
// (no API key) is sent.
func (d *Deliverer) Send(ctx context.Context, url, secret string, body []byte) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return Result{Error: "bad webhook URL: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, body))
	if d.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", d.cfg.UserAgent)
	}
	res, err := d.client.Do(req)
	if err != nil {
		return Result{Error: "no answer: " + clip(err.Error())}
	}
	defer res.Body.Close()
	_, rerr := io.Copy(io.Discard, io.LimitReader(res.Body, MaxAnswer))
	switch {
	case res.StatusCode < 200 || res.StatusCode > 299:
		return Result{StatusCode: res.StatusCode, Error: fmt.Sprintf("answered %s", res.Status)}
	case rerr != nil && !errors.Is(rerr, io.EOF):
		return Result{StatusCode: res.StatusCode, Error: "answer cut short: " + clip(rerr.Error())}
	}
	return Result{OK: true, StatusCode: res.StatusCode}
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// ErrNotRetryable is returned by Retry for an event that is not FAILED (or is being
// sent right now).
var ErrNotRetryable = errors.New("only a FAILED event can be retried")

// Retry sends a FAILED event once more, now, and records the result: SENT, or
// RETRYING with one more try 30 minutes later (the guide).
func (d *Deliverer) Retry(ctx context.Context, tenant string, id int64) (store.Event, Result, error) {
	leased, err := d.cfg.Store.UpdateEvent(ctx, tenant, id, func(x *store.Event) error {
		if x.Status != store.EventFailed || x.LeaseUntil.After(d.cfg.Now()) {
			return ErrNotRetryable
		}
		x.LeaseOwner, x.LeaseUntil = d.owner, d.cfg.Now().Add(d.lease)
		return nil
	})
	if err != nil {
		return store.Event{}, Result{}, err
	}
	w, err := d.cfg.Store.GetWebhook(ctx, tenant, leased.WebhookID)
	if err != nil {
		return store.Event{}, Result{}, err
	}
	res := d.Send(ctx, w.URL, w.Secret, leased.Body)
	if err := d.record(ctx, leased, res, true); err != nil {
		return store.Event{}, Result{}, err
	}
	e, err := d.cfg.Store.GetEvent(ctx, tenant, id)
	return e, res, err
}

// RetryFailed resends, a few at a time, the FAILED events of a webhook among events
// (oldest first, at most MaxRetryFailed) and counts the outcomes.
func (d *Deliverer) RetryFailed(ctx context.Context, tenant string, events []store.Event) (succeeded, failed int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, e := range events {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, res, err := d.Retry(ctx, tenant, e.ID)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && res.OK {
				succeeded++
			} else {
				failed++
			}
		}()
	}
	wg.Wait()
	return succeeded, failed
}
