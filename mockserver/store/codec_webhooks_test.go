package store

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fullWebhook and fullEvent set every field, so a field the codec forgets shows.
func fullWebhook() Webhook {
	sent := time.Date(2026, 3, 1, 9, 0, 3, 123456789, time.UTC)
	return Webhook{ID: 7, Tenant: "ab12", Name: "orders ü", URL: "https://hooks.example.test/in?x=1", Secret: "whsec_0123",
		Test: true, Legacy: true, CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2026, 3, 1, 9, 0, 1, 0, time.UTC), LastSentAt: &sent}
}

func fullEvent() Event {
	t := func(s int) *time.Time { v := time.Date(2026, 3, 1, 9, 0, s, 123456789, time.UTC); return &v }
	return Event{ID: 42, Tenant: "ab12", WebhookID: 7, OrderID: "1865432100000000001",
		EventID: "550e8400-e29b-41d4-a716-446655440000", Origin: "http://127.0.0.1:8080",
		EventType: "order.antiAi.failed", Body: []byte(`{"eventId":"550e8400"}`), Status: EventRetrying,
		Attempts: 3, Manual: true, LastCode: 502, LastError: "bad gateway", CreatedAt: *t(0),
		LastSent: t(1), NextAt: t(2), LeaseOwner: "replica-1", LeaseUntil: *t(3)}
}

// TestWebhookCodecCovers fails when Webhook or Event grows a field: the codec (and
// fullWebhook, fullEvent) must learn it, under a new version.
func TestWebhookCodecCovers(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{{Webhook{}, 10}, {Event{}, 18}} {
		if n := reflect.TypeOf(c.v).NumField(); n != c.want {
			t.Errorf("%T has %d fields; the webhook codec knows %d", c.v, n, c.want)
		}
	}
}

func TestWebhookCodecRoundTrip(t *testing.T) {
	for _, w := range []Webhook{fullWebhook(), {ID: 1, Tenant: "t"}} {
		got, err := decodeWebhook(encodeWebhook(&w))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(w, got); d != "" {
			t.Errorf("decodeWebhook(encodeWebhook()) mismatch (-want +got):\n%s", d)
		}
	}
	for _, e := range []Event{fullEvent(), {ID: 1, Tenant: "t", WebhookID: 1, Status: EventScheduled}} {
		got, err := decodeEvent(encodeEvent(&e))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(e, got); d != "" {
			t.Errorf("decodeEvent(encodeEvent()) mismatch (-want +got):\n%s", d)
		}
	}
}

func TestWebhookCodecRefuses(t *testing.T) {
	w := fullWebhook()
	goodW := encodeWebhook(&w)
	badFlags := binary.AppendVarint([]byte{webhookV1}, 1)
	for _, s := range []string{"t", "", "", ""} {
		badFlags = appendString(badFlags, s)
	}
	badFlags = append(badFlags, 4) // only 1 (test) and 2 (legacy) are flags
	badFlags = appendTimePtr(appendTime(appendTime(badFlags, time.Time{}), time.Time{}), nil)
	e := fullEvent()
	goodE := encodeEvent(&e)
	for name, c := range map[string]struct {
		b      []byte
		decode func([]byte) error
	}{
		"webhook empty":         {nil, decW},
		"webhook version":       {append([]byte{webhookV1 + 1}, goodW[1:]...), decW},
		"webhook truncated":     {goodW[:len(goodW)-1], decW},
		"webhook trailing":      {append(append([]byte(nil), goodW...), 0), decW},
		"webhook unknown flags": {badFlags, decW},
		"webhook no tenant":     {encodeWebhook(&Webhook{ID: 1}), decW},
		"webhook no id":         {encodeWebhook(&Webhook{Tenant: "t"}), decW},
		"event empty":           {nil, decE},
		"event version":         {append([]byte{eventV1 + 1}, goodE[1:]...), decE},
		"event truncated":       {goodE[:len(goodE)-1], decE},
		"event trailing":        {append(append([]byte(nil), goodE...), 0), decE},
		"event no webhook":      {encodeEvent(&Event{ID: 1, Tenant: "t"}), decE},
		"event huge string":     {[]byte{eventV1, 2, 0xff, 0xff, 0xff, 0xff, 0x0f}, decE},
	} {
		if err := c.decode(c.b); err == nil {
			t.Errorf("decode(%s) = nil error; want one", name)
		}
	}
}

func decW(b []byte) error { _, err := decodeWebhook(b); return err }
func decE(b []byte) error { _, err := decodeEvent(b); return err }

// FuzzDecodeWebhook: no bytes make decodeWebhook panic or allocate beyond its input,
// and whatever it accepts encodes back to a webhook it reads the same.
func FuzzDecodeWebhook(f *testing.F) {
	full := fullWebhook()
	f.Add(encodeWebhook(&full))
	f.Add(encodeWebhook(&Webhook{ID: 1, Tenant: "t"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := decodeWebhook(b)
		if err != nil {
			return
		}
		again, err := decodeWebhook(encodeWebhook(&w))
		if err != nil {
			t.Fatalf("re-encoded webhook does not decode: %v", err)
		}
		if d := cmp.Diff(w, again); d != "" {
			t.Fatalf("re-encoded webhook differs (-first +again):\n%s", d)
		}
	})
}

// FuzzDecodeEvent: the same for delivery events, whose bodies are outside input
// kept byte for byte.
func FuzzDecodeEvent(f *testing.F) {
	full := fullEvent()
	f.Add(encodeEvent(&full))
	f.Add(encodeEvent(&Event{ID: 1, Tenant: "t", WebhookID: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err != nil {
			return
		}
		again, err := decodeEvent(encodeEvent(&e))
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if d := cmp.Diff(e, again); d != "" {
			t.Fatalf("re-encoded event differs (-first +again):\n%s", d)
		}
	})
}
