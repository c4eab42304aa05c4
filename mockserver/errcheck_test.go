package mockserver

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/internal/syncbuf"
)

// TestEveryAnswerValidates sends every method to every path of openapi.yaml and
// sandbox.yaml, with no, a malformed and a good token and with no, an empty and a
// broken body, under --validate-responses: every answer, errors included, must keep
// the contract of its operation (for a 405, of an operation the path takes), checked
// here again with kin-openapi, and the server must never have had to replace one.
func TestEveryAnswerValidates(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	logs := &syncbuf.Buffer{}
	s := newServer(t, Config{Seed: 7, ValidateResponses: true, NoAccessLog: true,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	param := regexp.MustCompile(`\{[^}]+\}`)
	var paths []string
	for _, doc := range []*morimock.Spec{s.spec} {
		for p := range doc.Doc.Paths.Map() {
			paths = append(paths, p)
		}
		for p := range doc.Sandbox.Paths.Map() {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	auths := map[string]string{"none": "", "malformed": "Token abc", "good": "Bearer sk_test_everyanswer"}
	bodies := map[string]string{"none": "", "empty": "{}", "broken": "{not json"}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	statuses := map[int]int{}
	for _, p := range paths {
		target := param.ReplaceAllString(p, "42")
		for _, m := range methods {
			for an, auth := range auths {
				for bn, body := range bodies {
					name := m + " " + target + " auth=" + an + " body=" + bn
					var rd *strings.Reader
					if body != "" {
						rd = strings.NewReader(body)
					}
					r := httptest.NewRequest(m, target, nil)
					if rd != nil {
						r = httptest.NewRequest(m, target, rd)
						r.Header.Set("Content-Type", "application/json")
					}
					if auth != "" {
						r.Header.Set("Authorization", auth)
					}
					w := httptest.NewRecorder()
					s.ServeHTTP(w, r)
					statuses[w.Code]++
					if w.Code == http.StatusInternalServerError && strings.Contains(w.Header().Get(HeaderError), "broke the contract") {
						t.Errorf("%s: the server replaced its own answer: %s", name, w.Header().Get(HeaderError))
						continue
					}
					check := httptest.NewRequest(m, target, nil)
					route, params, err := s.spec.FindRoute(check)
					if errors.Is(err, morimock.ErrMethodNotAllowed) {
						if w.Code != http.StatusMethodNotAllowed {
							t.Errorf("%s: answered %d; want 405 for a method the path does not take", name, w.Code)
							continue
						}
						check.Method = s.spec.MethodsFor(check)[0]
						route, params, err = s.spec.FindRoute(check)
					}
					if err != nil {
						t.Fatalf("%s: no route for a path of the contract: %v", name, err)
					}
					if err := s.spec.ValidateResponse(r.Context(), check, route, params, w.Code, w.Header(), w.Body.Bytes()); err != nil {
						t.Errorf("%s: answer %d %s breaks the contract: %v", name, w.Code, w.Body.Bytes(), err)
					}
				}
			}
		}
	}
	// The errors a request can ask for by name, on the order route.
	for _, code := range []string{"400", "401", "404", "429", "500"} {
		r := httptest.NewRequest(http.MethodGet, "/api/v2/orders/42", nil)
		r.Header.Set("Authorization", auths["good"])
		r.Header.Set("Prefer", "code="+code)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		route, params, err := s.spec.FindRoute(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Code; got != map[string]int{"400": 400, "401": 401, "404": 404, "429": 429, "500": 500}[code] {
			t.Errorf("Prefer: code=%s answered %d", code, got)
		}
		if err := s.spec.ValidateResponse(r.Context(), r, route, params, w.Code, w.Header(), w.Body.Bytes()); err != nil {
			t.Errorf("Prefer: code=%s: answer %s breaks the contract: %v", code, w.Body.Bytes(), err)
		}
	}
	if l := logs.String(); strings.Contains(l, "failed validation") {
		t.Errorf("the server logged answers that broke the contract:\n%s", l)
	}
	t.Logf("statuses: %v", statuses)
}

// TestBrokenErrorAnswerIsReplaced: under --validate-responses an error answer that
// breaks the contract (an undeclared status, a code outside its enum) is logged and
// replaced by a 500, as a broken 200 is.
func TestBrokenErrorAnswerIsReplaced(t *testing.T) {
	logs := &syncbuf.Buffer{}
	s := newServer(t, Config{ValidateResponses: true, NoAccessLog: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"undeclared status", http.StatusTeapot, `{"code":"SERVER_INTERNAL_ERROR"}`},
		{"code outside the enum", http.StatusNotFound, `{"code":"NO_SUCH_CODE"}`},
		{"not the error schema", http.StatusBadRequest, `{"error":"bad"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v2/orders/42", nil)
			rec := httptest.NewRecorder()
			hold := &errorHold{ResponseWriter: rec}
			hold.Header().Set("Content-Type", "application/json")
			hold.Header().Set("Allow", "GET")
			hold.WriteHeader(tc.status)
			hold.Write([]byte(tc.body))
			s.release(hold, r)
			if rec.Code != http.StatusInternalServerError || rec.Body.String() != `{"code":"SERVER_INTERNAL_ERROR"}` {
				t.Errorf("answered %d %s; want 500 SERVER_INTERNAL_ERROR", rec.Code, rec.Body)
			}
			if rec.Header().Get("Allow") != "" {
				t.Errorf("the replaced answer kept Allow: %q", rec.Header().Get("Allow"))
			}
			if !strings.Contains(logs.String(), "response failed validation") {
				t.Errorf("no log line for the broken answer; log:\n%s", logs)
			}
		})
	}
}
