package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/morimock/morimock/order"
)

// The lifecycle mix: each lifecycle connection plays a run of tenants (one bearer
// token each), and each tenant does whole antiAi flows as a client would (create,
// create again with the same idempotency key, PUT 16 KiB per file, confirm, move its
// clock past the processing time, poll to a final status, download), then lists its
// orders, moves its clock 7 days (every order expired) and 31 more (past the default
// retention, so the sandbox forgets them and memory stays flat). Every answer is held
// to the contract; the invariants are checked as it goes: no order lost or listed
// twice, one order per idempotency key, every observed change of status one that
// order.CanMove allows (several steps between two polls are fine), results that
// download as protected copies of what was uploaded (the same dimensions, other bytes).
// With webhooks (the default), each tenant first registers a webhook at the load
// test's own receiver: every order that completes or fails must arrive there once,
// signed (checked with the public webhook package), with its event type and status,
// and the events endpoint must list each order's event once, SENT, before the tenant
// deletes its webhook.

const (
	flowsPerTenant = 4
	uploadSide     = 80 // px: a JPEG of random pixels this size is about 16 KiB
)

// photo returns a JPEG of random pixels, a real image the sandbox processes.
func photo(r *rand.Rand) []byte {
	m := image.NewRGBA(image.Rect(0, 0, uploadSide, uploadSide))
	for y := 0; y < uploadSide; y++ {
		for x := 0; x < uploadSide; x++ {
			v := r.Uint32()
			m.Set(x, y, color.RGBA{uint8(v), uint8(v >> 8), uint8(v >> 16), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}) // writing to memory cannot fail
	return b.Bytes()
}

// lifecycle is one connection's run of tenants.
type lifecycle struct {
	l      *load
	client *http.Client
	r      *rand.Rand
	t      *tally
	worker int
}

// tenantHook is a tenant's webhook: its name at the receiver and its id at the sandbox
// (0 when the run has no receiver).
type tenantHook struct {
	name string
	id   int64
}

// eventsPath lists a webhook's events.
func eventsPath(webhookID int64) string {
	return fmt.Sprintf("/api/v2/orders/webhooks/%d/events?limit=100", webhookID)
}

// flowError is a broken invariant or contract; the tenant's run stops there.
type flowError struct{ kind, detail string }

func (e *flowError) Error() string { return e.kind + ": " + e.detail }

func broke(kind, format string, args ...any) error {
	return &flowError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

func (lc *lifecycle) run(ctx, runCtx context.Context) {
	// A tenant started is played to its end after the load's time is up (within
	// finishGrace), so that every run, however slow the machine, checks whole flows
	// instead of cutting the last ones off; only ctx (the whole test's) ends it early.
	flowCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(runCtx, func() { time.AfterFunc(finishGrace, cancel) })
	defer stop()
	for n := 0; runCtx.Err() == nil; n++ {
		token := fmt.Sprintf("sk_live_loadtest_%d_%d_%d", lc.l.o.seed, lc.worker, n)
		if lc.r.IntN(4) == 0 {
			token = fmt.Sprintf("sk_test_loadtest_%d_%d_%d", lc.l.o.seed, lc.worker, n)
		}
		err := lc.tenant(flowCtx, runCtx, token, fmt.Sprintf("%d-%d", lc.worker, n))
		if err == nil || flowCtx.Err() != nil {
			continue
		}
		if fe, ok := err.(*flowError); ok {
			lc.t.fail(lc.t.contract, "lifecycle", fe.kind, fe.detail)
		} else {
			lc.t.transport++
			lc.t.fail(nil, "lifecycle", "no answer", err.Error())
		}
	}
}

// finishGrace bounds how long a tenant's run goes on after the load's time is up.
const finishGrace = time.Minute

// answer is one response, read whole.
type answer struct {
	status int
	body   []byte
	header http.Header
}

// do sends one request, times it, and holds the answer to the contract when its
// route is in openapi.yaml. want lists the statuses the step allows.
func (lc *lifecycle) do(ctx context.Context, method, target, token string, body []byte, contentType string, want ...int) (answer, error) {
	if !strings.HasPrefix(target, "http") {
		target = "http://" + lc.l.o.addr + target
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return answer{}, broke("bad URL from the sandbox", "%s %s: %v", method, target, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	start := time.Now()
	res, err := lc.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return answer{}, err
	}
	lc.t.latencies = append(lc.t.latencies, time.Since(start))
	lc.t.statuses[res.StatusCode]++
	a := answer{status: res.StatusCode, body: got, header: res.Header}
	path := req.URL.Path
	if !containsInt(want, res.StatusCode) {
		return a, broke("unexpected status", "%s %s = %d %s; want %v", method, path, res.StatusCode, clip(got), want)
	}
	if route, params, err := lc.l.spec.FindRoute(req); err == nil && res.Header.Get("Content-Type") != "application/xml" {
		if err := lc.l.spec.ValidateResponse(ctx, req, route, params, res.StatusCode, res.Header, got); err != nil {
			return a, broke("answer breaks openapi.yaml", "%s %s = %d: %v", method, path, res.StatusCode, err)
		}
		// The order's clock is its tenant's, not the Date header's: no CheckOptions.Now.
		if method == http.MethodGet && route.Operation.OperationID == "getOrder" && res.StatusCode == http.StatusOK {
			if vs := order.CheckResponse(got, order.CheckOptions{OrderID: params["orderId"]}); len(vs) > 0 {
				return a, broke("order breaks the rules", "GET %s: %v", path, vs)
			}
		}
	}
	return a, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func (lc *lifecycle) json(ctx context.Context, method, target, token string, in, out any, want ...int) (answer, error) {
	var body []byte
	ct := ""
	if in != nil {
		body, _ = json.Marshal(in)
		ct = "application/json"
	}
	a, err := lc.do(ctx, method, target, token, body, ct, want...)
	if err != nil || out == nil || a.status != http.StatusOK {
		return a, err
	}
	env := struct{ Data any }{Data: out}
	if err := json.Unmarshal(a.body, &env); err != nil {
		return a, broke("answer is not the JSON the contract says", "%s %s: %v", method, target, err)
	}
	return a, nil
}

// tracked is what the tenant knows of one of its orders.
type tracked struct {
	id     string
	key    string // idempotency key
	last   order.Status
	fail   bool
	upload []byte
	event  string // the eventId of its delivery
}

// observe checks that the order may have gone from what was seen last to st.
func (o *tracked) observe(st order.Status) error {
	if st != o.last && !reachable(o.last, st) {
		return broke("illegal transition", "order %s went %s -> %s", o.id, o.last, st)
	}
	o.last = st
	return nil
}

// reachable reports whether an order can go from one status to another in one or
// more steps that order.CanMove allows: a poll may miss the steps between.
func reachable(from, to order.Status) bool {
	seen := map[order.Status]bool{from: true}
	todo := []order.Status{from}
	for len(todo) > 0 {
		s := todo[0]
		todo = todo[1:]
		for _, n := range order.Statuses() {
			if order.CanMove(s, n) && !seen[n] {
				if n == to {
					return true
				}
				seen[n] = true
				todo = append(todo, n)
			}
		}
	}
	return false
}

type createdOrder struct {
	OrderID string `json:"orderId"`
	Status  string `json:"status"`
	Files   []struct {
		UploadURL string `json:"uploadUrl"`
	} `json:"files"`
}

// tenant plays one tenant's whole life; hook names its webhook at the receiver. It
// starts no flow but the first after runCtx ends.
func (lc *lifecycle) tenant(ctx, runCtx context.Context, token, hook string) error {
	live := strings.HasPrefix(token, "sk_live_")
	wh := tenantHook{name: hook}
	if rc := lc.l.recv; rc != nil {
		var created struct {
			ID     int64  `json:"id"`
			Secret string `json:"secret"`
		}
		if _, err := lc.json(ctx, http.MethodPost, "/api/v2/orders/webhooks", token, map[string]string{"name": "loadtest " + hook, "url": rc.url + "/hook/" + hook}, &created, 200); err != nil {
			return err
		}
		wh.id = created.ID
		rc.register(hook, created.Secret)
		defer rc.forget(hook)
	}
	var orders []*tracked
	for f := 0; f < flowsPerTenant && (f == 0 || runCtx.Err() == nil); f++ {
		o, err := lc.flow(ctx, token, wh, f, live)
		if err != nil {
			return err
		}
		lc.t.flows++
		orders = append(orders, o)
	}
	if wh.id != 0 {
		if err := lc.events(ctx, token, wh.id, orders); err != nil {
			return err
		}
		if _, err := lc.do(ctx, http.MethodDelete, fmt.Sprintf("/api/v2/orders/webhooks/%d", wh.id), token, nil, "", 200); err != nil {
			return err
		}
	}
	// Every order is listed exactly once.
	if err := lc.listed(ctx, token, orders, len(orders)); err != nil {
		return err
	}
	// Seven days on, every order is expired and says so.
	if _, err := lc.json(ctx, http.MethodPost, "/_morimock/clock", token, map[string]string{"advance": "7d"}, nil, 200); err != nil {
		return err
	}
	for _, o := range orders {
		var d struct{ Status order.Status }
		if _, err := lc.json(ctx, http.MethodGet, "/api/v2/orders/"+o.id, token, nil, &d, 200); err != nil {
			return err
		}
		if err := o.observe(d.Status); err != nil {
			return err
		}
		if d.Status != order.Expired {
			return broke("order not expired", "order %s 7 days on: %s", o.id, d.Status)
		}
	}
	// Past the retention window the sandbox forgets them: none is listed.
	if _, err := lc.json(ctx, http.MethodPost, "/_morimock/clock", token, map[string]string{"advance": "31d"}, nil, 200); err != nil {
		return err
	}
	return lc.listed(ctx, token, nil, 0)
}

// listed checks the tenant's list: exactly the orders given, each once.
func (lc *lifecycle) listed(ctx context.Context, token string, orders []*tracked, total int) error {
	var list struct {
		Orders []struct {
			OrderID string `json:"orderId"`
		} `json:"orders"`
		PageInfo struct {
			TotalItems int `json:"totalItems"`
		} `json:"pageInfo"`
	}
	if _, err := lc.json(ctx, http.MethodGet, "/api/v2/orders?limit=100", token, nil, &list, 200); err != nil {
		return err
	}
	seen := map[string]int{}
	for _, o := range list.Orders {
		seen[o.OrderID]++
	}
	for _, o := range orders {
		if seen[o.id] != 1 {
			return broke("order lost or listed twice", "order %s listed %d times", o.id, seen[o.id])
		}
	}
	if list.PageInfo.TotalItems != total || len(list.Orders) != total {
		return broke("list holds other orders", "%d listed (total %d); want %d", len(list.Orders), list.PageInfo.TotalItems, total)
	}
	return nil
}

// events checks the webhook's event log: one event per order, each the one its
// delivery carried, each SENT once. The sandbox records an attempt's result just
// after the receiver answers, so a PENDING there is read again a few times.
func (lc *lifecycle) events(ctx context.Context, token string, webhookID int64, orders []*tracked) error {
	want := map[string]string{} // eventId: order
	for _, o := range orders {
		want[o.event] = o.id
	}
	for try := 0; ; try++ {
		var page struct {
			Events []struct {
				EventID string `json:"eventId"`
				Status  string `json:"status"`
			} `json:"events"`
		}
		if _, err := lc.json(ctx, http.MethodGet, eventsPath(webhookID), token, nil, &page, 200); err != nil {
			return err
		}
		seen := map[string]int{}
		settled := true
		for _, e := range page.Events {
			if seen[e.EventID]++; seen[e.EventID] > 1 {
				return broke("webhook event listed twice", "webhook %d: event %s listed %d times", webhookID, e.EventID, seen[e.EventID])
			}
			if _, ok := want[e.EventID]; !ok {
				return broke("webhook event for no order", "webhook %d: event %s (%s) is no delivered order's", webhookID, e.EventID, e.Status)
			}
			settled = settled && e.Status == "SENT"
		}
		if settled && len(page.Events) == len(want) {
			lc.t.sent += len(page.Events)
			return nil
		}
		if try == 20 {
			return broke("webhook events not all SENT", "webhook %d: %d events %+v; want %d, each SENT once", webhookID, len(page.Events), page.Events, len(want))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(10*time.Millisecond<<min(try, 6), 500*time.Millisecond)):
		}
	}
}

// flow is one whole antiAi order.
func (lc *lifecycle) flow(ctx context.Context, token string, hook tenantHook, f int, live bool) (*tracked, error) {
	o := &tracked{key: fmt.Sprintf("lt-%d", f), fail: lc.r.IntN(8) == 0}
	nFiles := 1 + lc.r.IntN(2)
	var names []map[string]string
	for i := 0; i < nFiles; i++ {
		name := fmt.Sprintf("photo%d.jpg", i)
		if o.fail && i == 0 {
			name = "photo_fail.jpg"
		}
		names = append(names, map[string]string{"fileName": name})
	}
	create := map[string]any{"idempotencyKey": o.key, "files": names}
	var c createdOrder
	if _, err := lc.json(ctx, http.MethodPost, "/api/v2/orders/anti-ai", token, create, &c, 200); err != nil {
		return nil, err
	}
	o.id, o.last = c.OrderID, order.Status(c.Status)
	if o.last != order.Pending || len(c.Files) != nFiles {
		return nil, broke("create answer", "order %s: status %s, %d files; want pending, %d", o.id, c.Status, len(c.Files), nFiles)
	}
	// The same idempotency key makes no second order.
	var again createdOrder
	if _, err := lc.json(ctx, http.MethodPost, "/api/v2/orders/anti-ai", token, create, &again, 200); err != nil {
		return nil, err
	}
	if again.OrderID != o.id {
		return nil, broke("duplicate order for one idempotency key", "key %s made %s and %s", o.key, o.id, again.OrderID)
	}
	o.upload = photo(lc.r)
	for _, file := range c.Files {
		if _, err := lc.do(ctx, http.MethodPut, file.UploadURL, "", o.upload, "image/jpeg", 200); err != nil {
			return nil, err
		}
	}
	var conf struct{ Status order.Status }
	if _, err := lc.json(ctx, http.MethodPost, "/api/v2/orders/anti-ai/confirm", token, map[string]string{"idempotencyKey": "c-" + o.key, "orderId": o.id}, &conf, 200); err != nil {
		return nil, err
	}
	if err := o.observe(conf.Status); err != nil {
		return nil, err
	}
	// Move the clock past the processing time, then poll to a final status.
	if _, err := lc.json(ctx, http.MethodPost, "/_morimock/clock", token, map[string]string{"advance": lc.l.o.advance}, nil, 200); err != nil {
		return nil, err
	}
	for poll := 0; ; poll++ {
		var d struct{ Status order.Status }
		if _, err := lc.json(ctx, http.MethodGet, "/api/v2/orders/"+o.id, token, nil, &d, 200); err != nil {
			return nil, err
		}
		if err := o.observe(d.Status); err != nil {
			return nil, err
		}
		if d.Status == order.Complete || d.Status == order.Failed {
			break
		}
		if poll == 40 {
			return nil, broke("order never finished", "order %s still %s after the clock moved %s 40 times", o.id, d.Status, lc.l.o.advance)
		}
		// Its files are made off the request path, in real time: wait a little (at
		// most 500 ms a poll, about 15 s in all) as a client polling with backoff does.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(10*time.Millisecond<<min(poll, 6), 500*time.Millisecond)):
		}
		if _, err := lc.json(ctx, http.MethodPost, "/_morimock/clock", token, map[string]string{"advance": lc.l.o.advance}, nil, 200); err != nil {
			return nil, err
		}
	}
	if (o.last == order.Failed) != o.fail {
		return nil, broke("outcome", "order %s with _fail=%v ended %s", o.id, o.fail, o.last)
	}
	if err := lc.delivered(ctx, token, hook, o); err != nil {
		return nil, err
	}
	dl := "/api/v2/orders/" + o.id + "/download"
	switch {
	case o.fail:
		_, err := lc.do(ctx, http.MethodGet, dl, token, nil, "", 400)
		return o, err
	case !live:
		_, err := lc.do(ctx, http.MethodGet, dl, token, nil, "", 404)
		return o, err
	}
	var link struct {
		DownloadURL string `json:"downloadUrl"`
	}
	if _, err := lc.json(ctx, http.MethodGet, dl, token, nil, &link, 200); err != nil {
		return nil, err
	}
	a, err := lc.do(ctx, http.MethodGet, link.DownloadURL, "", nil, "", 200)
	if err != nil {
		return nil, err
	}
	if nFiles == 1 {
		if err := protectedCopy(a.body, o.upload); err != nil {
			return nil, broke("download is not a protected copy of the upload", "order %s: %v", o.id, err)
		}
	} else {
		zr, err := zip.NewReader(bytes.NewReader(a.body), int64(len(a.body)))
		if err != nil || len(zr.File) != nFiles {
			return nil, broke("download is not a zip of every file", "order %s: %d bytes, %d files (%v); want %d files", o.id, len(a.body), len(zipFiles(zr)), err, nFiles)
		}
	}
	return o, nil
}

// delivered waits for the order's webhook delivery at the receiver, which has checked
// its signature, and checks what it says: event type and status.
func (lc *lifecycle) delivered(ctx context.Context, token string, hook tenantHook, o *tracked) error {
	rc := lc.l.recv
	if rc == nil {
		return nil
	}
	d, err := rc.await(ctx, hook.name, o.id, deliveryWait)
	if errors.Is(err, errNoDelivery) {
		started := time.Now() // of the wait past deliveryWait
		log := lc.eventLog(ctx, token, hook.id)
		// How late: whether it comes at all, and after how long, tells a slow
		// machine from an event the deliverer put off or lost.
		arrival := fmt.Sprintf("none within %s more", lateWait)
		if _, err := rc.await(ctx, hook.name, o.id, lateWait); err == nil {
			arrival = fmt.Sprintf("it arrived %s after the order ended", (deliveryWait + time.Since(started)).Round(100*time.Millisecond))
		}
		return broke("webhook not delivered", "order %s ended %s; no signed delivery within %s (%s); %s", o.id, o.last, deliveryWait, arrival, log)
	}
	if err != nil {
		return err
	}
	outcome := "completed"
	if o.last == order.Failed {
		outcome = "failed"
	}
	if d.EventType != "order.antiAi."+outcome || d.Data.Status != string(o.last) || d.EventID == "" {
		return broke("webhook delivery says otherwise", "order %s ended %s; delivered %+v", o.id, o.last, d)
	}
	o.event = d.EventID
	lc.t.delivered++
	return nil
}

// eventLog describes the tenant's webhook events as the sandbox lists them, for the
// report of a late delivery: whether the event is still to come, retried or sent
// (tally.fail bounds how much of it the report keeps).
func (lc *lifecycle) eventLog(ctx context.Context, token string, webhookID int64) string {
	a, err := lc.do(ctx, http.MethodGet, eventsPath(webhookID), token, nil, "", 200)
	if err != nil {
		return fmt.Sprintf("its events could not be listed: %v", err)
	}
	return "its webhook's events then: " + string(a.body)
}

// lateWait is how much longer a late delivery is waited for, to report its delay.
const lateWait = time.Minute

// deliveryWait bounds the real time between an order's end and its delivery: the
// sandbox makes it at once, off the request path, but a loaded machine is slow.
const deliveryWait = 15 * time.Second

// protectedCopy checks that got is the anti-AI copy of sent: an image of the same
// dimensions with other bytes (the sandbox perturbs every pixel imperceptibly).
func protectedCopy(got, sent []byte) error {
	g, _, err := image.DecodeConfig(bytes.NewReader(got))
	if err != nil {
		return fmt.Errorf("not an image: %w", err)
	}
	w, _, _ := image.DecodeConfig(bytes.NewReader(sent))
	if g.Width != w.Width || g.Height != w.Height {
		return fmt.Errorf("%dx%d back, %dx%d sent", g.Width, g.Height, w.Width, w.Height)
	}
	if bytes.Equal(got, sent) {
		return fmt.Errorf("the upload came back unprotected")
	}
	return nil
}

func zipFiles(zr *zip.Reader) []*zip.File {
	if zr == nil {
		return nil
	}
	return zr.File
}
