package contract

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// SignatureHeader carries a delivery's signature: lowercase hex HMAC-SHA256 of the raw
// body, keyed with the webhook's secret (facts §5, §11).
const SignatureHeader = "X-MoriBiz-Signature"

// maxDelivery bounds what the receiver reads of one delivery.
const maxDelivery = 1 << 20

// delivery is one POST the receiver got.
type delivery struct {
	body []byte
	sig  string
}

// hook is a temporary test webhook: the receiver the suite listens with, and what the
// server registered for it. Its secret never leaves this struct.
type hook struct {
	srv    *http.Server
	id     string
	secret string

	mu  sync.Mutex
	got []delivery
}

// startWebhook listens on Config.WebhookListen and registers Config.WebhookPublicURL
// as a webhook. It returns nil (with the webhook check skipped) when no listener was
// asked for or the server has no webhook endpoints.
func (r *runner) startWebhook(ctx context.Context) (*hook, error) {
	base := Result{Request: "POST " + webhooksPath}
	if r.cfg.WebhookListen == "" {
		r.add(base, CheckLifeWebhook, nil, "no --webhook-listen and --webhook-public-url: webhook deliveries not checked")
		return nil, nil
	}
	ln, err := net.Listen("tcp", r.cfg.WebhookListen)
	if err != nil {
		return nil, fmt.Errorf("webhook listener: %w", err)
	}
	h := &hook{}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	// It ends when close shuts the server down.
	go func() { _ = h.srv.Serve(ln) }()

	name := "morimock-check-" + r.runID
	body, _ := json.Marshal(map[string]string{"name": name, "url": r.cfg.WebhookPublicURL})
	req, resp, err := r.post(ctx, webhooksPath, body)
	if err != nil {
		h.shutdown()
		return nil, err
	}
	if noWebhooks(resp) {
		h.shutdown()
		r.add(base, CheckLifeWebhook, nil, fmt.Sprintf("the server answered %d to POST %s: it has no webhook endpoints (yet), so deliveries are not checked", resp.status, webhooksPath))
		return nil, nil
	}
	fs := r.answerFindings(req, resp, http.StatusOK)
	var env struct {
		Data struct {
			ID     json.Number `json:"id"`
			Secret string      `json:"secret"`
		} `json:"data"`
	}
	_ = json.Unmarshal(resp.body, &env)
	h.id, h.secret = env.Data.ID.String(), env.Data.Secret
	if resp.status != http.StatusOK || h.secret == "" || checkOrderID(h.id) != nil {
		if len(fs) == 0 {
			fs = append(fs, Finding{Rule: "webhook_create", Path: "$.data", Message: "the webhook create answered no id or secret", Want: "{id, name, secret}", Got: "absent", Fix: "answer the webhook's id and its signing secret (facts §5)"})
		}
		r.add(base, CheckLifeWebhook, fs, "")
		h.shutdown()
		return nil, nil
	}
	r.add(base, CheckLifeWebhook, fs, "")
	return h, nil
}

func (h *hook) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxDelivery))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, delivery{body: body, sig: req.Header.Get(SignatureHeader)})
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

func (h *hook) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = h.srv.Shutdown(ctx)
}

// close deletes the webhook, also when the run was interrupted, and stops listening.
func (h *hook) close(r *runner) {
	defer h.shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), r.c.timeout)
	defer cancel()
	req := request{method: http.MethodDelete, path: webhooksPath + "/" + h.id, auth: authToken}
	resp, err := r.c.do(ctx, req)
	base := Result{Request: req.String(), Scenario: "cleanup"}
	switch {
	case err != nil:
		r.add(base, CheckLifeWebhook, []Finding{{Rule: "webhook_delete", Path: "status", Message: "the test webhook could not be deleted: " + err.Error(), Want: "200", Got: "no answer", Fix: "delete webhook " + h.id + " by hand"}}, "")
	case resp.status != http.StatusOK:
		r.add(base, CheckLifeWebhook, []Finding{{Rule: "webhook_delete", Path: "status", Message: fmt.Sprintf("DELETE of the test webhook answered %d", resp.status), Want: "200", Got: strconv.Itoa(resp.status), Fix: "delete webhook " + h.id + " by hand"}}, "")
	default:
		r.add(base, CheckLifeWebhook, nil, "")
	}
}

// verify waits (bounded) for a signed event of each order's end and checks it. When
// ctx ends during the wait (the run was interrupted or ran out of time), an order
// whose event has not come yet is not a finding: its check is recorded as not run,
// and ctx's error ends the run as stopped.
func (h *hook) verify(ctx context.Context, r *runner, orders []lifeOrder) error {
	wait := r.cfg.WebhookWait
	if wait <= 0 {
		wait = 15 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		if all(orders, func(o lifeOrder) bool { _, ok := h.find(o.id); return ok }) || time.Now().After(deadline) || sleep(ctx, 50*time.Millisecond) != nil {
			break
		}
	}
	cut := ctx.Err()
	for _, o := range orders {
		base := Result{OrderID: o.id, Scenario: o.flow.scenario(), Request: "POST " + r.cfg.WebhookPublicURL}
		d, ok := h.find(o.id)
		switch {
		case !ok && cut != nil:
			r.add(base, CheckLifeWebhook, nil, "not run: the run stopped while waiting for this order's event")
		case !ok:
			r.add(base, CheckLifeWebhook, []Finding{{Rule: "webhook_event", Path: "$.data.orderId", Message: fmt.Sprintf("no event for order %s reached the webhook within %s", o.id, wait), Want: "an event", Got: "none", Fix: "deliver order.<type>.completed or .failed to every active webhook (facts §5)"}}, "")
		default:
			r.add(base, CheckLifeWebhook, eventFindings(d, h.secret, o), "")
		}
	}
	if cut != nil {
		r.add(Result{Request: "GET " + webhooksPath + "/" + h.id + "/events", Scenario: "lifecycle webhook"}, CheckWebhooksRead, nil, "not run: the run stopped before the webhook's event log was read")
		return cut
	}
	h.readEvents(ctx, r)
	return ctx.Err()
}

// readEvents reads the temporary webhook's event log before it is deleted: the one
// webhook whose events the run knows exist. Every delivery the receiver answered 2xx
// must be listed once, SENT; the server records an attempt just after its answer, so
// a read that finds one not SENT yet is made again (at most three in all).
func (h *hook) readEvents(ctx context.Context, r *runner) {
	sent := map[string]bool{}
	for _, d := range h.deliveries() {
		var e struct {
			EventID string `json:"eventId"`
		}
		if json.Unmarshal(d.body, &e) == nil && e.EventID != "" {
			sent[e.EventID] = true
		}
	}
	req := request{method: http.MethodGet, path: webhooksPath + "/" + h.id + "/events", auth: authToken, query: url.Values{"limit": {"100"}}}
	base := Result{Request: req.String(), Scenario: "lifecycle webhook"}
	for try := 1; ; try++ {
		resp, err := r.send(ctx, req)
		if err != nil {
			return // the run's error is reported where it ends
		}
		if noWebhooks(resp) {
			r.add(base, CheckWebhooksRead, nil, fmt.Sprintf("the server answered %d: it has no webhook events endpoint (yet)", resp.status))
			return
		}
		fs := r.answerFindings(req, resp, http.StatusOK)
		var page struct {
			Data struct {
				Events []struct {
					EventID string `json:"eventId"`
					Status  string `json:"status"`
				} `json:"events"`
			} `json:"data"`
		}
		if len(fs) == 0 && json.Unmarshal(resp.body, &page) == nil {
			listed := map[string]int{}
			for _, e := range page.Data.Events {
				if sent[e.EventID] && e.Status == "SENT" {
					listed[e.EventID]++
				}
			}
			for id := range sent {
				if listed[id] != 1 {
					fs = append(fs, Finding{Rule: "webhook_event_log", Path: "$.data.events", Message: fmt.Sprintf("event %s, delivered and answered 204, is listed SENT %d times", id, listed[id]), Want: "once, SENT", Got: strconv.Itoa(listed[id]), Fix: "list each event once with the status of its last attempt (facts §3 row 15)"})
				}
			}
		}
		if len(fs) == 0 || try == 3 {
			r.add(base, CheckWebhooksRead, fs, "")
			return
		}
		if sleep(ctx, time.Second) != nil {
			return
		}
	}
}

func all(os []lifeOrder, f func(lifeOrder) bool) bool {
	for _, o := range os {
		if !f(o) {
			return false
		}
	}
	return true
}

// event is the part of a delivery the suite reads.
type event struct {
	EventType string `json:"eventType"`
	Data      struct {
		OrderID string `json:"orderId"`
		Status  string `json:"status"`
	} `json:"data"`
}

// find returns the delivery of order id's terminal event.
func (h *hook) find(id string) (delivery, bool) {
	for _, d := range h.deliveries() {
		var e event
		if json.Unmarshal(d.body, &e) == nil && e.Data.OrderID == id {
			return d, true
		}
	}
	return delivery{}, false
}

// eventFindings: the signature is the hex HMAC-SHA256 of the raw body with the secret,
// and the event names the order's type and end.
func eventFindings(d delivery, secret string, o lifeOrder) []Finding {
	var fs []Finding
	if !validSignature(d.body, d.sig, secret) {
		got := "absent"
		if d.sig != "" {
			got = "a signature that does not match"
		}
		fs = append(fs, Finding{Rule: "webhook_signature", Path: SignatureHeader, Message: "the delivery's signature is not the hex HMAC-SHA256 of its raw body with the webhook's secret", Want: "hex HMAC-SHA256(secret, raw body)", Got: got, Fix: "sign the exact bytes sent (facts §5, §11; contradiction C10)"})
	}
	var e event
	_ = json.Unmarshal(d.body, &e)
	verb := "completed"
	if o.end == "failed" {
		verb = "failed"
	}
	if want := "order." + string(o.flow.typ) + "." + verb; e.EventType != want {
		fs = append(fs, Finding{Rule: "webhook_event", Path: "$.eventType", Message: "the event does not name the order's type and end", Want: want, Got: e.EventType, Fix: "send order.<type>.completed or .failed (facts §5)"})
	}
	return fs
}

// validSignature compares in constant time. It is written here rather than calling
// the sandbox's public webhook package on purpose: the suite judges the sandbox too,
// and a check that shared its code would agree with any bug in it.
func validSignature(body []byte, sig, secret string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

var errWebhookFlags = errors.New("give both --webhook-listen and --webhook-public-url, or neither")
