package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Webhooks and events are kept in the binary form of records (see codec.go), each
// with its own version byte, so that either can change without rewriting the other.
//
// Webhook version 1: ID, Tenant, Name, URL, Secret, flags (Test 1, Legacy 2),
// CreatedAt, UpdatedAt, LastSentAt.
// Event version 1: ID, Tenant, WebhookID, OrderID, EventID, Origin, EventType, Body,
// Status, Attempts, Manual, LastCode, LastError, CreatedAt, LastSent, NextAt,
// LeaseOwner, LeaseUntil (a zero instant as the 0 byte of an absent one).
const (
	webhookV1 = 1
	eventV1   = 1
)

func encodeWebhook(w *Webhook) []byte {
	b := make([]byte, 0, 128)
	b = append(b, webhookV1)
	b = binary.AppendVarint(b, w.ID)
	b = appendString(b, w.Tenant)
	b = appendString(b, w.Name)
	b = appendString(b, w.URL)
	b = appendString(b, w.Secret)
	b = append(b, bit(w.Test, 1)|bit(w.Legacy, 2))
	b = appendTime(b, w.CreatedAt)
	b = appendTime(b, w.UpdatedAt)
	return appendTimePtr(b, w.LastSentAt)
}

func decodeWebhook(data []byte) (Webhook, error) {
	d := &decoder{b: data}
	if v := d.byte(); d.err == nil && v != webhookV1 {
		return Webhook{}, fmt.Errorf("decode webhook: unknown version %d", v)
	}
	var w Webhook
	w.ID = d.varint()
	w.Tenant = d.string()
	w.Name = d.string()
	w.URL = d.string()
	w.Secret = d.string()
	flags := d.byte()
	w.Test, w.Legacy = flags&1 != 0, flags&2 != 0
	if flags&^3 != 0 {
		d.fail(errors.New("bad flags"))
	}
	w.CreatedAt = d.time()
	w.UpdatedAt = d.time()
	w.LastSentAt = d.timePtr()
	if err := d.end(); err != nil {
		return Webhook{}, fmt.Errorf("decode webhook: %w", err)
	}
	if w.ID <= 0 || w.Tenant == "" {
		return Webhook{}, errors.New("decode webhook: no id or tenant")
	}
	return w, nil
}

func encodeEvent(e *Event) []byte {
	b := make([]byte, 0, 256+len(e.Body))
	b = append(b, eventV1)
	b = binary.AppendVarint(b, e.ID)
	b = appendString(b, e.Tenant)
	b = binary.AppendVarint(b, e.WebhookID)
	b = appendString(b, e.OrderID)
	b = appendString(b, e.EventID)
	b = appendString(b, e.Origin)
	b = appendString(b, e.EventType)
	b = appendString(b, string(e.Body))
	b = appendString(b, string(e.Status))
	b = binary.AppendVarint(b, int64(e.Attempts))
	b = appendBool(b, e.Manual)
	b = binary.AppendVarint(b, int64(e.LastCode))
	b = appendString(b, e.LastError)
	b = appendTime(b, e.CreatedAt)
	b = appendTimePtr(b, e.LastSent)
	b = appendTimePtr(b, e.NextAt)
	b = appendString(b, e.LeaseOwner)
	var lease *time.Time
	if !e.LeaseUntil.IsZero() {
		lease = &e.LeaseUntil
	}
	return appendTimePtr(b, lease)
}

func decodeEvent(data []byte) (Event, error) {
	d := &decoder{b: data}
	if v := d.byte(); d.err == nil && v != eventV1 {
		return Event{}, fmt.Errorf("decode event: unknown version %d", v)
	}
	var e Event
	e.ID = d.varint()
	e.Tenant = d.string()
	e.WebhookID = d.varint()
	e.OrderID = d.string()
	e.EventID = d.string()
	e.Origin = d.string()
	e.EventType = d.string()
	if body := d.string(); body != "" {
		e.Body = []byte(body)
	}
	e.Status = EventStatus(d.string())
	e.Attempts = int(d.varint())
	e.Manual = d.bool()
	e.LastCode = int(d.varint())
	e.LastError = d.string()
	e.CreatedAt = d.time()
	e.LastSent = d.timePtr()
	e.NextAt = d.timePtr()
	e.LeaseOwner = d.string()
	if t := d.timePtr(); t != nil {
		e.LeaseUntil = *t
	}
	if err := d.end(); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if e.ID <= 0 || e.Tenant == "" || e.WebhookID <= 0 {
		return Event{}, errors.New("decode event: no id, tenant or webhook")
	}
	return e, nil
}

// end reports the first error, or bytes left over.
func (d *decoder) end() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) > 0 {
		return errors.New("bytes after the value")
	}
	return nil
}
