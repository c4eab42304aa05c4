package contract

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock/order"
)

// InconclusiveError ends a run that could not judge the API: the account's test
// environment does not keep test orders (the vendor's legacy test mode), so the flow
// cannot be followed. It is neither a pass nor a failure.
type InconclusiveError struct{ Reason string }

func (e *InconclusiveError) Error() string { return "inconclusive: " + e.Reason }

// testKeyPrefix is the prefix of the vendor's test keys, the only keys --lifecycle
// writes with (facts §9, §11).
const testKeyPrefix = "sk_test_"

// LifecycleKeyError refuses --lifecycle with any key but a test key, before anything
// is sent.
var LifecycleKeyError = errors.New("--lifecycle creates orders and writes only with a test key (sk_test_...): a live key would create real, billed orders. Give the account's test key with --token or BIZMORI_API_TOKEN (any sk_test_ token works against morimock)")

// sunset is when the v2 watermark creates end (facts §11).
var sunset = time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)

// flow is one run of an order type's documented flow, its outcome picked by the file
// name as the test keys' convention says (facts §11).
type flow struct {
	typ      order.Type
	variant  string // "default", "_ai", ...
	want     order.Status
	prob     *float64          // aiDetection: the probability the name asks for
	code     *order.StatusCode // watermarkExtract and aiDetection: the result
	first    bool              // the type's first flow also checks idempotency and misuse
	canFetch bool              // the type has a result file to download
}

func (f flow) fileName() string {
	if f.variant == "default" {
		return "morimock-check.png"
	}
	return "morimock-check" + f.variant + ".png"
}

func (f flow) scenario() string { return string(f.typ) + " " + f.variant }

func lifecycleFlows() []flow {
	p := func(v float64) *float64 { return &v }
	c := func(s order.StatusCode) *order.StatusCode { return &s }
	ai, human := order.StatusCodeFor(order.ProbabilityAI), order.StatusCodeFor(order.ProbabilityHuman)
	def := order.StatusCodeFor(order.ProbabilityDefault)
	return []flow{
		{typ: order.AntiAI, variant: "default", want: order.Complete, first: true, canFetch: true},
		{typ: order.AntiAI, variant: "_fail", want: order.Failed, canFetch: true},
		{typ: order.WatermarkEmbed, variant: "default", want: order.Complete, first: true, canFetch: true},
		{typ: order.WatermarkEmbed, variant: "_fail", want: order.Failed, canFetch: true},
		{typ: order.WatermarkExtract, variant: "default", want: order.Complete, code: c(order.Undetected), first: true},
		{typ: order.WatermarkExtract, variant: "_detected", want: order.Complete, code: c(order.Detected)},
		{typ: order.WatermarkExtract, variant: "_undetected", want: order.Complete, code: c(order.Undetected)},
		{typ: order.WatermarkExtract, variant: "_fail", want: order.Failed},
		{typ: order.AIDetection, variant: "default", want: order.Complete, prob: p(order.ProbabilityDefault), code: c(def), first: true},
		{typ: order.AIDetection, variant: "_ai", want: order.Complete, prob: p(order.ProbabilityAI), code: c(ai)},
		{typ: order.AIDetection, variant: "_human", want: order.Complete, prob: p(order.ProbabilityHuman), code: c(human)},
		{typ: order.AIDetection, variant: "_fail", want: order.Failed},
	}
}

// createPath and confirmPath are the documented endpoints of each type (facts §3).
func createPath(t order.Type) string {
	switch t {
	case order.AntiAI:
		return "/api/v2/orders/anti-ai"
	case order.WatermarkEmbed:
		return "/api/v2/orders/wtr-embed"
	case order.WatermarkExtract:
		return "/api/v2/orders/wtr-extract"
	}
	return "/api/v2/orders/ai-detection"
}

func confirmPath(t order.Type) string {
	switch t {
	case order.AntiAI:
		return "/api/v2/orders/anti-ai/confirm"
	case order.AIDetection:
		return "/api/v2/orders/ai-detection/confirm"
	}
	return ""
}

func createBody(t order.Type, key, name string) []byte {
	var v any
	switch t {
	case order.AntiAI:
		v = map[string]any{"idempotencyKey": key, "files": []any{map[string]any{"fileName": name}}}
	case order.WatermarkEmbed:
		v = map[string]any{"idempotencyKey": key, "files": []any{map[string]any{"fileName": name, "watermarks": []any{map[string]any{"text": "MORIMOCK-CHECK"}}}}}
	case order.WatermarkExtract:
		v = map[string]any{"idempotencyKey": key, "file": map[string]any{"fileName": name}}
	default:
		v = map[string]any{"idempotencyKey": key, "fileName": name}
	}
	b, _ := json.Marshal(v)
	return b
}

// tinyPNG is the image every flow uploads: 32 x 32 generated pixels of one colour,
// the fewest a watermark embed of MORIMOCK-CHECK fits in comfortably (an image too
// small to carry its watermark fails its embed order).
func tinyPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.NRGBA{R: 0x4a, G: 0x90, B: 0xd9, A: 0xff}), image.Point{}, draw.Src)
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// created is what a create answered.
type created struct {
	id, uploadURL string
	status        order.Status
}

func parseCreated(body []byte) created {
	var env struct {
		Data struct {
			OrderID string `json:"orderId"`
			Status  string `json:"status"`
			Files   []struct {
				UploadURL string `json:"uploadUrl"`
			} `json:"files"`
			File struct {
				UploadURL string `json:"uploadUrl"`
			} `json:"file"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	c := created{id: env.Data.OrderID, uploadURL: env.Data.File.UploadURL, status: order.Status(env.Data.Status)}
	if len(env.Data.Files) > 0 {
		c.uploadURL = env.Data.Files[0].UploadURL
	}
	return c
}

// lifeOrder is an order a flow follows, for the webhook check at the end.
type lifeOrder struct {
	flow flow
	id   string
	end  order.Status
}

// lifecycle runs every flow. It needs a test key (checked by Run before anything is
// sent).
func (r *runner) lifecycle(ctx context.Context) error {
	clock := r.sandboxClock(ctx)
	if clock != nil {
		// The key's clock is the sandbox's real clock plus an offset: give it back as
		// found, the time the run took later. The monotonic reading of time.Now
		// measures that time, whatever the two machines' clocks say.
		found, read := *clock, time.Now()
		defer func() { r.restoreClock(found.Add(time.Since(read))) }()
	}
	flows := lifecycleFlows()
	r.report.Budget = lifecycleBudget(len(flows), r.maxPolls(), r.cfg.WebhookListen != "")
	if r.cfg.Progress != nil {
		wait := time.Duration(r.report.Budget) * r.c.interval
		fmt.Fprintf(r.cfg.Progress, "lifecycle: at most %d requests (%d flows), about %s at the rate limit; test key only\n", r.report.Budget, len(flows), wait.Round(time.Second))
	}
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	r.runID = hex.EncodeToString(run)
	hook, err := r.startWebhook(ctx)
	if err != nil {
		return err
	}
	if hook != nil {
		// Deleted also when ctx ends: close uses a context of its own.
		defer hook.close(r)
	}

	now := r.serverNow(clock)
	if !now.Before(sunset) {
		for _, t := range []order.Type{order.WatermarkEmbed, order.WatermarkExtract} {
			if err := r.checkSunset(ctx, t); err != nil {
				return err
			}
		}
		if clock != nil {
			// The sandbox's clock can go back before the sunset: run those flows too.
			if err := r.setClock(ctx, map[string]string{"set": sunset.Add(-14 * 24 * time.Hour).Format(time.RFC3339)}); err != nil {
				return err
			}
			now = sunset.Add(-14 * 24 * time.Hour)
		}
	}
	var orders []lifeOrder
	for _, f := range flows {
		if (f.typ == order.WatermarkEmbed || f.typ == order.WatermarkExtract) && !now.Before(sunset) {
			r.skipFlow(f, "the v2 watermark creates ended on 2026-10-09 (410 WATERMARK_V2_API_SUNSET, checked above)")
			continue
		}
		o, err := r.runFlow(ctx, f, clock != nil)
		if err != nil {
			return err
		}
		if o != nil {
			orders = append(orders, *o)
		}
	}
	if hook != nil {
		return hook.verify(ctx, r, orders)
	}
	return nil
}

// maxPolls bounds the GETs that wait for one order to end. The sandbox gets more,
// each a short real-time wait after a clock move (about 15 s in all): its orders end
// on the moved clock once their files are made, and a busy machine makes them slowly.
func (r *runner) maxPolls() int {
	switch {
	case r.cfg.MaxPolls > 0:
		return r.cfg.MaxPolls
	case r.sandbox:
		return 40
	}
	return 8
}

func lifecycleBudget(flows, polls int, webhook bool) int {
	// create, idempotent create, upload, confirm, misuse (up to 5), polls, download.
	n := flows*(5+polls) + 2*7 + 2
	if webhook {
		n += 2 + 3 // create and delete; up to three reads of its events
	}
	return n
}

// sandboxClock reads the sandbox's clock for the token's tenant; nil when the server
// has none (the real API).
func (r *runner) sandboxClock(ctx context.Context) *time.Time {
	resp, err := r.c.do(ctx, request{method: http.MethodGet, path: "/_morimock/clock", auth: authToken})
	if err != nil || resp.status != http.StatusOK {
		return nil
	}
	var c struct {
		Now time.Time `json:"now"`
	}
	if json.Unmarshal(resp.body, &c) != nil || c.Now.IsZero() {
		return nil
	}
	r.sandbox = true
	return &c.Now
}

// serverNow is the server's time: the sandbox's clock, else the last Date header.
func (r *runner) serverNow(clock *time.Time) time.Time {
	if clock != nil {
		return *clock
	}
	if !r.lastDate.IsZero() {
		return r.lastDate
	}
	return r.now()
}

func (r *runner) setClock(ctx context.Context, move map[string]string) error {
	b, _ := json.Marshal(move)
	resp, err := r.c.do(ctx, request{method: http.MethodPost, path: "/_morimock/clock", auth: authToken, body: b})
	if err != nil {
		return err
	}
	r.moved = true
	if resp.status != http.StatusOK {
		return fmt.Errorf("the sandbox refused to move its clock: %d %s", resp.status, resp.code())
	}
	return nil
}

// restoreClock sets the sandbox key's clock back to at, where the lifecycle moved it,
// also when the run was interrupted (it uses a context of its own). A failure is a
// cleanup finding: the key's later orders would be made on a moved clock.
func (r *runner) restoreClock(at time.Time) {
	if !r.moved {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.c.timeout)
	defer cancel()
	b, _ := json.Marshal(map[string]string{"set": at.UTC().Format(time.RFC3339Nano)})
	req := request{method: http.MethodPost, path: "/_morimock/clock", auth: authToken, body: b}
	resp, err := r.c.do(ctx, req)
	got := "no answer"
	if err == nil {
		if resp.status == http.StatusOK {
			return
		}
		got = strconv.Itoa(resp.status)
	}
	r.add(Result{Request: req.String(), Scenario: "cleanup"}, CheckLifeTransitions, []Finding{{Rule: "clock_restore", Path: "status",
		Message: "the sandbox key's clock could not be set back after the lifecycle", Want: "200", Got: got,
		Fix: "POST /_morimock/clock {\"set\": \"<now>\"} with this key, or /_morimock/reset"}}, "")
}

// send sends req and notes the server's Date.
func (r *runner) send(ctx context.Context, req request) (*response, error) {
	resp, err := r.c.do(ctx, req)
	if err == nil {
		if d, perr := http.ParseTime(resp.header.Get("Date")); perr == nil {
			r.lastDate = d
		}
	}
	return resp, err
}

func (r *runner) post(ctx context.Context, path string, body []byte) (request, *response, error) {
	req := request{method: http.MethodPost, path: path, auth: authToken, body: body}
	resp, err := r.send(ctx, req)
	return req, resp, err
}

// answerFindings checks an answer against the contract: a declared status, JSON, the
// schema; and for a 200 of GET order, the domain rules.
func (r *runner) answerFindings(req request, resp *response, wantStatus int) []Finding {
	var fs []Finding
	if resp.status != wantStatus {
		got := strconv.Itoa(resp.status)
		if code := resp.code(); code != "" {
			got += " " + code
		}
		fs = append(fs, Finding{Rule: "status", Path: "status", Message: fmt.Sprintf("%s answered %s", req, got), Want: strconv.Itoa(wantStatus), Got: got, Fix: "answer as the documented flow says (facts §3, §6.1)"})
	}
	if cf := contentTypeFindings(resp); len(cf) > 0 {
		return append(fs, cf...)
	}
	if resp.unfit != nil {
		return append(fs, unfitFinding(resp))
	}
	drifts := driftsOf(req, resp)
	typ := orderTypeOf(resp.body)
	fs = append(fs, r.excuse(typ, r.schemaFindings(req, resp, drifts))...)
	if id := req.path[strings.LastIndex(req.path, "/")+1:]; resp.status == http.StatusOK && req.method == http.MethodGet && req.path == ordersPath(id) && order.ValidID(id) {
		opts := order.CheckOptions{OrderID: id, Now: r.responseTime(resp)}
		var dom []Finding
		for _, v := range order.CheckResponse(resp.body, opts) {
			if !claimed(drifts, v.Path) {
				dom = append(dom, Finding{Rule: v.Rule, Path: v.Path, Message: v.Message, Want: v.Want, Got: v.Got, Fix: "the rule: " + ruleDescription(v.Rule)})
			}
		}
		fs = append(fs, r.excuse(typ, dom)...)
	}
	return fs
}

// errorFindings: an answer that must be the documented error: status and code.
func (r *runner) errorFindings(req request, resp *response, status int, codes ...string) []Finding {
	got := strconv.Itoa(resp.status) + " " + resp.code()
	want := strconv.Itoa(status) + " " + strings.Join(codes, " or ")
	if resp.status == status {
		for _, c := range codes {
			if resp.code() == c {
				return nil
			}
		}
	}
	return []Finding{{Rule: "error_code", Path: "$.code", Message: fmt.Sprintf("%s answered %s", req, strings.TrimSpace(got)), Want: want, Got: strings.TrimSpace(got), Fix: "answer the documented error for this misuse (errors page, facts §4.3, §6.1)"}}
}

func (r *runner) lifeResult(f flow, req request, id string) Result {
	return Result{OrderID: id, Scenario: f.scenario(), Request: req.String()}
}

func (r *runner) skipFlow(f flow, reason string) {
	base := Result{Scenario: f.scenario(), Request: "POST " + createPath(f.typ)}
	for _, c := range []string{CheckLifeUpload, CheckLifeTransitions, CheckLifeOutcome} {
		r.add(base, c, nil, reason)
	}
}

// checkSunset: from 2026-10-09 a v2 watermark create answers 410
// WATERMARK_V2_API_SUNSET (facts §11). The key is fresh, so nothing is created if a
// server still accepts it... except an order, which is then reported.
func (r *runner) checkSunset(ctx context.Context, t order.Type) error {
	f := flow{typ: t, variant: "sunset"}
	req, resp, err := r.post(ctx, createPath(t), createBody(t, "morimock-check-sunset-"+string(t)+"-"+r.runID, "morimock-check.png"))
	if err != nil {
		return err
	}
	r.add(r.lifeResult(f, req, ""), CheckLifeCreate, r.errorFindings(req, resp, http.StatusGone, "WATERMARK_V2_API_SUNSET"), "")
	return nil
}

// runFlow follows one order from create to its end. It returns nil when the flow
// could not create its order (reported).
func (r *runner) runFlow(ctx context.Context, f flow, sandbox bool) (*lifeOrder, error) {
	key := "morimock-check-" + r.runID + "-" + string(f.typ) + f.variant
	cpath := createPath(f.typ)
	req, resp, err := r.post(ctx, cpath, createBody(f.typ, key, f.fileName()))
	if err != nil {
		return nil, err
	}
	c := parseCreated(resp.body)
	fs := r.answerFindings(req, resp, http.StatusOK)
	if resp.status == http.StatusOK && (c.id == "" || c.uploadURL == "") {
		fs = append(fs, Finding{Rule: "create_answer", Path: "$.data", Message: "the create answer has no orderId or uploadUrl", Want: "orderId and an uploadUrl", Got: order.Excerpt(resp.body), Fix: "answer the order id and each file's uploadUrl (facts §3)"})
	}
	r.add(r.lifeResult(f, req, c.id), CheckLifeCreate, fs, "")
	if resp.status != http.StatusOK || c.id == "" || c.uploadURL == "" {
		r.skipFlow(f, "the create failed")
		return nil, nil
	}
	statuses := []observed{}
	if c.status != "" {
		statuses = append(statuses, observed{c.status, "the create answer"})
	}
	if f.first {
		// The same key again gives the same order (facts §6.3).
		req2, resp2, err := r.post(ctx, cpath, createBody(f.typ, key, f.fileName()))
		if err != nil {
			return nil, err
		}
		fs := r.answerFindings(req2, resp2, http.StatusOK)
		if again := parseCreated(resp2.body); resp2.status == http.StatusOK && again.id != c.id {
			fs = append(fs, Finding{Rule: "same_order", Path: "$.data.orderId", Message: "a second create with the same idempotencyKey made another order", Want: strconv.Quote(c.id), Got: strconv.Quote(again.id), Fix: "return the original order for a repeated idempotencyKey (facts §6.3)"})
		}
		r.add(r.lifeResult(f, req2, c.id), CheckLifeIdempotency, fs, "")
	}

	// The order is kept: a GET finds it. The legacy test mode keeps none.
	getReq := request{method: http.MethodGet, path: ordersPath(c.id), auth: authToken}
	first, err := r.send(ctx, getReq)
	if err != nil {
		return nil, err
	}
	if first.status == http.StatusNotFound {
		r.report.Inconclusive = fmt.Sprintf("GET of order %s, created a moment before, answered 404: this account's test environment does not keep test orders (the vendor's legacy test mode), so the lifecycle cannot be followed. Ask the vendor to enable persistent test orders", c.id)
		return nil, &InconclusiveError{Reason: r.report.Inconclusive}
	}
	var pollFindings []Finding
	pollFindings = append(pollFindings, r.answerFindings(getReq, first, http.StatusOK)...)
	statuses = appendStatus(statuses, first, "GET after create")

	if f.first && confirmPath(f.typ) != "" {
		// Misuse before the upload: confirm (ORDER_FILE_NOT_UPLOADED), download too early.
		req, resp, err := r.post(ctx, confirmPath(f.typ), confirmBody(key+"-early", c.id))
		if err != nil {
			return nil, err
		}
		r.add(r.lifeResult(f, req, c.id), CheckLifeMisuse, r.errorFindings(req, resp, http.StatusBadRequest, "ORDER_FILE_NOT_UPLOADED"), "")
	}
	if f.first && f.canFetch {
		req := request{method: http.MethodGet, path: ordersPath(c.id) + "/download", auth: authToken}
		resp, err := r.send(ctx, req)
		if err != nil {
			return nil, err
		}
		r.add(r.lifeResult(f, req, c.id), CheckLifeMisuse, r.errorFindings(req, resp, http.StatusBadRequest, "ORDER_NOT_COMPLETED"), "")
	}

	// Upload: never with the token, wherever the URL points.
	up, err := r.c.direct(ctx, http.MethodPut, c.uploadURL, tinyPNG(), "image/png")
	upBase := Result{OrderID: c.id, Scenario: f.scenario(), Request: "PUT uploadUrl"}
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, err
	case err != nil:
		r.add(upBase, CheckLifeUpload, []Finding{{Rule: "upload", Path: "uploadUrl", Message: err.Error(), Want: "2xx", Got: "no answer", Fix: "the uploadUrl must take a PUT of the file's bytes without Authorization (facts §1)"}}, "")
		r.skipFlow(f, "the upload failed")
		return nil, nil
	case up.status < 200 || up.status > 299:
		r.add(upBase, CheckLifeUpload, []Finding{{Rule: "upload", Path: "status", Message: fmt.Sprintf("the PUT to uploadUrl answered %d", up.status), Want: "2xx", Got: strconv.Itoa(up.status), Fix: "the uploadUrl must take a PUT of the file's bytes without Authorization (facts §1)"}}, "")
		return nil, nil
	default:
		r.add(upBase, CheckLifeUpload, nil, "")
	}

	if cp := confirmPath(f.typ); cp != "" {
		req, resp, err := r.post(ctx, cp, confirmBody(key+"-confirm", c.id))
		if err != nil {
			return nil, err
		}
		r.add(r.lifeResult(f, req, c.id), CheckLifeConfirm, r.answerFindings(req, resp, http.StatusOK), "")
		statuses = appendConfirmStatus(statuses, resp)
		if f.first {
			if err := r.misuseAfterConfirm(ctx, f, key, c.id); err != nil {
				return nil, err
			}
		}
	}

	// Poll until the order ends: the sandbox's clock moves instead of waiting.
	var last *response
	wait := r.cfg.PollWait
	if wait <= 0 {
		wait = time.Second
	}
	for i := 0; i < r.maxPolls(); i++ {
		resp, err := r.send(ctx, getReq)
		if err != nil {
			return nil, err
		}
		pollFindings = append(pollFindings, r.answerFindings(getReq, resp, http.StatusOK)...)
		statuses = appendStatus(statuses, resp, fmt.Sprintf("poll %d", i+1))
		last = resp
		if st := statusOf(resp.body); st == order.Complete || st == order.Failed || st == order.Expired {
			break
		}
		if sandbox {
			if err := r.setClock(ctx, map[string]string{"advance": "31s"}); err != nil {
				return nil, err
			}
			// An order also waits for its files, which the sandbox makes off the
			// request path in real time: on a busy machine that takes a moment more.
			if err := sleep(ctx, min(10*time.Millisecond<<min(i, 6), 500*time.Millisecond)); err != nil {
				return nil, err
			}
			continue
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, 16*time.Second)
	}
	tf := append(pollFindings, transitionFindings(statuses)...)
	end := statusOf(last.body)
	if end != order.Complete && end != order.Failed {
		tf = append(tf, Finding{Rule: "terminal", Path: "$.data.status", Message: fmt.Sprintf("the order did not end after %d polls", r.maxPolls()), Want: "complete or failed", Got: string(end), Fix: "a test order ends about 5 s after its uploads (facts §11)"})
	}
	r.add(Result{OrderID: c.id, Scenario: f.scenario(), Request: getReq.String()}, CheckLifeTransitions, dedupe(tf), "")
	r.add(Result{OrderID: c.id, Scenario: f.scenario(), Request: getReq.String()}, CheckLifeOutcome, outcomeFindings(f, last.body), "")

	if err := r.checkLifeDownload(ctx, f, c.id, end); err != nil {
		return nil, err
	}
	return &lifeOrder{flow: f, id: c.id, end: end}, nil
}

func confirmBody(key, id string) []byte {
	b, _ := json.Marshal(map[string]string{"idempotencyKey": key, "orderId": id})
	return b
}

// misuseAfterConfirm: a second confirm, a confirm for another type, refresh-urls on
// an order that is no longer pending.
func (r *runner) misuseAfterConfirm(ctx context.Context, f flow, key, id string) error {
	other := order.AIDetection
	if f.typ == order.AIDetection {
		other = order.AntiAI
	}
	cases := []struct {
		path  string
		body  []byte
		codes []string
	}{
		{confirmPath(f.typ), confirmBody(key+"-twice", id), []string{"ORDER_ALREADY_CONFIRMED", "ORDER_NOT_PENDING"}},
		{confirmPath(other), confirmBody(key+"-other", id), []string{"ORDER_TYPE_NOT_MATCH"}},
		{ordersPath(id) + "/refresh-urls", nil, []string{"ORDER_NOT_PENDING"}},
	}
	for _, c := range cases {
		req, resp, err := r.post(ctx, c.path, c.body)
		if err != nil {
			return err
		}
		r.add(r.lifeResult(f, req, id), CheckLifeMisuse, r.errorFindings(req, resp, http.StatusBadRequest, c.codes...), "")
	}
	return nil
}

// checkLifeDownload: a complete antiAi or watermarkEmbed order downloads (a test
// order answers 404 PROCESSED_FILE_NOT_FOUND, facts §11); a failed one is not
// complete; the other types cannot download.
func (r *runner) checkLifeDownload(ctx context.Context, f flow, id string, end order.Status) error {
	req := request{method: http.MethodGet, path: ordersPath(id) + "/download", auth: authToken}
	resp, err := r.send(ctx, req)
	if err != nil {
		return err
	}
	base := r.lifeResult(f, req, id)
	switch {
	case !f.canFetch:
		r.add(base, CheckLifeDownload, r.errorFindings(req, resp, http.StatusBadRequest, "ORDER_TYPE_CANT_DOWNLOAD"), "")
	case end != order.Complete:
		r.add(base, CheckLifeDownload, r.errorFindings(req, resp, http.StatusBadRequest, "ORDER_NOT_COMPLETED"), "")
	case resp.status == http.StatusNotFound:
		r.add(base, CheckLifeDownload, r.errorFindings(req, resp, http.StatusNotFound, "PROCESSED_FILE_NOT_FOUND"), "")
	default:
		fs, err := r.downloadFindings(ctx, req, resp)
		if err != nil {
			return err
		}
		r.add(base, CheckLifeDownload, fs, "")
	}
	return nil
}

// observed is one status seen, and where.
type observed struct {
	status order.Status
	where  string
}

func statusOf(body []byte) order.Status {
	var env struct {
		Data struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	return order.Status(env.Data.Status)
}

func appendStatus(s []observed, resp *response, where string) []observed {
	if resp.status != http.StatusOK {
		return s
	}
	if st := statusOf(resp.body); st != "" {
		s = append(s, observed{st, where})
	}
	return s
}

func appendConfirmStatus(s []observed, resp *response) []observed {
	if resp.status != http.StatusOK {
		return s
	}
	return appendStatus(s, resp, "the confirm answer")
}

// transitionFindings: each change between two statuses seen is a path of
// order.CanMove steps (polling may miss a step, never reverse one).
func transitionFindings(seen []observed) []Finding {
	var fs []Finding
	for i := 1; i < len(seen); i++ {
		from, to := seen[i-1].status, seen[i].status
		if from == to || reachable(from, to) {
			continue
		}
		fs = append(fs, Finding{Rule: "transition", Path: "$.data.status", Message: fmt.Sprintf("the order went from %s (%s) to %s (%s)", from, seen[i-1].where, to, seen[i].where), Want: "pending -> inProgress -> complete | failed, never backwards", Got: string(from) + " -> " + string(to), Fix: "an order only moves forward (facts §6.1, order.CanMove)"})
	}
	return fs
}

// reachable reports whether order.CanMove leads from one status to another in one or
// more steps.
func reachable(from, to order.Status) bool {
	seen := map[order.Status]bool{from: true}
	next := []order.Status{from}
	for len(next) > 0 {
		cur := next[0]
		next = next[1:]
		for _, s := range order.Statuses() {
			if !seen[s] && order.CanMove(cur, s) {
				if s == to {
					return true
				}
				seen[s] = true
				next = append(next, s)
			}
		}
	}
	return false
}

// outcomeFindings: the test-key convention's outcome for the file name (facts §11).
func outcomeFindings(f flow, body []byte) []Finding {
	var env struct {
		Data struct {
			Status        string   `json:"status"`
			Probability   *float64 `json:"probability"`
			StatusCode    *string  `json:"statusCode"`
			WatermarkText *string  `json:"watermarkText"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	d := env.Data
	fix := "a test key's file name picks the outcome: _fail fails, _ai 0.98, _human 0.02, _detected/_undetected; defaults success, undetected, 0.02 (facts §11)"
	var fs []Finding
	if d.Status != string(f.want) {
		fs = append(fs, Finding{Rule: "test_outcome", Path: "$.data.status", Message: fmt.Sprintf("a %s file ended %q", f.fileName(), d.Status), Want: string(f.want), Got: d.Status, Fix: fix})
		return fs
	}
	if f.prob != nil && (d.Probability == nil || *d.Probability != *f.prob) {
		got := "null"
		if d.Probability != nil {
			got = strconv.FormatFloat(*d.Probability, 'g', -1, 64)
		}
		fs = append(fs, Finding{Rule: "test_outcome", Path: "$.data.probability", Message: fmt.Sprintf("a %s file gave probability %s", f.fileName(), got), Want: strconv.FormatFloat(*f.prob, 'g', -1, 64), Got: got, Fix: fix})
	}
	if f.code != nil && (d.StatusCode == nil || *d.StatusCode != string(*f.code)) {
		got := "null"
		if d.StatusCode != nil {
			got = *d.StatusCode
		}
		fs = append(fs, Finding{Rule: "test_outcome", Path: "$.data.statusCode", Message: fmt.Sprintf("a %s file gave statusCode %s", f.fileName(), got), Want: string(*f.code), Got: got, Fix: fix})
	}
	return fs
}

// dedupe keeps the first finding of each rule and path: a poll repeats the same break.
func dedupe(fs []Finding) []Finding {
	seen := map[string]bool{}
	var out []Finding
	for _, f := range fs {
		k := f.Rule + "\x00" + f.Path
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}
