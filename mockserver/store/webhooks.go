package store

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is returned by an update that needs a lease the caller no longer holds
// (it ran out and another owner claimed the event).
var ErrLeaseLost = errors.New("lease lost")

// Webhook is a tenant's registered webhook. Secret is kept so the sandbox can sign;
// the API shows it once, at create.
type Webhook struct {
	ID         int64
	Tenant     string
	Name       string
	URL        string
	Secret     string
	Test       bool // registered with a test key (isTest)
	Legacy     bool // the deprecated single webhook of POST /api/v2/orders/webhook
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastSentAt *time.Time
}

// EventStatus is where a delivery event stands.
type EventStatus string

// Event statuses: the vendor's four, and Scheduled for an event whose order has not
// ended yet (the API does not show it).
const (
	EventScheduled EventStatus = "SCHEDULED"
	EventPending   EventStatus = "PENDING"
	EventSent      EventStatus = "SENT"
	EventRetrying  EventStatus = "RETRYING"
	EventFailed    EventStatus = "FAILED"
)

// Event is one order's event for one webhook, and its delivery. Instants named
// "tenant clock" are read on the tenant's clock (the real clock plus its offset);
// LeaseUntil is on the real clock, shared by every replica.
type Event struct {
	ID        int64 // unique in the store, > 0; the events endpoint's id
	Tenant    string
	WebhookID int64
	OrderID   string
	EventID   string // a UUID, the same on every attempt
	Origin    string // the sandbox's base URL, for URLs in the body
	EventType string // order.<type>.completed|failed, once it occurred
	Body      []byte // the exact bytes every attempt sends, once it occurred
	Status    EventStatus
	Attempts  int
	Manual    bool // a manual retry failed: the next failure ends in FAILED
	LastCode  int  // HTTP status of the last attempt, 0 when none came
	LastError string
	CreatedAt time.Time  // tenant clock: when scheduled, then when the order ended
	LastSent  *time.Time // tenant clock: the last attempt
	// NextAt is when the event is next due (tenant clock): its order's end while
	// Scheduled, then the next attempt; nil when nothing is due.
	NextAt *time.Time
	// LeaseOwner holds the event until LeaseUntil (real clock): ClaimDue sets both,
	// and the owner clears them when it writes the attempt's result.
	LeaseOwner string
	LeaseUntil time.Time
}

// Webhooks is the part of Store that keeps webhooks and their events.
//
// Leases make exactly one owner (a replica) attempt each due event: ClaimDue hands an
// event to one caller until its lease runs out, and the caller writes the result with
// UpdateEvent, checking in fn that it still holds the lease (else ErrLeaseLost).
type Webhooks interface {
	// CreateWebhook stores w with a new ID (unique in the store, > 0) and returns it.
	CreateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// GetWebhook returns the tenant's webhook id, or ErrNotFound.
	GetWebhook(ctx context.Context, tenant string, id int64) (Webhook, error)
	// ListWebhooks returns the tenant's webhooks, oldest (lowest ID) first.
	ListWebhooks(ctx context.Context, tenant string) ([]Webhook, error)
	// UpdateWebhook applies fn atomically, as UpdateOrder does; fn must not change
	// ID or Tenant.
	UpdateWebhook(ctx context.Context, tenant string, id int64, fn func(*Webhook) error) (Webhook, error)
	// DeleteWebhook forgets the tenant's webhook id and all its events, or returns
	// ErrNotFound.
	DeleteWebhook(ctx context.Context, tenant string, id int64) error

	// AddEvent stores e with a new ID, unless the webhook already has an event for
	// e.OrderID (an order ends once): then it returns that one and false. The
	// webhook must exist (else ErrNotFound).
	AddEvent(ctx context.Context, e Event) (Event, bool, error)
	// GetEvent returns the tenant's event id, or ErrNotFound.
	GetEvent(ctx context.Context, tenant string, id int64) (Event, error)
	// ListEvents returns the events of the tenant's webhook, newest (highest ID) first.
	ListEvents(ctx context.Context, tenant string, webhookID int64) ([]Event, error)
	// UpdateEvent applies fn atomically; fn must not change ID, Tenant, WebhookID or
	// OrderID, must not call the store, and may be called more than once.
	UpdateEvent(ctx context.Context, tenant string, id int64, fn func(*Event) error) (Event, error)
	// ClaimDue leases to owner, until now+leaseFor, at most limit events that are due
	// at now: NextAt set and not after now plus the tenant's clock offset, and no
	// lease running at now. The earliest due come first. An event is handed to one
	// caller at a time, however many call at once.
	ClaimDue(ctx context.Context, owner string, now time.Time, leaseFor time.Duration, limit int) ([]Event, error)
	// NextDue returns the earliest real-clock instant at which ClaimDue would hand
	// out an event (its NextAt less the tenant's offset, or its running lease's end
	// when later), and false when no event has a NextAt.
	NextDue(ctx context.Context) (time.Time, bool, error)
}

// due reports whether e is due at now for a tenant with offset off.
func due(e *Event, now time.Time, off time.Duration) bool {
	return e.NextAt != nil && !e.NextAt.After(now.Add(off)) && !e.LeaseUntil.After(now)
}

// dueAt is the real-clock instant e becomes claimable (see NextDue).
func dueAt(e *Event, off time.Duration) time.Time {
	at := e.NextAt.Add(-off)
	if e.LeaseUntil.After(at) {
		at = e.LeaseUntil
	}
	return at
}

func cloneWebhook(w Webhook) Webhook {
	if w.LastSentAt != nil {
		t := *w.LastSentAt
		w.LastSentAt = &t
	}
	return w
}

func cloneEvent(e Event) Event {
	e.Body = append([]byte(nil), e.Body...)
	if e.Body != nil && len(e.Body) == 0 {
		e.Body = nil
	}
	if e.LastSent != nil {
		t := *e.LastSent
		e.LastSent = &t
	}
	if e.NextAt != nil {
		t := *e.NextAt
		e.NextAt = &t
	}
	return e
}

func checkEventUpdate(old, upd *Event) error {
	if old.ID != upd.ID || old.Tenant != upd.Tenant || old.WebhookID != upd.WebhookID || old.OrderID != upd.OrderID {
		return errors.New("update event: id, tenant, webhook and order cannot change")
	}
	return nil
}
