package mockserver

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// send makes one request with a body to the server and returns the answer.
func send(t *testing.T, s *Server, method, target, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	res := w.Result()
	got, _ := io.ReadAll(res.Body)
	return res, got
}

// amz is a well-formed set of presigned query parameters.
const amz = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=morimock%2F20260312%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260312T100000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestNewOperationsRoute sends a valid request to every operation but GET order, of
// both documents: each is routed and validated (no 405, no 400) and reaches its
// handler (none answers the interim 404 of the build before the handlers).
func TestNewOperationsRoute(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	s := newServer(t, Config{Token: token})
	bearer := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	raw := http.Header{"Content-Type": {"image/jpeg"}}
	tests := []struct {
		op, method, target, body string
		header                   http.Header
	}{
		{"createAntiAiOrder", "POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"k-1","files":[{"fileName":"photo.jpg"}],"options":{"strength":"high"}}`, bearer},
		{"confirmAntiAiOrder", "POST", "/api/v2/orders/anti-ai/confirm", `{"idempotencyKey":"k-2","orderId":"123456789"}`, bearer},
		{"createAntiAiOrderWithUrls", "POST", "/api/v2/orders/anti-ai/with-urls", `{"idempotencyKey":"k-3","files":[{"fileName":"a.png","imageUrl":"https://example.com/a.png"}]}`, bearer},
		{"createWatermarkEmbedOrder", "POST", "/api/v2/orders/wtr-embed", `{"idempotencyKey":"k-4","files":[{"fileName":"doc.PDF","watermarks":[{"text":"MORI"}]}]}`, bearer},
		{"createWatermarkExtractOrder", "POST", "/api/v2/orders/wtr-extract", `{"idempotencyKey":"k-5","file":{"fileName":"w.jpg","includeOriginal":true,"originalFile":{"fileName":"o.jpg"}}}`, bearer},
		{"createAiDetectionOrder", "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"k-6","fileName":"photo_ai.webp"}`, bearer},
		{"confirmAiDetectionOrder", "POST", "/api/v2/orders/ai-detection/confirm", `{"idempotencyKey":"k-7","orderId":"1"}`, bearer},
		{"listOrders", "GET", "/api/v2/orders?page=2&limit=100&status=complete&type=aiDetection&channel=api&keyword=x", "", bearer},
		{"getRecentStats", "GET", "/api/v2/orders/stats/recent?date=2026-03-12", "", bearer},
		{"downloadOrder", "GET", "/api/v2/orders/123/download", "", bearer},
		{"refreshUploadUrls", "POST", "/api/v2/orders/123/refresh-urls", "", bearer},
		{"uploadTestFile", "PUT", "/api/v2/test-uploads/tok.en-1", "\xff\xd8 not really a jpeg", raw},
		{"getClock", "GET", "/_morimock/clock", "", bearer},
		{"setClock", "POST", "/_morimock/clock", `{"advance":"7d12h"}`, bearer},
		{"setClock", "POST", "/_morimock/clock", `{"set":"2026-09-01T09:00:00Z"}`, bearer},
		{"resetTenant", "POST", "/_morimock/reset", "", bearer},
		{"putStoredFile", "PUT", "/_morimock/files/wtr-embed%2F1%2Fimages%2F1%2Fa.jpg?" + amz, "bytes", raw},
		{"getStoredFile", "GET", "/_morimock/files/abc?" + amz, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.method+" "+tt.target, func(t *testing.T) {
			res, body := send(t, s, tt.method, tt.target, tt.body, tt.header)
			if res.StatusCode == http.StatusMethodNotAllowed || bytes.Contains(body, []byte(codeValidationFailed)) || strings.Contains(res.Header.Get(HeaderError), "not implemented in this build") {
				t.Fatalf("%s %s = %d %s (%s); want %s's handler to answer", tt.method, tt.target, res.StatusCode, body, res.Header.Get(HeaderError), tt.op)
			}
		})
	}
}

// TestRequestValidation holds the new operations' requests to the contract: what it
// refuses answers 400 with the documented code and the reason in X-Morimock-Error.
func TestRequestValidation(t *testing.T) {
	s := newServer(t, Config{Token: token})
	bearer := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	tests := []struct {
		name, method, target, body string
		header                     http.Header
		checks                     []check
	}{
		{"extension not listed", "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"k","fileName":"photo.gif"}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed), headerContains(HeaderError, "fileName")}},
		{"pdf on ai-detection", "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"k","fileName":"doc.pdf"}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"unknown field", "POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"k","files":[{"fileName":"a.jpg"}],"ordername":"typo"}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed), headerContains(HeaderError, "ordername")}},
		{"orderName on wtr-embed", "POST", "/api/v2/orders/wtr-embed", `{"idempotencyKey":"k","orderName":"n","files":[{"fileName":"a.jpg","watermarks":[{"text":"t"}]}]}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"malformed idempotency key", "POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"has space","files":[{"fileName":"a.jpg"}]}`, bearer,
			[]check{hasStatus(400), hasCode(codeIdempotencyKeyInvalid)}},
		{"empty idempotency key on confirm", "POST", "/api/v2/orders/ai-detection/confirm", `{"idempotencyKey":"","orderId":"1"}`, bearer,
			[]check{hasStatus(400), hasCode(codeIdempotencyKeyInvalid)}},
		{"missing idempotency key", "POST", "/api/v2/orders/anti-ai", `{"files":[{"fileName":"a.jpg"}]}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"numeric orderId", "POST", "/api/v2/orders/anti-ai/confirm", `{"idempotencyKey":"k","orderId":123}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"limit -1 (C16)", "GET", "/api/v2/orders?limit=-1", "", bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed), headerContains(HeaderError, "limit")}},
		{"101 files", "POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"k","files":[` + strings.Repeat(`{"fileName":"a.jpg"},`, 100) + `{"fileName":"a.jpg"}]}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"no token", "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"k","fileName":"a.jpg"}`, http.Header{"Content-Type": {"application/json"}},
			[]check{hasStatus(401), hasCode(codeNotAuthenticated)}},
		{"test upload needs no token", "PUT", "/api/v2/test-uploads/t", "x", nil,
			[]check{hasStatus(401), hasCode(codeTokenInvalid), headerContains(HeaderError, "test-upload token")}},
		{"clock: both moves", "POST", "/_morimock/clock", `{"advance":"1s","set":"2026-09-01T09:00:00Z"}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"clock: negative", "POST", "/_morimock/clock", `{"advance":"-1h"}`, bearer,
			[]check{hasStatus(400), hasCode(codeValidationFailed)}},
		{"clock: no token", "GET", "/_morimock/clock", "", nil,
			[]check{hasStatus(401), hasCode(codeNotAuthenticated)}},
		{"storage: no signature answers S3 XML", "GET", "/_morimock/files/abc", "", nil,
			[]check{hasStatus(400), hasHeader("Content-Type", "application/xml"), hasS3Code("AuthorizationQueryParametersError")}},
		{"POST on an order is still 405", "POST", "/api/v2/orders/1", "", bearer,
			[]check{hasStatus(405), hasHeader("Allow", "GET"), hasCode(codeMethodNotAllowed)}},
		{"GET on a create path is 405", "GET", "/api/v2/orders/anti-ai", "", bearer,
			[]check{hasStatus(405), hasHeader("Allow", "POST"), hasCode(codeMethodNotAllowed)}},
		{"DELETE on the clock lists its methods", "DELETE", "/_morimock/clock", "", bearer,
			[]check{hasStatus(405), hasHeader("Allow", "GET, POST")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := send(t, s, tt.method, tt.target, tt.body, tt.header)
			for _, c := range tt.checks {
				c(t, res, body)
			}
		})
	}
}

func hasS3Code(want string) check {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		if !strings.Contains(string(body), "<Error><Code>"+want+"</Code>") {
			t.Errorf("body = %s; want an S3 error with code %s", body, want)
		}
	}
}
