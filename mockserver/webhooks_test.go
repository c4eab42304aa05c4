package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/webhook"
)

// fakeClock is the server's real clock in these tests: the 1, 2 and 4 s retries wait
// on it, and the test moves it instead of sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool { c.mu.Lock(); defer c.mu.Unlock(); was := !t.stopped; t.stopped = true; return was }
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var fire []func()
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			fire = append(fire, t.f)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, f := range fire {
		f()
	}
}

// arrival is one delivery a receiver got.
type arrival struct {
	body   []byte
	header http.Header
}

// receiver is a webhook receiver on a free port: it answers each delivery with what
// answer says (200 when nil) and reports it on got.
type receiver struct {
	*httptest.Server
	got    chan arrival
	mu     sync.Mutex
	answer func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{got: make(chan arrival, 64)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.got <- arrival{body: body, header: r.Header.Clone()}
		rc.mu.Lock()
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) set(answer func(w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.answer = answer
	rc.mu.Unlock()
}

func fail500(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }

// next waits for a delivery; the bound only turns a hang into a failure.
func (rc *receiver) next(t *testing.T) arrival {
	t.Helper()
	select {
	case a := <-rc.got:
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery arrived")
		return arrival{}
	}
}

type envelopeOf struct {
	EventID    string         `json:"eventId"`
	EventType  string         `json:"eventType"`
	OccurredAt string         `json:"occurredAt"`
	Data       map[string]any `json:"data"`
}

func decodeEnvelope(t *testing.T, a arrival) envelopeOf {
	t.Helper()
	var e envelopeOf
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("delivery body %s: %v", a.body, err)
	}
	return e
}

type createdHook struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

func (c *sbx) hook(key, url string) createdHook {
	c.t.Helper()
	var h createdHook
	c.call(http.MethodPost, "/api/v2/orders/webhooks", key, map[string]any{"name": "test", "url": url}, &h)
	return h
}

type eventsPage struct {
	Events []struct {
		ID         int64   `json:"id"`
		EventID    string  `json:"eventId"`
		EventType  string  `json:"eventType"`
		Status     string  `json:"status"`
		Retries    int     `json:"retries"`
		LastSentAt *string `json:"lastSentAt"`
	} `json:"events"`
}

func (c *sbx) events(key string, hookID int64) eventsPage {
	c.t.Helper()
	var p eventsPage
	c.call(http.MethodGet, fmt.Sprintf("/api/v2/orders/webhooks/%d/events", hookID), key, nil, &p)
	return p
}

// settleEvent waits until the webhook's only event reads status with retries: the
// attempt's result is written just after the receiver answers.
func (c *sbx) settleEvent(key string, hookID int64, status string, retries int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := c.events(key, hookID)
		if len(p.Events) == 1 && p.Events[0].Status == status && p.Events[0].Retries == retries {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("events = %+v; want one %s with %d retries", p.Events, status, retries)
		}
		time.Sleep(5 * time.Millisecond) // waiting on another goroutine, not on a clock
	}
}

// smallSources has the sandbox fetch every URL-mode source as a 96 x 64 image,
// served in-process: the webhook tests are about deliveries, and the 640 x 480
// generated sample (TestAntiAIURLMode covers it) costs seconds of PNG encoding per
// order under the race detector.
func smallSources(t *testing.T, cfg *Config) {
	png := testImage(t, "PNG")
	cfg.FetchSourceURLs = true
	cfg.FetchClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode:    http.StatusOK,
			Header:        http.Header{"Content-Type": {"image/png"}},
			Body:          io.NopCloser(bytes.NewReader(png)),
			ContentLength: int64(len(png)),
			Request:       r,
		}, nil
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func webhookSandbox(t *testing.T, cfg Config) (*sbx, *fakeClock) {
	fc := &fakeClock{now: sandboxNow}
	cfg.Now, cfg.AfterFunc = fc.Now, fc.AfterFunc
	smallSources(t, &cfg)
	if cfg.WebhookTimeout == 0 {
		// Long enough that a receiver answering on a loaded -race machine is never
		// counted as timed out; a test about timeouts sets its own (badReceiverTimeout).
		cfg.WebhookTimeout = 30 * time.Second
	}
	if cfg.ProcessingTime == (Latency{}) {
		cfg.ProcessingTime = Latency{Min: 5 * time.Second, Max: 5 * time.Second}
	}
	return startSandbox(t, cfg), fc
}

// TestWebhookEventTypes runs an order of each type (and a failed one) to its end by
// moving the tenant's clock past it, and checks every delivery: envelope, fields of
// its type, headers and signature.
func TestWebhookEventTypes(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	for _, key := range []string{liveKey, testKey} {
		t.Run(key, func(t *testing.T) {
			t.Parallel() // each key has its own sandbox and receiver
			c, _ := webhookSandbox(t, Config{})
			rc := newReceiver(t)
			h := c.hook(key, rc.URL+"/hook")
			if !strings.HasPrefix(h.Secret, "whsec_") {
				t.Fatalf("secret %q; want whsec_...", h.Secret)
			}
			var o created
			c.call(http.MethodPost, "/api/v2/orders/anti-ai/with-urls", key, map[string]any{"idempotencyKey": "a", "files": []map[string]string{{"fileName": "a.png", "imageUrl": "https://example.com/a.png"}}}, nil)
			c.call(http.MethodPost, "/api/v2/orders/anti-ai/with-urls", key, map[string]any{"idempotencyKey": "f", "files": []map[string]string{{"fileName": "a_fail.png", "imageUrl": "https://example.com/a.png"}}}, nil)
			c.call(http.MethodPost, "/api/v2/orders/wtr-embed", key, map[string]any{"idempotencyKey": "e", "files": []map[string]any{{"fileName": "a.png", "originalFileUrl": "https://example.com/a.png", "watermarks": []map[string]string{{"text": "MORI"}}}}}, nil)
			c.call(http.MethodPost, "/api/v2/orders/wtr-extract", key, map[string]any{"idempotencyKey": "x", "file": map[string]any{"fileName": "w_detected.jpg"}}, &o)
			c.upload(o.File.UploadURL, testImage(t, "JPG"))
			c.call(http.MethodPost, "/api/v2/orders/ai-detection", key, map[string]any{"idempotencyKey": "d", "fileName": "p_ai.png", "options": map[string]bool{"generateHeatmap": true}}, &o)
			c.upload(o.File.UploadURL, testImage(t, "PNG"))
			c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", key, map[string]string{"idempotencyKey": "dc", "orderId": o.OrderID}, nil)
			select {
			case a := <-rc.got:
				t.Fatalf("a delivery before any order ended: %s", a.body)
			default:
			}
			c.settle()           // every order's files are made, at its start on the key's clock
			c.advance(key, "1h") // past every order's end: each is delivered, late
			got := map[string]envelopeOf{}
			for range 5 {
				a := rc.next(t)
				if !webhook.Verify(h.Secret, a.body, a.header.Get("X-MoriBiz-Signature")) {
					t.Errorf("signature %q does not verify over %s", a.header.Get("X-MoriBiz-Signature"), a.body)
				}
				if ct := a.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q; want application/json", ct)
				}
				if a.header.Get("Authorization") != "" || strings.Contains(string(a.body), key) {
					t.Errorf("the API key reached the receiver: %v %s", a.header, a.body)
				}
				e := decodeEnvelope(t, a)
				if len(e.EventID) != 36 || e.OccurredAt == "" || e.OccurredAt > "2026-03-12T10:00:06.000Z" {
					t.Errorf("envelope %+v; want a UUID and occurredAt at the order's end, not the late delivery", e)
				}
				got[e.EventType] = e
			}
			test := key == testKey
			checks := map[string]func(d map[string]any) bool{
				"order.antiAi.completed": func(d map[string]any) bool {
					return d["status"] == "complete" && d["fileCount"] == 1.0 && (d["downloadUrl"] == nil) == test && d["completedAt"] != nil
				},
				"order.antiAi.failed": func(d map[string]any) bool {
					return d["status"] == "failed" && d["errorCode"] == "PROCESSING_ERROR" && d["errorMessage"] != nil && d["failedAt"] != nil && d["error"] == nil
				},
				"order.watermarkEmbed.completed": func(d map[string]any) bool {
					return d["fileCount"] == 1.0 && (d["downloadUrl"] == nil) == test
				},
				"order.watermarkExtract.completed": func(d map[string]any) bool {
					info, _ := d["watermarkInfo"].(map[string]any)
					return d["statusCode"] == "detected" && d["watermarkFound"] == true && info["text"] != nil && d["status"] == "complete"
				},
				"order.aiDetection.completed": func(d map[string]any) bool {
					_, hasOverlay := d["overlayUrl"]
					_, hasCode := d["statusCode"]
					return d["probability"] == 0.98 && d["heatmapUrl"] != nil && hasOverlay && d["overlayUrl"] == nil && !hasCode
				},
			}
			for typ, ok := range checks {
				if e, found := got[typ]; !found || !ok(e.Data) {
					t.Errorf("%s: data %v; want its documented fields", typ, e.Data)
				}
			}
			c.settle2(key, h.ID, 5)
		})
	}
}

// settle2 waits until the webhook has n events, all SENT.
func (c *sbx) settle2(key string, hookID int64, n int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := c.events(key, hookID)
		sent := 0
		for _, e := range p.Events {
			if e.Status == "SENT" && e.Retries == 0 && e.LastSentAt != nil {
				sent++
			}
		}
		if sent == n && len(p.Events) == n {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("events = %+v; want %d SENT", p.Events, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// retrySteps moves the clocks to each retry of the documented schedule in turn: 1, 2
// and 4 s on the server's clock, then 30 min, 2 h and 4 h on the key's (facts §5).
func retrySteps(c *sbx, fc *fakeClock, key string) []func() {
	return []func(){
		func() { fc.Advance(time.Second) },
		func() { fc.Advance(2 * time.Second) },
		func() { fc.Advance(4 * time.Second) },
		func() { c.advance(key, "30m") },
		func() { c.advance(key, "2h") },
		func() { c.advance(key, "4h") },
	}
}

// failedEvent runs the first event of a live key's webhook, whose receiver answers
// 500, through the whole documented schedule to FAILED: every attempt carries the first
// one's eventId. It returns the sandbox, its clock, the receiver (still answering
// 500), the webhook and that eventId.
func failedEvent(t *testing.T) (*sbx, *fakeClock, *receiver, createdHook, string) {
	t.Helper()
	c, fc := webhookSandbox(t, Config{})
	rc := newReceiver(t)
	rc.set(fail500)
	h := c.hook(liveKey, rc.URL)
	c.call(http.MethodPost, "/api/v2/orders/anti-ai/with-urls", liveKey, map[string]any{"idempotencyKey": "a", "files": []map[string]string{{"fileName": "a.png", "imageUrl": "https://example.com/a.png"}}}, nil)
	c.advance(liveKey, "5s")
	first := decodeEnvelope(t, rc.next(t))
	for i, step := range retrySteps(c, fc, liveKey) {
		c.settleEvent(liveKey, h.ID, "RETRYING", i)
		step()
		if e := decodeEnvelope(t, rc.next(t)); e.EventID != first.EventID {
			t.Fatalf("retry %d eventId %s; want the first's %s", i+1, e.EventID, first.EventID)
		}
	}
	c.settleEvent(liveKey, h.ID, "FAILED", 6)
	return c, fc, rc, h, first.EventID
}

// TestWebhookRetrySchedule walks the whole schedule: 1, 2 and 4 s on the server's
// clock, 30 min, 2 h and 4 h on the tenant's, then FAILED; then a manual retry.
func TestWebhookRetrySchedule(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	c, fc, rc, h, firstID := failedEvent(t)
	c.advance(liveKey, "7d")
	fc.Advance(time.Hour)
	select {
	case a := <-rc.got:
		t.Fatalf("a delivery after FAILED: %s", a.body)
	default:
	}

	ev := c.events(liveKey, h.ID).Events[0]
	retry := fmt.Sprintf("/api/v2/orders/webhooks/%d/events/%d/retry", h.ID, ev.ID)
	var ans struct {
		EventID    string `json:"event_id"`
		Success    bool   `json:"success"`
		StatusCode *int   `json:"status_code"`
		Status     string `json:"status"`
		Error      string `json:"error"`
	}
	c.call(http.MethodPost, retry, liveKey, nil, &ans) // fails again: queued 30 min on
	rc.next(t)
	if ans.Success || ans.Status != "RETRYING" || ans.Error == "" || ans.EventID != firstID {
		t.Fatalf("manual retry against a failing receiver = %+v; want success false, RETRYING", ans)
	}
	res, body := c.do(http.MethodPost, retry, liveKey, nil)
	c.want(res, body, http.StatusUnprocessableEntity, "WEBHOOK_EVENT_NOT_RETRYABLE")
	c.advance(liveKey, "30m") // the queued retry fails too: FAILED again
	rc.next(t)
	c.settleEvent(liveKey, h.ID, "FAILED", 8)

	rc.set(nil)
	c.call(http.MethodPost, retry, liveKey, nil, &ans)
	rc.next(t)
	if !ans.Success || ans.StatusCode == nil || *ans.StatusCode != http.StatusNoContent || ans.Status != "SENT" {
		t.Fatalf("manual retry = %+v; want success, status_code 204, SENT", ans)
	}
	res, body = c.do(http.MethodPost, retry, liveKey, nil)
	c.want(res, body, http.StatusUnprocessableEntity, "WEBHOOK_EVENT_NOT_RETRYABLE")
	res, body = c.do(http.MethodPost, fmt.Sprintf("/api/v2/orders/webhooks/%d/events/%d/retry", h.ID, ev.ID+100), liveKey, nil)
	c.want(res, body, http.StatusNotFound, "WEBHOOK_EVENT_NOT_FOUND")
	res, body = c.do(http.MethodPost, retry, liveKey2, nil)
	c.want(res, body, http.StatusNotFound, "WEBHOOK_NOT_FOUND")
}

// TestWebhookRetryFailed resends the FAILED events of a date range.
func TestWebhookRetryFailed(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	c, _, rc, h, _ := failedEvent(t)
	rc.set(nil)
	target := fmt.Sprintf("/api/v2/orders/webhooks/%d/events/retry-failed", h.ID)
	res, body := c.do(http.MethodPost, target, liveKey, map[string]string{"fromDate": "2026-03-01", "toDate": "2026-03-12"})
	c.want(res, body, http.StatusUnprocessableEntity, "INVALID_DATE_RANGE")
	var ans struct{ Total, Succeeded, Failed int }
	c.call(http.MethodPost, target, liveKey, map[string]string{"fromDate": "2026-03-11", "toDate": "2026-03-12"}, &ans)
	rc.next(t)
	if ans.Total != 1 || ans.Succeeded != 1 || ans.Failed != 0 {
		t.Fatalf("retry-failed = %+v; want 1 of 1 succeeded", ans)
	}
	c.settleEvent(liveKey, h.ID, "SENT", 7)
}

// badReceiverTimeout is the webhook timeout of the test whose receivers hang: short,
// since each of them waits it out.
const badReceiverTimeout = 300 * time.Millisecond

// TestWebhookBadReceivers: a receiver that hangs, redirects or answers slowly fails
// the attempt (and the redirect's target gets nothing); the API answers meanwhile.
func TestWebhookBadReceivers(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	target := newReceiver(t)
	for name, answer := range map[string]func(w http.ResponseWriter, r *http.Request){
		"hangs": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"redirects": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
		},
		"slow": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the body never ends within the timeout
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := webhookSandbox(t, Config{WebhookTimeout: badReceiverTimeout})
			rc := newReceiver(t)
			rc.set(answer)
			h := c.hook(liveKey, rc.URL)
			c.call(http.MethodPost, "/api/v2/orders/anti-ai/with-urls", liveKey, map[string]any{"idempotencyKey": "a", "files": []map[string]string{{"fileName": "a.png", "imageUrl": "https://example.com/a.png"}}}, nil)
			c.advance(liveKey, "5s")
			rc.next(t)
			c.get(liveKey, "1") // the API answers while the receiver holds its attempt
			c.settleEvent(liveKey, h.ID, "RETRYING", 0)
			select {
			case a := <-target.got:
				t.Fatalf("the redirect was followed: %s", a.body)
			default:
			}
		})
	}
}

// TestWebhookInbox walks the sandbox's own receiver: register it, fail one delivery,
// read both attempts with a long poll.
func TestWebhookInbox(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	c, fc := webhookSandbox(t, Config{})
	h := c.hook(liveKey, c.url+"/_morimock/inbox/box-1")
	c.call(http.MethodPost, "/_morimock/inbox/box-1/fail", liveKey, map[string]any{"count": 1}, nil)
	c.call(http.MethodPost, "/api/v2/orders/anti-ai/with-urls", liveKey, map[string]any{"idempotencyKey": "a", "files": []map[string]string{{"fileName": "a.png", "imageUrl": "https://example.com/a.png"}}}, nil)
	c.advance(liveKey, "5s")
	type inboxData struct {
		Deliveries []struct {
			Seq       int64  `json:"seq"`
			Signature string `json:"signature"`
			Answered  int    `json:"answered"`
			Body      string `json:"body"`
		} `json:"deliveries"`
	}
	var in inboxData
	c.call(http.MethodGet, "/_morimock/inbox/box-1?wait=10s", liveKey, nil, &in)
	if len(in.Deliveries) != 1 || in.Deliveries[0].Answered != 500 {
		t.Fatalf("inbox = %+v; want one delivery answered 500", in)
	}
	c.settleEvent(liveKey, h.ID, "RETRYING", 0)
	fc.Advance(time.Second)
	c.call(http.MethodGet, fmt.Sprintf("/_morimock/inbox/box-1?wait=10s&after=%d", in.Deliveries[0].Seq), liveKey, nil, &in)
	if len(in.Deliveries) != 1 || in.Deliveries[0].Answered != 200 || !webhook.Verify(h.Secret, []byte(in.Deliveries[0].Body), in.Deliveries[0].Signature) {
		t.Fatalf("inbox after the retry = %+v; want one signed delivery answered 200", in)
	}
	c.settleEvent(liveKey, h.ID, "SENT", 1)
}

// TestWebhookRestartMidRetry: a retry due when the sandbox stopped is made by the
// next one on the same --state-dir, with the same eventId.
func TestWebhookRestartMidRetry(t *testing.T) {
	t.Parallel() // its own state dir, receiver and clock
	dir := t.TempDir()
	rc := newReceiver(t)
	rc.set(fail500)
	fc := &fakeClock{now: sandboxNow}
	open := func() *sbx {
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Store: st, Now: fc.Now, AfterFunc: fc.AfterFunc, WebhookTimeout: 30 * time.Second, ProcessingTime: Latency{Min: 5 * time.Second, Max: 5 * time.Second}}
		smallSources(t, &cfg)
		c := startSandbox(t, cfg)
		t.Cleanup(func() { st.Close() })
		return c
	}
	c := open()
	h := c.hook(liveKey, rc.URL)
	c.call(http.MethodPost, "/api/v2/orders/anti-ai/with-urls", liveKey, map[string]any{"idempotencyKey": "a", "files": []map[string]string{{"fileName": "a.png", "imageUrl": "https://example.com/a.png"}}}, nil)
	c.advance(liveKey, "5s")
	first := decodeEnvelope(t, rc.next(t))
	c.settleEvent(liveKey, h.ID, "RETRYING", 0)
	if err := c.srv.Close(); err != nil {
		t.Fatal(err)
	}
	c.srv.cfg.Store.Close()

	rc.set(nil)
	c = open()
	fc.Advance(time.Second)
	if e := decodeEnvelope(t, rc.next(t)); e.EventID != first.EventID {
		t.Fatalf("eventId after restart %s; want %s", e.EventID, first.EventID)
	}
	c.settleEvent(liveKey, h.ID, "SENT", 1)
}

// TestWebhookEndpoints: CRUD, the secret shown once, test keys, the deprecated one.
func TestWebhookEndpoints(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	c, _ := webhookSandbox(t, Config{})
	h := c.hook(liveKey, "http://127.0.0.1:9/a")
	var d struct {
		Secret string `json:"secret"`
		URL    string `json:"url"`
	}
	c.call(http.MethodGet, fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), liveKey, nil, &d)
	if d.Secret == h.Secret || !strings.HasSuffix(h.Secret, d.Secret[len(d.Secret)-4:]) {
		t.Errorf("GET secret %q; want masked, ending as %q", d.Secret, h.Secret)
	}
	c.call(http.MethodPut, fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), liveKey, map[string]string{"url": "https://example.com/b"}, nil)
	var list struct {
		Webhooks []struct{ URL string } `json:"webhooks"`
	}
	c.call(http.MethodGet, "/api/v2/orders/webhooks?keyword=EXAMPLE", liveKey, nil, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0].URL != "https://example.com/b" {
		t.Errorf("list = %+v; want the updated webhook", list)
	}
	for _, tc := range []struct {
		method, target, key string
		body                any
		status              int
		code                string
	}{
		{"GET", fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), liveKey2, nil, 404, "WEBHOOK_NOT_FOUND"},
		{"GET", fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), testKey, nil, 404, "WEBHOOK_NOT_FOUND"},
		{"POST", "/api/v2/orders/webhooks", testKey, map[string]any{"url": "http://x.example/", "isTest": false}, 403, "AUTH_FORBIDDEN"},
		{"POST", "/api/v2/orders/webhooks", liveKey, map[string]any{"url": "ftp://x.example/"}, 400, "VALIDATION_FAILED"},
		{"POST", "/api/v2/orders/webhooks", liveKey, map[string]any{"url": "http://x.example/", "events": []string{}}, 400, "VALIDATION_FAILED"},
		{"GET", "/api/v2/orders/webhooks/abc", liveKey, nil, 400, "VALIDATION_FAILED"},
		{"DELETE", fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), liveKey, nil, 200, ""},
		{"DELETE", fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), liveKey, nil, 404, "WEBHOOK_NOT_FOUND"},
		{"POST", "/api/v2/orders/webhook", liveKey, map[string]string{"url": "http://127.0.0.1:9/legacy"}, 200, ""},
		{"GET", "/api/v2/orders/webhook", liveKey, nil, 200, "127.0.0.1:9/legacy"},
		{"DELETE", "/api/v2/orders/webhook", liveKey, nil, 200, ""},
		{"GET", "/api/v2/orders/webhook", liveKey, nil, 200, `"url":null`},
	} {
		res, body := c.do(tc.method, tc.target, tc.key, tc.body)
		c.want(res, body, tc.status, tc.code)
	}
	var th struct {
		IsTest bool `json:"isTest"`
	}
	tid := c.hook(testKey, "http://127.0.0.1:9/t").ID
	c.call(http.MethodGet, fmt.Sprintf("/api/v2/orders/webhooks/%d", tid), testKey, nil, &th)
	if !th.IsTest {
		t.Error("a test key's webhook has isTest false")
	}
}

// TestWebhookLimitPerKey: a key registers at most MaxWebhooks webhooks; the next
// create is a 400 VALIDATION_FAILED that says so, another key is not affected, and
// deleting one makes room (review2 #4).
func TestWebhookLimitPerKey(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	c, _ := webhookSandbox(t, Config{})
	var first createdHook
	for i := range MaxWebhooks {
		h := c.hook(liveKey, fmt.Sprintf("http://127.0.0.1:9/%d", i))
		if i == 0 {
			first = h
		}
	}
	res, body := c.do(http.MethodPost, "/api/v2/orders/webhooks", liveKey, map[string]any{"url": "http://127.0.0.1:9/over"})
	c.want(res, body, http.StatusBadRequest, "VALIDATION_FAILED")
	if got := res.Header.Get(HeaderError); !strings.Contains(got, "limit") {
		t.Errorf("over-limit %s = %q; want it to name the limit", HeaderError, got)
	}
	res, body = c.do(http.MethodPost, "/api/v2/orders/webhooks", liveKey2, map[string]any{"url": "http://127.0.0.1:9/other"})
	c.want(res, body, http.StatusOK, "")
	res, body = c.do(http.MethodDelete, fmt.Sprintf("/api/v2/orders/webhooks/%d", first.ID), liveKey, nil)
	c.want(res, body, http.StatusOK, "")
	res, body = c.do(http.MethodPost, "/api/v2/orders/webhooks", liveKey, map[string]any{"url": "http://127.0.0.1:9/again"})
	c.want(res, body, http.StatusOK, "")
}

// TestInboxReadMakesNone: reading an unknown inbox answers 404 and makes none, so
// reading many names cannot push out a real inbox and what it was told (review2 #10);
// a delivery or a fail configuration makes one.
func TestInboxReadMakesNone(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c, _ := webhookSandbox(t, Config{})
	c.call(http.MethodPost, "/_morimock/inbox/real/fail", liveKey, map[string]any{"count": 2}, nil)
	for i := range maxInboxes + 10 {
		res, body := c.do(http.MethodGet, fmt.Sprintf("/_morimock/inbox/nobody-%d", i), liveKey, nil)
		c.want(res, body, http.StatusNotFound, codeInboxNotFound)
	}
	var in struct {
		Failing int `json:"failing"`
	}
	c.call(http.MethodGet, "/_morimock/inbox/real", liveKey, nil, &in)
	if in.Failing != 2 {
		t.Errorf("inbox real after %d reads of unknown names fails %d more; want 2 (kept)", maxInboxes+10, in.Failing)
	}
	res, body := c.do(http.MethodPost, "/_morimock/inbox/fresh", "", map[string]any{"x": 1})
	c.want(res, body, http.StatusOK, "")
	c.call(http.MethodGet, "/_morimock/inbox/fresh", liveKey, nil, nil)
}

// TestWebhookDeletedDuringRetry: a manual retry whose webhook is deleted while its
// attempt is on the wire answers 404, not a sandbox failure.
func TestWebhookDeletedDuringRetry(t *testing.T) {
	t.Parallel() // its own sandbox, receivers and clock
	c, _, rc, h, _ := failedEvent(t)
	ev := c.events(liveKey, h.ID).Events[0]

	release := make(chan struct{})
	rc.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(http.StatusInternalServerError)
	})
	type answer struct {
		res  *http.Response
		body []byte
	}
	done := make(chan answer, 1)
	go func() {
		res, body := c.do(http.MethodPost, fmt.Sprintf("/api/v2/orders/webhooks/%d/events/%d/retry", h.ID, ev.ID), liveKey, nil)
		done <- answer{res, body}
	}()
	rc.next(t) // the retry's attempt is at the receiver
	res, body := c.do(http.MethodDelete, fmt.Sprintf("/api/v2/orders/webhooks/%d", h.ID), liveKey, nil)
	if res.StatusCode/100 != 2 {
		t.Fatalf("DELETE the webhook = %d %s", res.StatusCode, body)
	}
	close(release)
	a := <-done
	c.want(a.res, a.body, http.StatusNotFound, "WEBHOOK_EVENT_NOT_FOUND")
}
