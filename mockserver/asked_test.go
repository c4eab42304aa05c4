package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers"
)

// askedRequests is a valid request to every operation of openapi.yaml: what a client
// sends when it asks one for an error, which it must be able to do for each.
var askedRequests = map[string]struct{ method, target, body string }{
	"getOrder":                    {"GET", "/api/v2/orders/1234", ""},
	"listOrders":                  {"GET", "/api/v2/orders?page=1&limit=10", ""},
	"getRecentStats":              {"GET", "/api/v2/orders/stats/recent", ""},
	"downloadOrder":               {"GET", "/api/v2/orders/1234/download", ""},
	"refreshUploadUrls":           {"POST", "/api/v2/orders/1234/refresh-urls", ""},
	"createAntiAiOrder":           {"POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"a-1","files":[{"fileName":"photo.jpg"}]}`},
	"confirmAntiAiOrder":          {"POST", "/api/v2/orders/anti-ai/confirm", `{"idempotencyKey":"a-2","orderId":"1234"}`},
	"createAntiAiOrderWithUrls":   {"POST", "/api/v2/orders/anti-ai/with-urls", `{"idempotencyKey":"a-3","files":[{"fileName":"a.png","imageUrl":"https://example.com/a.png"}]}`},
	"createWatermarkEmbedOrder":   {"POST", "/api/v2/orders/wtr-embed", `{"idempotencyKey":"a-4","files":[{"fileName":"doc.png","watermarks":[{"text":"MORI"}]}]}`},
	"createWatermarkExtractOrder": {"POST", "/api/v2/orders/wtr-extract", `{"idempotencyKey":"a-5","file":{"fileName":"w.jpg"}}`},
	"createAiDetectionOrder":      {"POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"a-6","fileName":"photo.webp"}`},
	"confirmAiDetectionOrder":     {"POST", "/api/v2/orders/ai-detection/confirm", `{"idempotencyKey":"a-7","orderId":"1234"}`},
	"createWebhook":               {"POST", "/api/v2/orders/webhooks", `{"name":"n","url":"https://example.com/hook","isTest":true}`},
	"listWebhooks":                {"GET", "/api/v2/orders/webhooks", ""},
	"getWebhook":                  {"GET", "/api/v2/orders/webhooks/42", ""},
	"updateWebhook":               {"PUT", "/api/v2/orders/webhooks/42", `{"name":"m"}`},
	"deleteWebhook":               {"DELETE", "/api/v2/orders/webhooks/42", ""},
	"listWebhookEvents":           {"GET", "/api/v2/orders/webhooks/42/events", ""},
	"retryWebhookEvent":           {"POST", "/api/v2/orders/webhooks/42/events/7/retry", ""},
	"retryFailedWebhookEvents":    {"POST", "/api/v2/orders/webhooks/42/events/retry-failed", `{"fromDate":"2026-03-10","toDate":"2026-03-12"}`},
	"createLegacyWebhook":         {"POST", "/api/v2/orders/webhook", `{"url":"https://example.com/hook"}`},
	"getLegacyWebhook":            {"GET", "/api/v2/orders/webhook", ""},
	"deleteLegacyWebhook":         {"DELETE", "/api/v2/orders/webhook", ""},
	"uploadTestFile":              {"PUT", "", "\xff\xd8 not really a jpeg"}, // the URL of uploadTarget's order
}

// uploadTarget is the test-upload URL of an order made for the purpose (the same one
// each time: a create repeated with its idempotency key answers the same order).
func uploadTarget(t *testing.T, s *Server) string {
	t.Helper()
	res, body := send(t, s, "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"upload-target","fileName":"u.png"}`,
		http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}})
	var created struct {
		Data struct{ File struct{ UploadURL string } }
	}
	json.Unmarshal(body, &created)
	u, err := url.Parse(created.Data.File.UploadURL)
	if res.StatusCode != http.StatusOK || err != nil || !strings.HasPrefix(u.Path, "/api/v2/test-uploads/") {
		t.Fatalf("create for a test-upload URL = %d %s; want a test-upload URL", res.StatusCode, body)
	}
	return u.RequestURI()
}

// askedTarget is the request target of op's entry in askedRequests, the test upload's
// signed URL included.
func askedTarget(t *testing.T, s *Server, op string) string {
	t.Helper()
	req, ok := askedRequests[op]
	if !ok {
		t.Fatalf("no request for %s in askedRequests", op)
	}
	if op == "uploadTestFile" {
		return uploadTarget(t, s)
	}
	return req.target
}

// askedRoute is the request askFor sends for op, without its body, and its route.
func askedRoute(t *testing.T, s *Server, op string) (*http.Request, *routers.Route, map[string]string) {
	t.Helper()
	r := httptest.NewRequest(askedRequests[op].method, askedTarget(t, s, op), nil)
	route, params, err := s.spec.FindRoute(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.RequestURI, err)
	}
	return r, route, params
}

func askFor(t *testing.T, s *Server, op, prefer string) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	if op == "uploadTestFile" {
		h = http.Header{"Content-Type": {"image/jpeg"}} // its token is the URL
	}
	if prefer != "" {
		h.Set("Prefer", prefer)
	}
	target := askedTarget(t, s, op)
	return send(t, s, askedRequests[op].method, target, askedRequests[op].body, h)
}

// TestEveryOperationAnswersTheErrorsItDeclares: Prefer: code=N, with example=NAME
// for each example of that status, answers every error status every operation of
// openapi.yaml declares, with the example's code, the headers the response requires,
// and a body that keeps the contract (the server checks its own answers here, and
// would have answered 500 otherwise); asking changes nothing: no order is made.
func TestEveryOperationAnswersTheErrorsItDeclares(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	s := newServer(t, Config{Token: token, ValidateResponses: true})
	var ops []string
	for path, item := range s.spec.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			if _, ok := askedRequests[op.OperationID]; !ok {
				t.Errorf("%s %s (%s) has no request in askedRequests", method, path, op.OperationID)
			}
			ops = append(ops, op.OperationID)
		}
	}
	sort.Strings(ops)
	asked := 0
	for _, opID := range ops {
		r, route, params := askedRoute(t, s, opID)
		for k, ref := range route.Operation.Responses.Map() {
			if k < "400" || ref.Value == nil {
				continue
			}
			mt := ref.Value.Content.Get("application/json")
			examples := map[string]string{}
			if ex, ok := mt.Example.(map[string]any); ok {
				examples[""] = ex["code"].(string)
			}
			for name, ex := range mt.Examples {
				examples[name] = ex.Value.Value.(map[string]any)["code"].(string)
			}
			for name, want := range examples {
				prefer := "code=" + k
				if name != "" {
					prefer += ", example=" + name
				}
				res, body := askFor(t, s, opID, prefer)
				asked++
				var got struct{ Code string }
				json.Unmarshal(body, &got)
				if fmt.Sprint(res.StatusCode) != k || got.Code != want {
					t.Errorf("%s with Prefer: %s = %d %s (%s); want %s %s", opID, prefer, res.StatusCode, body, res.Header.Get(HeaderError), k, want)
					continue
				}
				if err := s.spec.ValidateResponse(context.Background(), r, route, params, res.StatusCode, res.Header, body); err != nil {
					t.Errorf("%s with Prefer: %s: the answer breaks openapi.yaml: %v", opID, prefer, err)
				}
			}
		}
	}
	if asked < 24*5 {
		t.Errorf("asked for %d errors; want at least 5 for each of the 24 operations", asked)
	}
	// What a client relies on, spelt out.
	for _, tc := range []struct {
		op, prefer string
		status     int
		code       string
		header     [2]string
	}{
		{"createAntiAiOrder", "code=429", 429, "RATE_LIMIT_EXCEEDED", [2]string{"Retry-After", "1"}},
		{"createAntiAiOrder", "code=400, example=usageLimitExceeded", 400, "USAGE_LIMIT_EXCEEDED", [2]string{}},
		// Without an example, the first openapi.yaml gives for the status.
		{"createAntiAiOrder", "code=400", 400, "VALIDATION_FAILED", [2]string{}},
		{"getWebhook", "code=404", 404, "WEBHOOK_NOT_FOUND", [2]string{}},
		{"downloadOrder", "code=400", 400, "ORDER_TYPE_CANT_DOWNLOAD", [2]string{}},
		{"uploadTestFile", "code=401", 401, "AUTH_TOKEN_INVALID", [2]string{}},
		{"confirmAiDetectionOrder", `code=400; x=y, example="alreadyConfirmed"`, 400, "ORDER_ALREADY_CONFIRMED", [2]string{}},
		{"createWatermarkEmbedOrder", "code=410", 410, "WATERMARK_V2_API_SUNSET", [2]string{"Sunset", "Fri, 09 Oct 2026 00:00:00 GMT"}},
		{"createWatermarkExtractOrder", "code=410", 410, "WATERMARK_V2_API_SUNSET", [2]string{"Link", `</api/v3/orders/wtr-extract>; rel="successor-version"`}},
		{"createWatermarkEmbedOrder", "code=429", 429, "RATE_LIMIT_EXCEEDED", [2]string{"Deprecation", "true"}}, // as every answer there
		{"getWebhook", "code=405", 405, "METHOD_NOT_ALLOWED", [2]string{"Allow", "GET, PUT, DELETE"}},
		{"uploadTestFile", "code=413", 413, "TEST_UPLOAD_TOO_LARGE", [2]string{}},
		{"getLegacyWebhook", "code=500", 500, "SERVER_INTERNAL_ERROR", [2]string{}},
		{"getOrder", "code=404, delay=1ms", 404, "ORDER_NOT_FOUND", [2]string{}},
	} {
		res, body := askFor(t, s, tc.op, tc.prefer)
		var got struct{ Code string }
		json.Unmarshal(body, &got)
		if res.StatusCode != tc.status || got.Code != tc.code || (tc.header[0] != "" && res.Header.Get(tc.header[0]) != tc.header[1]) {
			t.Errorf("%s with Prefer: %s = %d %s, %s: %q; want %d %s, %q", tc.op, tc.prefer, res.StatusCode, body, tc.header[0], res.Header.Get(tc.header[0]), tc.status, tc.code, tc.header[1])
		}
		if !strings.Contains(res.Header.Get(HeaderError), "asked for it") {
			t.Errorf("%s with Prefer: %s: X-Morimock-Error = %q; want it to say the request asked for it", tc.op, tc.prefer, res.Header.Get(HeaderError))
		}
	}
	if res, body := askFor(t, s, "listOrders", ""); res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"totalItems":1`)) {
		t.Errorf("the list after every create asked for an error = %d %s; want the one order made for its test-upload URL", res.StatusCode, body)
	}
	// The test-upload URL's token is its authentication: a bad one is refused first.
	h := http.Header{"Content-Type": {"image/jpeg"}, "Prefer": {"code=500"}}
	if res, body := send(t, s, "PUT", "/api/v2/test-uploads/tok.en-1", "x", h); res.StatusCode != http.StatusUnauthorized || !bytes.Contains(body, []byte("AUTH_TOKEN_INVALID")) {
		t.Errorf("PUT of a test-upload URL with a bad token and Prefer: code=500 = %d %s; want 401 AUTH_TOKEN_INVALID", res.StatusCode, body)
	}
}

// TestAskedErrorsThatCannotBeAnswered: a status the operation does not declare, an
// example its response does not have, and the keys that make up an order answer 400
// naming what the operation has; where it declares no 400 (the legacy webhook GET
// and DELETE) they are not read. The operation's own success status asks for nothing.
func TestAskedErrorsThatCannotBeAnswered(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	s := newServer(t, Config{Token: token})
	for _, tc := range []struct{ op, prefer, says string }{
		{"createAntiAiOrder", "code=404", "code 404 is not declared as an error of POST /api/v2/orders/anti-ai (its errors: 400, 401, 405, 429, 500)"},
		{"createAntiAiOrder", "code=400, example=nope", `declares no example "nope" for 400 (its examples: validationFailed, idempotencyKeyInvalid, usageLimitExceeded, usageNotEnough)`},
		{"listOrders", "code=500, example=nope", `declares no example "nope" for 500 (it has one, unnamed)`},
		{"createAntiAiOrder", "type=antiAi", "shape GET /api/v2/orders/{orderId} only"},
		{"createAntiAiOrder", "example=antiAi", "shape GET /api/v2/orders/{orderId} only"},
		{"createAntiAiOrder", "code=200, seed=4", "shape GET /api/v2/orders/{orderId} only"},
		{"createAntiAiOrder", "code=429, seed=4", "cannot be combined with type, status or seed"},
		{"getOrder", "code=429, status=complete", "cannot be combined with type, status or seed"},
		{"getOrder", "code=418", "code 418 is not declared as an error of GET /api/v2/orders/{orderId}"},
	} {
		res, body := askFor(t, s, tc.op, tc.prefer)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), codeInvalidParameter) || !strings.Contains(res.Header.Get(HeaderError), tc.says) {
			t.Errorf("%s with Prefer: %s = %d %s (%s); want 400 INVALID_PARAMETER saying %q", tc.op, tc.prefer, res.StatusCode, body, res.Header.Get(HeaderError), tc.says)
		}
	}
	// Every operation that declares a 400 refuses with one its contract allows (the
	// test upload's allows no INVALID_PARAMETER: it answers VALIDATION_FAILED).
	for opID := range askedRequests {
		res, body := askFor(t, s, opID, "code=418")
		r, route, params := askedRoute(t, s, opID)
		if route.Operation.Responses.Status(http.StatusBadRequest) == nil {
			continue // the legacy webhook GET and DELETE: checked below
		}
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Header.Get(HeaderError), "code 418 is not declared") {
			t.Errorf("%s with Prefer: code=418 = %d %s (%s); want 400 saying so", opID, res.StatusCode, body, res.Header.Get(HeaderError))
		}
		if err := s.spec.ValidateResponse(context.Background(), r, route, params, res.StatusCode, res.Header, body); err != nil {
			t.Errorf("%s with Prefer: code=418: the refusal breaks openapi.yaml: %v", opID, err)
		}
	}
	if res, body := askFor(t, s, "createAiDetectionOrder", "code=200"); res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"orderId"`)) {
		t.Errorf("create with Prefer: code=200 = %d %s; want the order made", res.StatusCode, body)
	}
	if res, body := askFor(t, s, "getOrder", "code=200, example=antiAi"); res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"type":"antiAi"`)) {
		t.Errorf("GET order with Prefer: code=200, example=antiAi = %d %s; want the example", res.StatusCode, body)
	}
	for _, prefer := range []string{"code=400", "code=418", "colour=red", "type=antiAi"} {
		if res, body := askFor(t, s, "getLegacyWebhook", prefer); res.StatusCode != http.StatusOK {
			t.Errorf("legacy GET webhook with Prefer: %s = %d %s; want its answer, the key not read", prefer, res.StatusCode, body)
		}
	}
}

// TestAskedErrorOnTheKeysOwnOrder: an error asked for comes before the order is read,
// so a client polling its own order can be answered a 429 or a 500 to try its
// retries; the order is unchanged, and the next poll answers it.
func TestAskedErrorOnTheKeysOwnOrder(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	s := newServer(t, Config{Token: token, ValidateResponses: true})
	res, body := askFor(t, s, "createAiDetectionOrder", "")
	var created struct{ Data struct{ OrderID string } }
	if err := json.Unmarshal(body, &created); err != nil || created.Data.OrderID == "" {
		t.Fatalf("create = %d %s; want an order", res.StatusCode, body)
	}
	own := bearer(token)
	own.Set("Prefer", "code=500")
	if res, body := send(t, s, "GET", "/api/v2/orders/"+created.Data.OrderID, "", own); res.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte("SERVER_INTERNAL_ERROR")) {
		t.Errorf("GET own order with Prefer: code=500 = %d %s; want 500", res.StatusCode, body)
	}
	if res, body := send(t, s, "GET", "/api/v2/orders/"+created.Data.OrderID, "", bearer(token)); res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status":"pending"`)) {
		t.Errorf("GET own order after = %d %s; want it pending", res.StatusCode, body)
	}
	own.Set("Prefer", "code=200") // its success status: asks for nothing
	if res, body := send(t, s, "GET", "/api/v2/orders/"+created.Data.OrderID, "", own); res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(created.Data.OrderID)) {
		t.Errorf("GET own order with Prefer: code=200 = %d %s; want the order", res.StatusCode, body)
	}
}
