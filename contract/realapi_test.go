package contract

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/order"
)

// realAPI is a stand-in for the vendor's API with a test key, built from documented
// behaviour only (facts §2, §3, §6, §11): it leaves out every field the docs call
// conditional (aiDetection's thumbnailImageUrl, heatmapUrl, overlayUrl, options), it
// is past the v2 watermark sunset (its Date is 2026-11-27), test orders end on the
// first read after they started, /download answers 404 PROCESSED_FILE_NOT_FOUND, and
// webhook deliveries are signed. Its mutant fields each break one documented promise.
type realAPI struct {
	// Mutants.
	ConfirmIgnoresUpload bool // confirm before upload succeeds
	Backwards            bool // the first read after confirm shows pending again
	WrongOutcome         bool // _ai gives 0.02
	IdempotencyNewOrder  bool // the same key makes a second order
	BadSignature         bool // deliveries are signed with another secret
	Legacy               bool // orders are not kept: GET answers 404

	mu       sync.Mutex
	base     string
	next     int
	orders   map[string]*realOrder
	keys     map[string]string
	hookURL  string
	leaked   []string // requests to an upload URL that carried Authorization
	hookHits int
}

type realOrder struct {
	id, name, file string
	typ            order.Type
	created        time.Time
	status         order.Status
	uploaded       bool
	confirmKey     string
	reads          int
	backwardsShown bool
}

const realDate = "Fri, 27 Nov 2026 00:00:00 GMT"

var realNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func (f *realAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.orders == nil {
		f.orders, f.keys = map[string]*realOrder{}, map[string]string{}
	}
	w.Header().Set("Date", realDate)
	w.Header().Set("Content-Type", "application/json")
	p := r.URL.Path
	if tok, ok := strings.CutPrefix(p, "/api/v2/test-uploads/"); ok {
		if r.Header.Get("Authorization") != "" {
			f.leaked = append(f.leaked, p)
		}
		if o := f.orders[tok]; o != nil && r.Method == http.MethodPut {
			o.uploaded = true
			if o.typ == order.WatermarkEmbed || o.typ == order.WatermarkExtract {
				o.status = order.InProgress
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		f.fail(w, http.StatusNotFound, "ORDER_NOT_FOUND")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		f.fail(w, http.StatusUnauthorized, "AUTH_NOT_AUTHENTICATED")
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	key, _ := body["idempotencyKey"].(string)
	switch {
	case r.Method == http.MethodGet && p == "/api/v2/orders":
		f.list(w, r)
	case r.Method == http.MethodGet && p == "/api/v2/orders/stats/recent":
		w.Write([]byte(`{"data":{"dailyStats":[{"usageDate":"11.21","usageCount":0},{"usageDate":"11.22","usageCount":0},{"usageDate":"11.23","usageCount":0},{"usageDate":"11.24","usageCount":0},{"usageDate":"11.25","usageCount":0},{"usageDate":"11.26","usageCount":0},{"usageDate":"11.27","usageCount":3}],"domain":[0,5],"ticks":[0,1,2,3,4,5]}}`))
	case r.Method == http.MethodPost && p == "/api/v2/orders/webhooks":
		f.hookURL, _ = body["url"].(string)
		w.Write([]byte(`{"data":{"id":7,"name":"t","secret":"whsec_real"}}`))
	case r.Method == http.MethodDelete && p == "/api/v2/orders/webhooks/7":
		f.hookURL = ""
		w.Write([]byte(`{"data":null}`))
	case r.Method == http.MethodPost && (p == "/api/v2/orders/wtr-embed" || p == "/api/v2/orders/wtr-extract"):
		f.fail(w, http.StatusGone, "WATERMARK_V2_API_SUNSET")
	case r.Method == http.MethodPost && (p == "/api/v2/orders/anti-ai" || p == "/api/v2/orders/ai-detection"):
		t := order.AntiAI
		name, _ := body["fileName"].(string)
		if p == "/api/v2/orders/ai-detection" {
			t = order.AIDetection
		} else if files, _ := body["files"].([]any); len(files) > 0 {
			name, _ = files[0].(map[string]any)["fileName"].(string)
		}
		o := f.orders[f.keys[key]]
		if o == nil || f.IdempotencyNewOrder {
			f.next++
			o = &realOrder{id: strconv.Itoa(424706541233094656 + f.next), typ: t, file: name, created: realNow, status: order.Pending, name: "order_2026-11-27"}
			f.orders[o.id], f.keys[key] = o, o.id
		}
		up := fmt.Sprintf(`"fileName":%q,"uploadUrl":"%s/api/v2/test-uploads/%s","fileKey":"k/%s"`, o.file, f.base, o.id, o.id)
		if t == order.AntiAI {
			fmt.Fprintf(w, `{"data":{"orderName":%q,"orderId":%q,"status":"pending","files":[{"fileId":"1",%s}]}}`, o.name, o.id, up)
		} else {
			fmt.Fprintf(w, `{"data":{"orderId":%q,"orderName":%q,"status":"pending","file":{"fileId":1,%s}}}`, o.id, o.name, up)
		}
	case r.Method == http.MethodPost && (p == "/api/v2/orders/anti-ai/confirm" || p == "/api/v2/orders/ai-detection/confirm"):
		id, _ := body["orderId"].(string)
		o := f.orders[id]
		want := order.AntiAI
		if strings.Contains(p, "ai-detection") {
			want = order.AIDetection
		}
		switch {
		case o == nil:
			f.fail(w, http.StatusNotFound, "ORDER_NOT_FOUND")
		case o.typ != want:
			f.fail(w, http.StatusBadRequest, "ORDER_TYPE_NOT_MATCH")
		case o.confirmKey != "" && o.confirmKey != key:
			f.fail(w, http.StatusBadRequest, "ORDER_ALREADY_CONFIRMED")
		case !o.uploaded && !f.ConfirmIgnoresUpload:
			f.fail(w, http.StatusBadRequest, "ORDER_FILE_NOT_UPLOADED")
		default:
			o.confirmKey, o.status = key, order.InProgress
			fmt.Fprintf(w, `{"data":{"orderId":%q,"status":"inProgress"}}`, o.id)
		}
	case strings.HasPrefix(p, "/api/v2/orders/"):
		rest := strings.TrimPrefix(p, "/api/v2/orders/")
		id, action, _ := strings.Cut(rest, "/")
		o := f.orders[id]
		if o == nil || f.Legacy {
			f.fail(w, http.StatusNotFound, "ORDER_NOT_FOUND")
			return
		}
		switch {
		case action == "" && r.Method == http.MethodGet:
			f.read(w, o)
		case action == "download" && r.Method == http.MethodGet:
			switch {
			case o.typ == order.AIDetection:
				f.fail(w, http.StatusBadRequest, "ORDER_TYPE_CANT_DOWNLOAD")
			case o.status != order.Complete:
				f.fail(w, http.StatusBadRequest, "ORDER_NOT_COMPLETED")
			default:
				f.fail(w, http.StatusNotFound, "PROCESSED_FILE_NOT_FOUND")
			}
		case action == "refresh-urls" && r.Method == http.MethodPost:
			f.fail(w, http.StatusBadRequest, "ORDER_NOT_PENDING")
		default:
			f.fail(w, http.StatusNotFound, "ORDER_NOT_FOUND")
		}
	default:
		f.fail(w, http.StatusNotFound, "ORDER_NOT_FOUND")
	}
}

func (f *realAPI) fail(w http.ResponseWriter, status int, code string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q}`, code)
}

// read answers GET order; an order that started ends on this read (test keys: the
// transition happens on read), and the webhook hears of it.
func (f *realAPI) read(w http.ResponseWriter, o *realOrder) {
	shown := o.status
	switch {
	case o.status == order.InProgress && f.Backwards && !o.backwardsShown:
		o.backwardsShown, shown = true, order.Pending
	case o.status == order.InProgress:
		o.status = order.Complete
		if order.HintsFor(o.typ, []string{o.file}).Fail {
			o.status = order.Failed
		}
		shown = o.status
		f.deliver(o)
	}
	w.Write(f.body(o, shown))
}

func (f *realAPI) body(o *realOrder, st order.Status) []byte {
	d := map[string]any{
		"type": o.typ, "orderId": o.id, "channel": "api", "status": st, "orderName": o.name, "fileCount": 1,
		"createdAt": o.created.Format(order.TimeLayout), "updatedAt": o.created.Format(order.TimeLayout), "errors": nil,
	}
	url := f.base + "/files/" + o.id + ".png"
	if o.typ == order.AntiAI {
		d["thumbnailImageUrl"] = nil
		if st != order.Pending {
			d["thumbnailImageUrl"] = url
		}
	}
	if st == order.Failed {
		d["errors"] = "PROCESSING_ERROR"
	}
	if o.typ == order.AIDetection {
		// No thumbnailImageUrl, heatmapUrl, overlayUrl or options: returned only when asked.
		d["originalImageUrl"], d["probability"], d["statusCode"] = nil, nil, nil
		if st != order.Pending {
			d["originalImageUrl"] = url
		}
		if st == order.Complete {
			p := order.HintsFor(o.typ, []string{o.file}).Probability
			prob := order.ProbabilityDefault
			if p != nil && !f.WrongOutcome {
				prob = *p
			}
			d["probability"], d["statusCode"] = prob, order.StatusCodeFor(prob)
		}
	}
	b, _ := json.Marshal(map[string]any{"data": d})
	return b
}

func (f *realAPI) deliver(o *realOrder) {
	if f.hookURL == "" {
		return
	}
	verb := "completed"
	if o.status == order.Failed {
		verb = "failed"
	}
	body, _ := json.Marshal(map[string]any{"eventId": "550e8400-e29b-41d4-a716-446655440000", "eventType": "order." + string(o.typ) + "." + verb,
		"data": map[string]any{"orderId": o.id, "status": o.status}})
	secret := "whsec_real"
	if f.BadSignature {
		secret = "whsec_other"
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	req, _ := http.NewRequest(http.MethodPost, f.hookURL, bytes.NewReader(body))
	req.Header.Set(SignatureHeader, hex.EncodeToString(m.Sum(nil)))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		f.hookHits++
	}
}

func (f *realAPI) list(w http.ResponseWriter, r *http.Request) {
	var items []string
	for i := f.next; i >= 1; i-- { // newest first
		o := f.orders[strconv.Itoa(424706541233094656+i)]
		if o == nil || (r.URL.Query().Get("status") != "" && r.URL.Query().Get("status") != string(o.status)) ||
			(r.URL.Query().Get("type") != "" && r.URL.Query().Get("type") != string(o.typ)) {
			continue
		}
		items = append(items, string(listItemOf(f.body(o, o.status))))
	}
	total := len(items)
	items = items[:min(10, total)]
	fmt.Fprintf(w, `{"data":{"orders":[%s],"pageInfo":{"totalItems":%d,"totalPages":%d,"currentPage":1,"itemsPerPage":10}}}`, strings.Join(items, ","), total, (total+9)/10)
}

// runReal runs the lifecycle against api, with a webhook receiver on a free port.
func runReal(t *testing.T, api *realAPI, hook bool) (*Report, error) {
	t.Helper()
	api.base = newServer(t, api)
	cfg := Config{BaseURL: api.base, Token: "sk_test_documented", Lifecycle: true, PollWait: time.Millisecond, WebhookWait: 5 * time.Second}
	if hook {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cfg.WebhookListen, cfg.WebhookPublicURL = addr, "http://"+addr+"/hook"
	}
	rep, err := Run(context.Background(), spectest.Load(t), cfg)
	if len(api.leaked) > 0 {
		t.Errorf("the token was sent to upload URLs: %v", api.leaked)
	}
	return rep, err
}

// TestDocumentedAPIPasses: an API that keeps only what the docs promise, leaving out
// every conditional field, passes the whole suite with the lifecycle, no warning.
func TestDocumentedAPIPasses(t *testing.T) {
	api := &realAPI{}
	rep, err := runReal(t, api, true)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	for _, res := range rep.Results {
		if res.Outcome == Failed || res.Outcome == Warned {
			t.Errorf("%s %s %s [%s]: %+v", res.Check, res.Outcome, res.Request, res.Scenario, res.Findings)
		}
	}
	if api.hookHits == 0 || api.hookURL != "" {
		t.Errorf("webhook deliveries = %d, still registered = %v; want deliveries and the webhook deleted", api.hookHits, api.hookURL != "")
	}
	passed := outcomesCount(rep, Passed)
	for _, c := range []string{CheckLifeCreate, CheckLifeTransitions, CheckLifeOutcome, CheckLifeIdempotency, CheckLifeMisuse, CheckLifeWebhook, CheckListOrders, CheckStats} {
		if passed[c] == 0 {
			t.Errorf("check %s never passed", c)
		}
	}
}

func outcomesCount(rep *Report, o Outcome) map[string]int {
	m := map[string]int{}
	for _, res := range rep.Results {
		if res.Outcome == o {
			m[res.Check]++
		}
	}
	return m
}

// TestLifecycleMutants: each broken promise fails its named check.
func TestLifecycleMutants(t *testing.T) {
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	tests := []struct {
		name string
		api  *realAPI
		want string
	}{
		{"confirm without upload", &realAPI{ConfirmIgnoresUpload: true}, CheckLifeMisuse},
		{"transition backwards", &realAPI{Backwards: true}, CheckLifeTransitions},
		{"wrong suffix outcome", &realAPI{WrongOutcome: true}, CheckLifeOutcome},
		{"idempotency key makes a second order", &realAPI{IdempotencyNewOrder: true}, CheckLifeIdempotency},
		{"webhook signed wrong", &realAPI{BadSignature: true}, CheckLifeWebhook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := runReal(t, tt.api, true)
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			if !rep.Failed() {
				t.Fatal("Failed() = false; want true")
			}
			if _, ok := outcomes(rep, Failed)[tt.want]; !ok {
				t.Errorf("failed checks = %v; want %s among them", outcomes(rep, Failed), tt.want)
			}
		})
	}
}

func TestLifecycleLegacyTestModeIsInconclusive(t *testing.T) {
	rep, err := runReal(t, &realAPI{Legacy: true}, false)
	var inc *InconclusiveError
	if !errors.As(err, &inc) {
		t.Fatalf("Run() error = %v; want an *InconclusiveError", err)
	}
	if rep == nil || !strings.Contains(rep.Inconclusive, "legacy test mode") {
		t.Errorf("Report.Inconclusive = %q; want the legacy test mode named", rep.Inconclusive)
	}
}

// TestLifecycleRefusesLiveKeys: nothing is sent with a key that is not a test key.
func TestLifecycleRefusesLiveKeys(t *testing.T) {
	api := &fakeAPI{}
	for _, token := range []string{"sk_live_abc12345", "x", ""} {
		_, err := Run(context.Background(), spectest.Load(t), Config{BaseURL: newServer(t, api), Token: token, Lifecycle: true})
		if !errors.Is(err, LifecycleKeyError) {
			t.Errorf("Run(token %q, Lifecycle) error = %v; want LifecycleKeyError", token, err)
		}
	}
	if diff := cmp.Diff([]string(nil), api.sent()); diff != "" {
		t.Errorf("requests sent mismatch (-want +got):\n%s", diff)
	}
}
