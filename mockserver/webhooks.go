package mockserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock/mockserver/delivery"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// Codes of the webhook endpoints: WEBHOOK_NOT_FOUND and AUTH_FORBIDDEN from the
// errors page; the event and 422 codes are the sandbox's (the docs name none).
const (
	codeWebhookNotFound      = "WEBHOOK_NOT_FOUND"
	codeWebhookEventNotFound = "WEBHOOK_EVENT_NOT_FOUND"
	codeForbidden            = "AUTH_FORBIDDEN"
	codeEventNotRetryable    = "WEBHOOK_EVENT_NOT_RETRYABLE"
	codeInvalidDateRange     = "INVALID_DATE_RANGE"
)

// MaxWebhooks is how many webhooks (besides the legacy one) a key may register. Each
// gets every event of the key's orders, so the cap bounds what one key's orders cost
// the deliveries every key shares; the vendor documents no limit.
const MaxWebhooks = 20

type webhookItem struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	URL        string  `json:"url"`
	IsActive   bool    `json:"isActive"`
	IsTest     bool    `json:"isTest"`
	LastSentAt *string `json:"lastSentAt"`
	CreatedAt  string  `json:"createdAt"`
}

type webhookDetail struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	Secret    string `json:"secret"`
	IsActive  bool   `json:"isActive"`
	IsTest    bool   `json:"isTest"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

type pagination struct {
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	Total      int `json:"total"`
	TotalPages int `json:"totalPages"`
}

type webhookEvent struct {
	ID         int64   `json:"id"`
	EventID    string  `json:"eventId"`
	EventType  string  `json:"eventType"`
	Status     string  `json:"status"`
	Retries    int     `json:"retries"`
	LastSentAt *string `json:"lastSentAt"`
	CreatedAt  string  `json:"createdAt"`
}

func stamp(t time.Time) string { return t.UTC().Format(order.TimeLayout) }

func stampPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// maskSecret shows a secret's prefix and last four characters: the whole secret is
// shown once, at create (the guide), yet the detail schema has the field.
func maskSecret(s string) string {
	if len(s) < 10 {
		return "whsec_****"
	}
	return "whsec_****" + s[len(s)-4:]
}

func newSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// pageOf reads page and limit (the contract has checked their ranges).
func pageOf(r *http.Request, defLimit int) (page, limit int) {
	q := r.URL.Query()
	page, limit = 1, defLimit
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	if v, err := strconv.Atoi(q.Get("limit")); err == nil && v > 0 {
		limit = v
	}
	return page, limit
}

func paginate[T any](all []T, page, limit int) ([]T, pagination) {
	p := pagination{Page: page, Limit: limit, Total: len(all), TotalPages: (len(all) + limit - 1) / limit}
	lo := min((page-1)*limit, len(all))
	return all[lo:min(lo+limit, len(all))], p
}

// checkURL refuses what cannot be delivered to. The sandbox POSTs to any http(s) URL
// its tenant registers, loopback included: it is the user's own sandbox.
func checkURL(raw string) *apiError {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "url: want an absolute http or https URL without credentials"}
	}
	return nil
}

func webhookID(c *call, name string) int64 {
	id, _ := strconv.ParseInt(c.params[name], 10, 64)
	return id
}

// lookupWebhook returns the tenant's webhook of the path, or answers 404.
func (s *Server) lookupWebhook(w http.ResponseWriter, r *http.Request, c *call) (store.Webhook, bool) {
	hook, err := c.sb.store.GetWebhook(r.Context(), c.tenant.id, webhookID(c, "webhookId"))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && hook.Legacy):
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeWebhookNotFound, detail: "no webhook " + clip(c.params["webhookId"]) + " for this API key"})
		return hook, false
	case err != nil:
		s.internal(w, err)
		return hook, false
	}
	return hook, true
}

// handleListWebhooks serves GET /api/v2/orders/webhooks.
func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request, c *call) {
	hooks, err := c.sb.store.ListWebhooks(r.Context(), c.tenant.id)
	if err != nil {
		s.internal(w, err)
		return
	}
	kw := strings.ToLower(r.URL.Query().Get("keyword"))
	items := []webhookItem{}
	for i := len(hooks) - 1; i >= 0; i-- { // newest first, as orders
		h := hooks[i]
		if h.Legacy || (kw != "" && !strings.Contains(strings.ToLower(h.Name+" "+h.URL), kw)) {
			continue
		}
		items = append(items, webhookItem{ID: h.ID, Name: h.Name, URL: h.URL, IsActive: true, IsTest: h.Test, LastSentAt: stampPtr(h.LastSentAt), CreatedAt: stamp(h.CreatedAt)})
	}
	page, limit := pageOf(r, 10)
	items, p := paginate(items, page, limit)
	s.reply(w, r, c, map[string]any{"webhooks": items, "pagination": p})
}

// handleCreateWebhook serves POST /api/v2/orders/webhooks. The secret is in this
// answer only.
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, c *call) {
	var b struct {
		Name   string `json:"name"`
		URL    string `json:"url"`
		IsTest *bool  `json:"isTest"`
	}
	if e := decode(r, &b); e != nil {
		s.fail(w, e)
		return
	}
	if e := checkURL(b.URL); e != nil {
		s.fail(w, e)
		return
	}
	if b.IsTest != nil && *b.IsTest != c.tenant.test {
		s.fail(w, &apiError{status: http.StatusForbidden, code: codeForbidden, detail: "a test key (sk_test_) manages test webhooks only (isTest: true), a live key live ones only"})
		return
	}
	hooks, err := c.sb.store.ListWebhooks(r.Context(), c.tenant.id)
	if err != nil {
		s.internal(w, err)
		return
	}
	n := 0
	for _, h := range hooks {
		if !h.Legacy {
			n++
		}
	}
	if n >= MaxWebhooks {
		// Counted before the create, so two creates at once may pass a full key by one
		// each: a bound on cost, not an exact quota.
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "this key has " + strconv.Itoa(MaxWebhooks) + " webhooks, the sandbox's limit: delete one first"})
		return
	}
	hook, err := c.sb.store.CreateWebhook(r.Context(), store.Webhook{
		Tenant: c.tenant.id, Name: b.Name, URL: b.URL, Secret: newSecret(), Test: c.tenant.test, CreatedAt: c.now, UpdatedAt: c.now,
	})
	if err == nil {
		err = s.scheduleOpen(r.Context(), c.sb, hook, baseURL(r), c.now)
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.reply(w, r, c, map[string]any{"id": hook.ID, "name": hook.Name, "secret": hook.Secret})
}

// handleGetWebhook serves GET /api/v2/orders/webhooks/{webhookId}.
func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request, c *call) {
	if h, ok := s.lookupWebhook(w, r, c); ok {
		s.reply(w, r, c, webhookDetail{ID: h.ID, Name: h.Name, URL: h.URL, Secret: maskSecret(h.Secret), IsActive: true, IsTest: h.Test, CreatedAt: stamp(h.CreatedAt), UpdatedAt: stamp(h.UpdatedAt)})
	}
}

// handleUpdateWebhook serves PUT /api/v2/orders/webhooks/{webhookId}: name and url;
// the secret stays.
func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request, c *call) {
	var b struct {
		Name *string `json:"name"`
		URL  *string `json:"url"`
	}
	if e := decode(r, &b); e != nil {
		s.fail(w, e)
		return
	}
	if b.URL != nil {
		if e := checkURL(*b.URL); e != nil {
			s.fail(w, e)
			return
		}
	}
	if _, ok := s.lookupWebhook(w, r, c); !ok {
		return
	}
	h, err := c.sb.store.UpdateWebhook(r.Context(), c.tenant.id, webhookID(c, "webhookId"), func(h *store.Webhook) error {
		if b.Name != nil {
			h.Name = *b.Name
		}
		if b.URL != nil {
			h.URL = *b.URL
		}
		h.UpdatedAt = c.now
		return nil
	})
	if err != nil {
		s.internal(w, err)
		return
	}
	s.reply(w, r, c, map[string]any{"id": h.ID, "name": h.Name, "url": h.URL, "isActive": true, "updatedAt": stamp(h.UpdatedAt)})
}

// handleDeleteWebhook serves DELETE /api/v2/orders/webhooks/{webhookId}, with its events.
func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, c *call) {
	if _, ok := s.lookupWebhook(w, r, c); !ok {
		return
	}
	if err := c.sb.store.DeleteWebhook(r.Context(), c.tenant.id, webhookID(c, "webhookId")); err != nil {
		s.internal(w, err)
		return
	}
	s.reply(w, r, c, nil)
}

func eventView(e *store.Event) webhookEvent {
	return webhookEvent{ID: e.ID, EventID: e.EventID, EventType: e.EventType, Status: string(e.Status), Retries: max(e.Attempts-1, 0), LastSentAt: stampPtr(e.LastSent), CreatedAt: stamp(e.CreatedAt)}
}

// occurred returns the webhook's events that have happened (not the Scheduled ones,
// whose orders have not ended), newest first.
func (s *Server) occurred(r *http.Request, c *call, id int64) ([]store.Event, error) {
	all, err := c.sb.store.ListEvents(r.Context(), c.tenant.id, id)
	out := all[:0]
	for _, e := range all {
		if e.Status != store.EventScheduled {
			out = append(out, e)
		}
	}
	return out, err
}

// handleListEvents serves GET /api/v2/orders/webhooks/{webhookId}/events.
func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request, c *call) {
	h, ok := s.lookupWebhook(w, r, c)
	if !ok {
		return
	}
	evs, err := s.occurred(r, c, h.ID)
	if err != nil {
		s.internal(w, err)
		return
	}
	views := make([]webhookEvent, len(evs))
	for i := range evs {
		views[i] = eventView(&evs[i])
	}
	page, limit := pageOf(r, 20)
	views, p := paginate(views, page, limit)
	s.reply(w, r, c, map[string]any{"events": views, "pagination": p})
}

type retryAnswer struct {
	EventID    string `json:"event_id"`
	Success    bool   `json:"success"`
	StatusCode *int   `json:"status_code,omitempty"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
}

// handleRetryEvent serves POST .../events/{eventId}/retry: one attempt now, answered
// with its result (so the request lasts as long as the receiver takes, at most the
// delivery timeout).
func (s *Server) handleRetryEvent(w http.ResponseWriter, r *http.Request, c *call) {
	h, ok := s.lookupWebhook(w, r, c)
	if !ok {
		return
	}
	id := webhookID(c, "eventId")
	if e, err := c.sb.store.GetEvent(r.Context(), c.tenant.id, id); err != nil || e.WebhookID != h.ID || e.Status == store.EventScheduled {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internal(w, err)
			return
		}
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeWebhookEventNotFound, detail: "webhook " + strconv.FormatInt(h.ID, 10) + " has no event " + clip(c.params["eventId"])})
		return
	}
	e, res, err := c.sb.deliverer.Retry(r.Context(), c.tenant.id, id)
	switch {
	case errors.Is(err, delivery.ErrNotRetryable):
		s.fail(w, &apiError{status: http.StatusUnprocessableEntity, code: codeEventNotRetryable, detail: "only a FAILED event can be retried; this one is not (see its status in the events list)"})
		return
	case errors.Is(err, store.ErrNotFound):
		// Deleted meanwhile (the webhook, or the key's state by a reset): the retry's
		// attempt has nothing left to record.
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeWebhookEventNotFound, detail: "webhook " + strconv.FormatInt(h.ID, 10) + " or its event " + clip(c.params["eventId"]) + " was deleted while the retry ran"})
		return
	case err != nil:
		s.internal(w, err)
		return
	}
	ans := retryAnswer{EventID: e.EventID, Success: res.OK, Status: string(e.Status)}
	if res.OK {
		ans.StatusCode = &res.StatusCode
	} else {
		ans.Error = res.Error
	}
	s.reply(w, r, c, ans)
}

// handleRetryFailed serves POST .../events/retry-failed: the FAILED events created
// from fromDate to toDate (UTC days, both included, at most 7 days), at most 50, oldest
// first.
func (s *Server) handleRetryFailed(w http.ResponseWriter, r *http.Request, c *call) {
	var b struct {
		FromDate string `json:"fromDate"`
		ToDate   string `json:"toDate"`
	}
	if e := decode(r, &b); e != nil {
		s.fail(w, e)
		return
	}
	h, ok := s.lookupWebhook(w, r, c)
	if !ok {
		return
	}
	from, err1 := time.Parse(time.DateOnly, b.FromDate)
	to, err2 := time.Parse(time.DateOnly, b.ToDate)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 6*24*time.Hour {
		s.fail(w, &apiError{status: http.StatusUnprocessableEntity, code: codeInvalidDateRange, detail: "want fromDate <= toDate, at most 7 days apart (both included)"})
		return
	}
	evs, err := s.occurred(r, c, h.ID)
	if err != nil {
		s.internal(w, err)
		return
	}
	var pick []store.Event
	for i := len(evs) - 1; i >= 0 && len(pick) < delivery.MaxRetryFailed; i-- {
		e := evs[i]
		day := e.CreatedAt.UTC().Truncate(24 * time.Hour)
		if e.Status == store.EventFailed && !day.Before(from) && !day.After(to) {
			pick = append(pick, e)
		}
	}
	ok2, bad := c.sb.deliverer.RetryFailed(r.Context(), c.tenant.id, pick)
	s.reply(w, r, c, map[string]any{"total": len(pick), "succeeded": ok2, "failed": bad})
}

// legacyWebhook returns the tenant's single webhook of the deprecated endpoints.
func (s *Server) legacyWebhook(r *http.Request, c *call) (*store.Webhook, error) {
	hooks, err := c.sb.store.ListWebhooks(r.Context(), c.tenant.id)
	for i := range hooks {
		if hooks[i].Legacy {
			return &hooks[i], err
		}
	}
	return nil, err
}

// handleLegacyWebhook serves the deprecated POST, GET and DELETE /api/v2/orders/webhook:
// one webhook per key, which gets the same deliveries, signed with a secret that is
// never shown (the old endpoints have none to show).
func (s *Server) handleLegacyWebhook(w http.ResponseWriter, r *http.Request, c *call) {
	old, err := s.legacyWebhook(r, c)
	if err != nil {
		s.internal(w, err)
		return
	}
	switch r.Method {
	case http.MethodGet:
		ans := map[string]any{"url": nil, "createdAt": nil}
		if old != nil {
			ans = map[string]any{"url": old.URL, "createdAt": stamp(old.CreatedAt)}
		}
		s.reply(w, r, c, ans)
		return
	case http.MethodPost:
		var b struct {
			URL string `json:"url"`
		}
		if e := decode(r, &b); e != nil {
			s.fail(w, e)
			return
		}
		if e := checkURL(b.URL); e != nil {
			s.fail(w, e)
			return
		}
		if old != nil {
			_, err = c.sb.store.UpdateWebhook(r.Context(), c.tenant.id, old.ID, func(h *store.Webhook) error { h.URL, h.UpdatedAt = b.URL, c.now; return nil })
		} else {
			var hook store.Webhook
			hook, err = c.sb.store.CreateWebhook(r.Context(), store.Webhook{Tenant: c.tenant.id, Name: "legacy", URL: b.URL, Secret: newSecret(), Test: c.tenant.test, Legacy: true, CreatedAt: c.now, UpdatedAt: c.now})
			if err == nil {
				err = s.scheduleOpen(r.Context(), c.sb, hook, baseURL(r), c.now)
			}
		}
	case http.MethodDelete:
		if old != nil {
			err = c.sb.store.DeleteWebhook(r.Context(), c.tenant.id, old.ID)
		}
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.reply(w, r, c, nil)
}
