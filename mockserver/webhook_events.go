package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/morimock/morimock/mockserver/delivery"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// awaitedEnd returns the earliest instant a started order whose outputs are not made
// yet can end (its end is only known once they are), and false for any other order.
func awaitedEnd(rec *order.Record) (time.Time, bool) {
	if rec.StartedAt == nil || !rec.AwaitsOutputs || rec.OutputsAt != nil {
		return time.Time{}, false
	}
	at := rec.StartedAt.Add(rec.ProcessFor)
	if !at.Before(order.ExpiresAt(rec.CreatedAt)) {
		return time.Time{}, false
	}
	return at, true
}

// endOf returns the transition that ends an order's work (complete or failed), and
// false when the order expires first or has not started. order decides it.
func endOf(rec *order.Record) (order.Transition, bool) {
	for _, t := range rec.Transitions(rec.CreatedAt.Add(order.ExpiresAfter)) {
		if t.Status == order.Complete || t.Status == order.Failed {
			return t, true
		}
	}
	return order.Transition{}, false
}

// orderChanged schedules, for each webhook of the order's tenant, the event of the
// order's end, and wakes the deliverer. It runs after the order's change is stored;
// a failure here is logged, never turned into a failed answer about the order.
func (s *Server) orderChanged(ctx context.Context, sb *sandbox, origin string, rec order.Record) {
	end, ok := endOf(&rec)
	if !ok {
		if end.At, ok = awaitedEnd(&rec); !ok {
			return
		}
	}
	hooks, err := sb.store.ListWebhooks(ctx, rec.Tenant)
	if err != nil {
		s.log.Error("webhooks: list", "err", err)
		return
	}
	for _, w := range hooks {
		if err := s.schedule(ctx, sb, w, origin, rec.ID, end.At); err != nil {
			s.log.Error("webhooks: schedule", "order", rec.ID, "err", err)
		}
	}
	if len(hooks) > 0 {
		sb.deliverer.Wake()
	}
}

// orderEnded moves the scheduled events of an order whose end became known after
// they were scheduled (its outputs were made) to that end, and wakes the deliverer.
func (s *Server) orderEnded(ctx context.Context, sb *sandbox, rec order.Record) {
	end, ok := endOf(&rec)
	if !ok || sb.deliverer == nil {
		return
	}
	hooks, err := sb.store.ListWebhooks(ctx, rec.Tenant)
	if err != nil {
		s.log.Error("webhooks: list", "err", err)
		return
	}
	for _, w := range hooks {
		events, err := sb.store.ListEvents(ctx, rec.Tenant, w.ID)
		if err != nil {
			s.log.Error("webhooks: list events", "err", err)
			continue
		}
		for _, e := range events {
			if e.OrderID != rec.ID || e.Status != store.EventScheduled {
				continue
			}
			_, err = sb.store.UpdateEvent(ctx, rec.Tenant, e.ID, func(x *store.Event) error {
				// Leased too: a deliverer that found the outputs missing puts the event
				// off, but keeps this earlier instant (delivery's handle), so the event
				// is not late, or dropped with an order forgotten meanwhile.
				if x.Status == store.EventScheduled {
					at := end.At
					x.NextAt = &at
				}
				return nil
			})
			if err != nil {
				s.log.Error("webhooks: reschedule", "order", rec.ID, "err", err)
			}
		}
	}
	sb.deliverer.Wake()
}

// scheduleOpen schedules a new webhook's events for the tenant's orders that have
// started and not ended by now: an order that ends after the webhook exists is
// delivered to it.
func (s *Server) scheduleOpen(ctx context.Context, sb *sandbox, w store.Webhook, origin string, now time.Time) error {
	open, _, err := sb.store.PageOrders(ctx, w.Tenant, 0, -1, func(r *order.Record) bool {
		st := r.StatusAt(now)
		return r.StartedAt != nil && (st == order.Pending || st == order.InProgress)
	})
	if err != nil {
		return err
	}
	for i := range open {
		end, ok := endOf(&open[i])
		if !ok {
			end.At, ok = awaitedEnd(&open[i])
		}
		if ok {
			if err := s.schedule(ctx, sb, w, origin, open[i].ID, end.At); err != nil {
				return err
			}
		}
	}
	sb.deliverer.Wake()
	return nil
}

func (s *Server) schedule(ctx context.Context, sb *sandbox, w store.Webhook, origin, orderID string, at time.Time) error {
	_, _, err := sb.store.AddEvent(ctx, store.Event{
		Tenant: w.Tenant, WebhookID: w.ID, OrderID: orderID, EventID: newUUID(), Origin: origin,
		Status: store.EventScheduled, CreatedAt: at, NextAt: &at,
	})
	return err
}

func filesGrant(tenant, key string, issued time.Time) files.Grant {
	return files.Grant{Method: "GET", Tenant: tenant, Key: key, Issued: issued, For: order.PresignedURLLifetime}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// occur builds the body of an event whose order's end came (delivery.Config.Occur).
// The order is read again: its end may have moved since the event was scheduled.
func (s *Server) occur(ctx context.Context, sb *sandbox, e store.Event, now time.Time) (delivery.Occurrence, error) {
	rec, err := sb.store.GetOrder(ctx, e.Tenant, e.OrderID)
	if err != nil {
		return delivery.Occurrence{Drop: true}, nil // reset or past retention
	}
	end, ok := endOf(&rec)
	if !ok {
		if _, awaits := awaitedEnd(&rec); awaits {
			// Its outputs are still being made: look again shortly (the work wakes the
			// deliverer when they are stored).
			later := now.Add(time.Second)
			return delivery.Occurrence{Later: &later}, nil
		}
		return delivery.Occurrence{Drop: true}, nil
	}
	if end.At.After(now) {
		return delivery.Occurrence{Later: &end.At}, nil
	}
	typ, body, err := s.eventBody(sb, e, &rec, end)
	if err != nil {
		return delivery.Occurrence{}, err
	}
	return delivery.Occurrence{EventType: typ, Body: body, At: end.At}, nil
}

// Envelope and data of a delivery, as the current webhooks guide documents them; a
// field's absence is as documented (see openapi.yaml, "Webhook deliveries").
type envelope struct {
	EventID    string `json:"eventId"`
	EventType  string `json:"eventType"`
	OccurredAt string `json:"occurredAt"`
	Data       any    `json:"data"`
}

type eventData struct {
	OrderID       string         `json:"orderId"`
	OrderName     string         `json:"orderName"`
	CreatedAt     string         `json:"createdAt"`
	UpdatedAt     string         `json:"updatedAt"`
	CompletedAt   string         `json:"completedAt,omitempty"`
	FailedAt      string         `json:"failedAt,omitempty"`
	Status        order.Status   `json:"status"`
	ErrorCode     string         `json:"errorCode,omitempty"`
	ErrorMessage  string         `json:"errorMessage,omitempty"`
	FileCount     *int           `json:"fileCount,omitempty"`
	DownloadURL   *nullString    `json:"downloadUrl,omitempty"`
	StatusCode    string         `json:"statusCode,omitempty"`
	WatermarkFnd  *bool          `json:"watermarkFound,omitempty"`
	WatermarkInfo *watermarkInfo `json:"watermarkInfo,omitempty"`
	Probability   *float64       `json:"probability,omitempty"`
	HeatmapURL    *nullString    `json:"heatmapUrl,omitempty"`
	OverlayURL    *nullString    `json:"overlayUrl,omitempty"`
}

// nullString is a field that is present, as a string or as null.
type nullString struct{ s *string }

func (n nullString) MarshalJSON() ([]byte, error) { return json.Marshal(n.s) }

type watermarkInfo struct {
	Text string `json:"text"`
}

// eventBody is the event's exact bytes, the same on every attempt.
func (s *Server) eventBody(sb *sandbox, e store.Event, rec *order.Record, end order.Transition) (string, []byte, error) {
	at := end.At.UTC().Format(order.TimeLayout)
	d := eventData{
		OrderID: rec.ID, OrderName: rec.Name, CreatedAt: rec.CreatedAt.UTC().Format(order.TimeLayout),
		UpdatedAt: at, Status: end.Status,
	}
	kind := "completed"
	issued := end.At.Truncate(time.Second)
	url := func(key string) *nullString {
		u := e.Origin + sb.signer.S3URL(filesGrant(rec.Tenant, key, issued))
		return &nullString{&u}
	}
	prefix := store.OrderBlobPrefix(rec.Tenant, rec.ID)
	if end.Status == order.Failed {
		kind = "failed"
		d.FailedAt = at
		d.ErrorCode, d.ErrorMessage = rec.Outcome.ErrorCode, rec.Outcome.ErrorMessage
		if rec.Test || d.ErrorCode == "" {
			d.ErrorCode = "PROCESSING_ERROR" // the guide: always, for test orders
		}
		if d.ErrorMessage == "" {
			d.ErrorMessage = "processing failed"
		}
	} else {
		d.CompletedAt = at
		switch rec.Type {
		case order.AntiAI, order.WatermarkEmbed:
			n := len(rec.Files)
			d.FileCount = &n
			d.DownloadURL = &nullString{} // null for test orders
			if !rec.Test {
				key := rec.Files[0].Key
				if n > 1 {
					key = prefix + blobResultZip
				}
				d.DownloadURL = url(key)
			}
		case order.WatermarkExtract:
			found := rec.Outcome.Detected
			d.WatermarkFnd = &found
			d.StatusCode = "undetected"
			if found {
				d.StatusCode = "detected"
				d.WatermarkInfo = &watermarkInfo{Text: rec.Outcome.WatermarkText}
			}
		case order.AIDetection:
			p := rec.Outcome.Probability
			d.Probability = &p
			d.HeatmapURL, d.OverlayURL = &nullString{}, &nullString{}
			if o := rec.Options; o != nil && o.GenerateHeatmap {
				d.HeatmapURL = url(prefix + blobHeatmap)
			}
			if o := rec.Options; o != nil && o.GenerateOverlay {
				d.OverlayURL = url(prefix + blobOverlay)
			}
		}
	}
	typ := "order." + string(rec.Type) + "." + kind
	body, err := json.Marshal(envelope{EventID: e.EventID, EventType: typ, OccurredAt: at, Data: d})
	return typ, body, err
}
