package mockserver

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// FuzzHandler drives the whole handler with hostile requests: any method, any request
// target (with {id} replaced by id), any Prefer and Authorization, extra raw header
// lines (duplicates, oversized, smuggled) and a body on GET. Whatever arrives, the
// handler must not panic, must answer, must answer only a status the contract
// declares for the route (or 404/405 off it), and every answer on the route must
// match openapi.yaml, every 200 the domain rules too.
//
// The request is parsed from raw bytes by net/http, as the server would parse it, so
// the fuzzer reaches the handler with what a socket can deliver; what net/http refuses
// the server answers itself and is tested over a real socket in cmd/morimock.
//
// No header of the answer may show the server's token or the request's own.
//
// Seeds are in testdata/fuzz/FuzzHandler: ids of 10 kB, NUL and unicode, percent-encoded
// slashes and dots, duplicate and oversized headers, bodies on GET, odd methods, tokens
// in a scenario value, a __ key, the path and the method.
func FuzzHandler(f *testing.F) {
	s := newServer(f, Config{Seed: 7, Token: token})
	f.Add("GET", "/api/v2/orders/{id}", "1234567890123456789", "", "Bearer "+token, "", []byte(nil))
	f.Add("POST", "/api/v2/orders/ai-detection", "", "", "Bearer "+token, "Content-Type: application/json", []byte(`{"idempotencyKey":"k","fileName":"{id}.jpg"}`))
	f.Add("POST", "/api/v2/orders/anti-ai", "", "", "Bearer "+token, "Content-Type: application/json", []byte(`{"idempotencyKey":"k k","files":[]}`))
	f.Add("GET", "/_morimock/files/{id}", "a%2Fb", "", "", "", []byte(nil))
	f.Add("PUT", "/api/v2/test-uploads/{id}", "tok", "", "", "Content-Type: image/png", []byte("png"))
	f.Fuzz(func(t *testing.T, method, target, id, prefer, auth, extra string, body []byte) {
		r, ok := parseRequest(method, target, id, prefer, auth, extra, body)
		if !ok {
			return // net/http refuses it before any handler runs
		}
		// A request may ask for a delay of up to MaxDelay; the handler honours it by
		// design. Such inputs say nothing new, and would only slow the fuzzer down.
		if sc, err := ParseScenario(r.Header.Values("Prefer"), r.URL.Query()); err == nil && sc.Delay > 0 {
			t.Skip("asks for a delay")
		}
		// A backstop: should anything else make the handler wait, it gives up here and
		// the missing answer below fails the input.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r = r.WithContext(ctx)

		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		res := w.Result()
		got := w.Body.Bytes()

		if isPreflight(r) {
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("CORS preflight answered %d; want 204", res.StatusCode)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("%s %q: no answer (status %d, empty body)", r.Method, r.RequestURI, res.StatusCode)
		}
		route, params, err := s.spec.FindRoute(r)
		switch {
		case err == nil && r.URL.Path != "/healthz" && r.URL.Path != "/openapi.yaml" && route.Operation.OperationID != opGetOrder:
			// An operation this build does not implement yet: a declared status with a
			// conforming body when the request was refused before it, else the interim 404.
			if strings.Contains(res.Header.Get(HeaderError), "not implemented in this build") {
				if res.StatusCode != http.StatusNotFound {
					t.Fatalf("%s %q: interim answer %d; want 404", r.Method, r.RequestURI, res.StatusCode)
				}
				break
			}
			if route.Operation.Responses.Status(res.StatusCode) == nil {
				t.Fatalf("%s %q: status %d is not declared for %s\n%s", r.Method, r.RequestURI, res.StatusCode, route.Operation.OperationID, got)
			}
			if res.Header.Get("Content-Type") == "application/xml" {
				return // S3's XML errors, which kin-openapi cannot decode
			}
			if err := s.spec.ValidateResponse(context.Background(), r, route, params, res.StatusCode, res.Header, got); err != nil {
				t.Fatalf("%s %q: answer %d breaks its document: %v\n%s", r.Method, r.RequestURI, res.StatusCode, err, got)
			}
		case err == nil && r.URL.Path != "/healthz" && r.URL.Path != "/openapi.yaml":
			// An operation of the contract: a declared status and a conforming body.
			if route.Operation.Responses.Status(res.StatusCode) == nil {
				t.Fatalf("%s %q: status %d is not declared for the route (want one of %s)\n%s", r.Method, r.RequestURI, res.StatusCode, slices.Sorted(maps.Keys(route.Operation.Responses.Map())), got)
			}
			if err := s.spec.ValidateResponse(context.Background(), r, route, params, res.StatusCode, res.Header, got); err != nil {
				t.Fatalf("%s %q: answer %d breaks openapi.yaml: %v\n%s", r.Method, r.RequestURI, res.StatusCode, err, got)
			}
			if res.StatusCode == http.StatusOK {
				if vs := order.CheckResponse(got, order.CheckOptions{OrderID: params["orderId"], Now: testNow}); len(vs) > 0 {
					t.Fatalf("%s %q: 200 breaks the rules: %v\n%s", r.Method, r.RequestURI, vs, got)
				}
			}
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/openapi.yaml"):
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %q: %d; want 200", r.Method, r.RequestURI, res.StatusCode)
			}
			return
		default:
			// Off the contract: the path does not exist, or the method is not GET.
			if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("%s %q (path %q): status %d; want 404 or 405 off the contract\n%s", r.Method, r.RequestURI, r.URL.Path, res.StatusCode, got)
			}
		}
		var e struct {
			Code *string `json:"code"`
		}
		if res.StatusCode != http.StatusOK && (json.Unmarshal(got, &e) != nil || e.Code == nil) {
			t.Fatalf("%s %q: error %d body %q; want {\"code\": ...}", r.Method, r.RequestURI, res.StatusCode, got)
		}
		for k, vs := range res.Header {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("response header %s = %q holds characters unsafe in a header", k, v)
				}
				// A token that is part of the marker itself cannot be told from it;
				// one shorter than any API key is not hidden (see minSecret).
				for _, sec := range s.secrets(r) {
					if len(sec) >= minSecret && !strings.Contains(redacted, sec) && strings.Contains(v, sec) {
						t.Fatalf("response header %s = %q shows the token %q", k, v, sec)
					}
				}
			}
		}
	})
}

// parseRequest builds the raw HTTP/1.1 request and parses it with net/http, reporting
// false when net/http refuses it, as the server would before any handler runs.
func parseRequest(method, target, id, prefer, auth, extra string, body []byte) (*http.Request, bool) {
	var b strings.Builder
	b.WriteString(method + " " + strings.ReplaceAll(target, "{id}", id) + " HTTP/1.1\r\nHost: mock.test\r\n")
	if prefer != "" {
		b.WriteString("Prefer: " + prefer + "\r\n")
	}
	if auth != "" {
		b.WriteString("Authorization: " + auth + "\r\n")
	}
	if extra != "" {
		b.WriteString(strings.TrimRight(extra, "\r\n") + "\r\n")
	}
	if len(body) > 0 {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		return nil, false
	}
	r.RemoteAddr = "192.0.2.1:1234"
	return r, true
}
