package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMethodNotAllowedIsDeclared: the streamed paths answer 405 to a method they do
// not take, and that answer (status, media type, body) is one the contract declares
// on the path's operations.
func TestMethodNotAllowedIsDeclared(t *testing.T) {
	c := startSandbox(t, Config{})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", liveKey, map[string]any{"idempotencyKey": "m405", "files": []map[string]string{{"fileName": "a.jpg"}}}, &o)
	var ot created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", testKey, map[string]any{"idempotencyKey": "m405", "files": []map[string]string{{"fileName": "a.jpg"}}}, &ot)
	for _, tc := range []struct{ method, url, declaredOn string }{
		{http.MethodPost, o.Files[0].UploadURL, http.MethodPut},
		{http.MethodDelete, o.Files[0].UploadURL, http.MethodGet},
		{http.MethodGet, ot.Files[0].UploadURL, http.MethodPut},
		{http.MethodPost, ot.Files[0].UploadURL, http.MethodPut},
	} {
		res, body := c.do(tc.method, tc.url, "", nil)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") == "" {
			t.Errorf("%s %s = %d (Allow %q); want 405 with Allow", tc.method, tc.url, res.StatusCode, res.Header.Get("Allow"))
			continue
		}
		req := httptest.NewRequest(tc.declaredOn, tc.url, nil)
		route, params, err := c.spec.FindRoute(req)
		if err != nil {
			t.Fatalf("FindRoute(%s %s) error = %v", tc.declaredOn, tc.url, err)
		}
		declared := route.Operation.Responses.Status(res.StatusCode)
		if declared == nil || declared.Value == nil || declared.Value.Content.Get(res.Header.Get("Content-Type")) == nil {
			t.Errorf("%s %s: %s %s declares no %d %s", tc.method, tc.url, tc.declaredOn, route.Path, res.StatusCode, res.Header.Get("Content-Type"))
			continue
		}
		if res.Header.Get("Content-Type") != "application/json" {
			continue // kin-openapi reads no XML; the media type and status are declared
		}
		if err := c.spec.ValidateResponse(req.Context(), req, route, params, res.StatusCode, res.Header, body); err != nil {
			t.Errorf("%s %s: the 405 breaks the contract of %s %s: %v", tc.method, tc.url, tc.declaredOn, route.Path, err)
		}
	}
}
