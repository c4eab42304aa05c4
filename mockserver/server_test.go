package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/order"
)

var update = flag.Bool("update", false, "rewrite golden files")

const token = "sk_test_0123456789abcdef"

func newServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	s, err := New(context.Background(), spectest.Load(tb), cfg)
	if err != nil {
		tb.Fatalf("New() error = %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() error = %v", err)
		}
	})
	return s
}

// check is one expectation about a response.
type check func(t *testing.T, res *http.Response, body []byte)

func hasStatus(want int) check {
	return func(t *testing.T, res *http.Response, _ []byte) {
		t.Helper()
		if res.StatusCode != want {
			t.Errorf("status = %d; want %d", res.StatusCode, want)
		}
	}
}

func hasHeader(k, want string) check {
	return func(t *testing.T, res *http.Response, _ []byte) {
		t.Helper()
		if got := res.Header.Get(k); got != want {
			t.Errorf("header %s = %q; want %q", k, got, want)
		}
	}
}

func headerContains(k, want string) check {
	return func(t *testing.T, res *http.Response, _ []byte) {
		t.Helper()
		if got := res.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("header %s = %q; want it to contain %q", k, got, want)
		}
	}
}

func lacksHeader(k string) check {
	return func(t *testing.T, res *http.Response, _ []byte) {
		t.Helper()
		if got, ok := res.Header[http.CanonicalHeaderKey(k)]; ok {
			t.Errorf("header %s = %q; want it absent", k, got)
		}
	}
}

func hasCode(want string) check {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		var e struct{ Code string }
		if err := json.Unmarshal(body, &e); err != nil || e.Code != want {
			t.Errorf("body = %s; want code %q", body, want)
		}
	}
}

func isOrder(typ order.Type, st order.Status) check {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		var d struct {
			Data struct {
				Type   order.Type
				Status order.Status
			}
		}
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if d.Data.Type != typ || d.Data.Status != st {
			t.Errorf("order is %s/%s; want %s/%s", d.Data.Type, d.Data.Status, typ, st)
		}
	}
}

func hasOrderID(want string) check {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		var d struct{ Data struct{ OrderID string } }
		if err := json.Unmarshal(body, &d); err != nil || d.Data.OrderID != want {
			t.Errorf("orderId = %q (%v); want %q", d.Data.OrderID, err, want)
		}
	}
}

func hasBody(want []byte) check {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		if diff := cmp.Diff(string(want), string(body)); diff != "" {
			t.Errorf("body mismatch (-want +got):\n%s", diff)
		}
	}
}

// request is one request of a table test.
type request struct {
	method, target string
	header         http.Header
}

func (rq request) do(t *testing.T, h http.Handler) (*http.Response, []byte) {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, rq.target, nil)
	for k, vs := range rq.header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// conforms checks every answer on the order route against openapi.yaml, and every
// 200 against the domain rules too.
func conforms(t *testing.T, s *Server, rq request, res *http.Response, body []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, rq.target, nil)
	route, params, err := s.spec.FindRoute(r)
	if err != nil || (rq.method != "" && rq.method != http.MethodGet) {
		return // not an operation of the contract
	}
	if err := s.spec.ValidateResponse(context.Background(), r, route, params, res.StatusCode, res.Header, body); err != nil {
		t.Errorf("answer breaks openapi.yaml: %v\n%s", err, body)
	}
	if res.StatusCode == http.StatusOK {
		if vs := order.CheckResponse(body, order.CheckOptions{OrderID: params["orderId"], Now: testNow}); len(vs) > 0 {
			t.Errorf("answer breaks rules: %v\n%s", vs, body)
		}
	}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func with(h http.Header, k, v string) http.Header {
	h = h.Clone()
	h.Add(k, v)
	return h
}

func TestServer(t *testing.T) {
	s := newServer(t, Config{Seed: 42, Token: token})
	auth := bearer(token)
	builtin, err := fixtures.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	fx := builtin[0]
	tests := []struct {
		name   string
		req    request
		checks []check
	}{
		{"generated order", request{target: "/api/v2/orders/1234515", header: auth}, []check{hasStatus(200), hasHeader("Content-Type", "application/json"), hasHeader(HeaderSource, "generated"), isOrder(order.AIDetection, order.Pending)}},
		{"no authorization", request{target: "/api/v2/orders/1"}, []check{hasStatus(401), hasCode("AUTH_NOT_AUTHENTICATED"), headerContains(HeaderError, "Authorization")}},
		{"not bearer", request{target: "/api/v2/orders/1", header: http.Header{"Authorization": {"Token " + token}}}, []check{hasStatus(401), hasCode("AUTH_TOKEN_INVALID_FORMAT")}},
		{"bare key", request{target: "/api/v2/orders/1", header: http.Header{"Authorization": {token}}}, []check{hasStatus(401), hasCode("AUTH_TOKEN_INVALID_FORMAT")}},
		{"empty bearer", request{target: "/api/v2/orders/1", header: http.Header{"Authorization": {"Bearer "}}}, []check{hasStatus(401), hasCode("AUTH_TOKEN_INVALID_FORMAT")}},
		{"lowercase scheme", request{target: "/api/v2/orders/1", header: http.Header{"Authorization": {"bearer " + token}}}, []check{hasStatus(200)}},
		{"two authorization headers", request{target: "/api/v2/orders/1", header: http.Header{"Authorization": {"Bearer " + token, "Bearer x"}}}, []check{hasStatus(401), hasCode("AUTH_TOKEN_INVALID_FORMAT")}},
		{"wrong token", request{target: "/api/v2/orders/1", header: bearer("sk_other")}, []check{hasStatus(401), hasCode("AUTH_TOKEN_INVALID")}},
		{"non-digit id", request{target: "/api/v2/orders/abc", header: auth}, []check{hasStatus(404), hasCode("ORDER_NOT_FOUND")}},
		{"21 digits", request{target: "/api/v2/orders/123456789012345678901", header: auth}, []check{hasStatus(404), hasCode("ORDER_NOT_FOUND")}},
		{"encoded slash", request{target: "/api/v2/orders/12%2F34", header: auth}, []check{hasStatus(404), hasCode("ORDER_NOT_FOUND")}},
		{"encoded digits", request{target: "/api/v2/orders/%31%32%33%34%35%31%35", header: auth}, []check{hasStatus(200), isOrder(order.AIDetection, order.Pending), hasOrderID("1234515")}},
		{"unknown path", request{target: "/api/v2/nothing", header: auth}, []check{hasStatus(404), hasCode("RESOURCE_NOT_FOUND")}},
		{"empty id", request{target: "/api/v2/orders/", header: auth}, []check{hasStatus(404)}},
		{"wrong method", request{method: http.MethodDelete, target: "/api/v2/orders/1", header: auth}, []check{hasStatus(405), hasHeader("Allow", "GET"), hasCode("METHOD_NOT_ALLOWED")}},
		{"HEAD", request{method: http.MethodHead, target: "/api/v2/orders/1", header: auth}, []check{hasStatus(405), hasHeader("Allow", "GET")}},
		{"prefer type and status", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "type=watermarkExtract, status=complete")}, []check{hasStatus(200), isOrder(order.WatermarkExtract, order.Complete)}},
		{"query type and status", request{target: "/api/v2/orders/77?__type=antiAi&__status=failed", header: auth}, []check{hasStatus(200), isOrder(order.AntiAI, order.Failed)}},
		{"prefer code 404", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "code=404")}, []check{hasStatus(404), hasCode("ORDER_NOT_FOUND")}},
		{"prefer code 429", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "code=429")}, []check{hasStatus(429), hasCode("RATE_LIMIT_EXCEEDED"), hasHeader("Retry-After", "1")}},
		{"prefer code 500", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "code=500")}, []check{hasStatus(500), hasCode("SERVER_INTERNAL_ERROR")}},
		{"prefer code 400", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "code=400")}, []check{hasStatus(400), hasCode("VALIDATION_FAILED")}},
		{"prefer code 401", request{target: "/api/v2/orders/77?__code=401", header: auth}, []check{hasStatus(401), hasCode("AUTH_NOT_AUTHENTICATED")}},
		{"prefer code 200", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "code=200")}, []check{hasStatus(200)}},
		{"undeclared code", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "code=418")}, []check{hasStatus(400), hasCode("INVALID_PARAMETER"), headerContains(HeaderError, "code 418 is not declared"), headerContains(HeaderError, "its errors: 400, 401, 404, 405, 429, 500")}},
		{"unknown prefer key", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "dynamic=true")}, []check{hasStatus(400), hasCode("INVALID_PARAMETER"), headerContains(HeaderError, `"dynamic"`)}},
		{"unknown example", request{target: "/api/v2/orders/77", header: with(auth, "Prefer", "example=nope")}, []check{hasStatus(400), headerContains(HeaderError, `no example named "nope"`), headerContains(HeaderError, "antiAi")}},
		{"example", request{target: "/api/v2/orders/555", header: with(auth, "Prefer", "example=antiAi")}, []check{hasStatus(200), hasHeader(HeaderSource, "example"), hasBody([]byte(`{"data":{"type":"antiAi","orderId":"555","channel":"api","thumbnailImageUrl":"https://s3.amazonaws.com/...","status":"complete","orderName":"anti_ai_2026-03-12","fileCount":3,"createdAt":"2026-03-12T10:00:00.000Z","updatedAt":"2026-03-12T10:05:00.000Z","errors":null}}`))}},
		{"example for non-digit id", request{target: "/api/v2/orders/x1?__example=antiAi", header: auth}, []check{hasStatus(404), hasCode("ORDER_NOT_FOUND")}},
		{"fixture", request{target: "/api/v2/orders/" + fx.ID, header: auth}, []check{hasStatus(200), hasHeader(HeaderSource, "fixture"), hasBody(fx.Body)}},
		{"fixture id with a chosen status is generated", request{target: "/api/v2/orders/" + fx.ID, header: with(auth, "Prefer", "type=antiAi, status=pending")}, []check{hasStatus(200), hasHeader(HeaderSource, "generated"), isOrder(order.AntiAI, order.Pending)}},
		{"healthz", request{target: "/healthz"}, []check{hasStatus(200), hasBody([]byte(`{"status":"ok"}`))}},
		{"openapi.yaml", request{target: "/openapi.yaml"}, []check{hasStatus(200), hasHeader("Content-Type", "application/yaml")}},
		{"cors preflight", request{method: http.MethodOptions, target: "/api/v2/orders/1", header: http.Header{"Origin": {"http://localhost:3000"}, "Access-Control-Request-Method": {"GET"}}}, []check{hasStatus(204), hasHeader("Access-Control-Allow-Origin", "*"), headerContains("Access-Control-Allow-Headers", "Prefer"), headerContains("Access-Control-Allow-Methods", "DELETE")}},
		{"cors on answers", request{target: "/api/v2/orders/1", header: with(auth, "Origin", "http://localhost:3000")}, []check{hasHeader("Access-Control-Allow-Origin", "*"), hasHeader(HeaderVersion, "dev"), hasHeader("Date", "Thu, 26 Nov 2026 10:30:00 GMT")}},
		{"no cors without an origin", request{target: "/api/v2/orders/1", header: auth}, []check{hasStatus(200), lacksHeader("Access-Control-Allow-Origin"), lacksHeader("Access-Control-Expose-Headers"), hasHeader(HeaderSource, "generated"), hasHeader("Content-Type", "application/json")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := tt.req.do(t, s)
			for _, c := range tt.checks {
				c(t, res, body)
			}
			conforms(t, s, tt.req, res, body)
		})
	}
}

// TestEveryScenarioConforms asks for every type x status over many ids, with and
// without response validation, and checks each answer against the contract.
func TestEveryScenarioConforms(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	for _, validate := range []bool{false, true} {
		s := newServer(t, Config{Seed: 3, ValidateResponses: validate})
		for _, typ := range order.Types() {
			for _, st := range order.Statuses() {
				t.Run(fmt.Sprintf("validate=%v/%s/%s", validate, typ, st), func(t *testing.T) {
					for i := 0; i < 25; i++ {
						rq := request{target: fmt.Sprintf("/api/v2/orders/%d", 900+i*37), header: with(bearer("any"), "Prefer", fmt.Sprintf("type=%s, status=%s", typ, st))}
						res, body := rq.do(t, s)
						hasStatus(200)(t, res, body)
						isOrder(typ, st)(t, res, body)
						conforms(t, s, rq, res, body)
					}
				})
			}
		}
	}
}

func TestExamplesAndFixturesConform(t *testing.T) {
	s := newServer(t, Config{})
	for name := range s.examples {
		rq := request{target: "/api/v2/orders/42", header: with(bearer("x"), "Prefer", "example="+name)}
		res, body := rq.do(t, s)
		hasStatus(200)(t, res, body)
		conforms(t, s, rq, res, body)
	}
	for _, id := range s.FixtureIDs() {
		rq := request{target: "/api/v2/orders/" + id, header: bearer("x")}
		res, body := rq.do(t, s)
		hasStatus(200)(t, res, body)
		conforms(t, s, rq, res, body)
	}
}

func TestRateLimit(t *testing.T) {
	s := newServer(t, Config{RateLimit: 2})
	rq := request{target: "/api/v2/orders/5", header: bearer("x")}
	for i := 0; i < 2; i++ {
		res, body := rq.do(t, s)
		hasStatus(200)(t, res, body)
	}
	res, body := rq.do(t, s)
	hasStatus(429)(t, res, body)
	hasCode("RATE_LIMIT_EXCEEDED")(t, res, body)
	hasHeader("Retry-After", "30")(t, res, body) // 2 a minute: one token every 30 s
	conforms(t, s, rq, res, body)
}

func TestErrorRateIsSeeded(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	count := func(seed int64) (fails int) {
		s := newServer(t, Config{Seed: seed, ErrorRate: 0.3})
		for i := 0; i < 400; i++ {
			res, body := request{target: fmt.Sprintf("/api/v2/orders/%d", i), header: bearer("x")}.do(t, s)
			if res.StatusCode == 500 {
				hasCode("SERVER_INTERNAL_ERROR")(t, res, body)
				fails++
			}
		}
		return fails
	}
	a, b := count(11), count(11)
	if a != b {
		t.Errorf("error injection with seed 11 failed %d then %d requests; want the same", a, b)
	}
	if a < 80 || a > 160 {
		t.Errorf("error rate 0.3 failed %d of 400 requests; want about 120", a)
	}
}

func TestDelayHonoursClientCancel(t *testing.T) {
	s := newServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest(http.MethodGet, "/api/v2/orders/1", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer x")
	r.Header.Set("Prefer", "delay=20s")
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { s.ServeHTTP(w, r); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a 20s delay did not end when the client went away")
	}
}

func TestAccessLogNeverHoldsTheToken(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(t, Config{Token: token, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	for _, h := range []http.Header{bearer(token), bearer("sk_wrong_secret"), {"Authorization": {token}}} {
		request{target: "/api/v2/orders/12?__type=antiAi", header: h}.do(t, s)
	}
	out := logs.String()
	for _, secret := range []string{token, "sk_wrong_secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("access log holds a token:\n%s", out)
		}
	}
	if n := strings.Count(out, `"msg":"request"`); n != 3 {
		t.Errorf("access log has %d request lines; want 3:\n%s", n, out)
	}
}

// TestAccessLogLine: one JSON line per request, with what an operator reads; the
// error key only on answers that explain themselves in X-Morimock-Error.
func TestAccessLogLine(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(t, Config{Token: token, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	request{target: "/api/v2/orders/12", header: bearer(token)}.do(t, s)
	request{target: "/api/v2/orders/12"}.do(t, s)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines; want 2:\n%s", len(lines), logs.String())
	}
	for _, k := range []string{"time", "level", "msg", "method", "path", "status", "bytes", "source", "duration"} {
		for i, l := range lines {
			if _, ok := l[k]; !ok {
				t.Errorf("line %d has no %s: %v", i, k, l)
			}
		}
	}
	ok, refused := lines[0], lines[1]
	if ok["status"] != 200.0 || ok["source"] != "generated" || ok["path"] != "/api/v2/orders/12" {
		t.Errorf("200 line = %v", ok)
	}
	if _, has := ok["error"]; has {
		t.Errorf("a 200 line carries an error: %v", ok)
	}
	if msg, _ := refused["error"].(string); refused["status"] != 401.0 || !strings.Contains(msg, "Authorization") {
		t.Errorf("401 line = %v; want status 401 and an error naming Authorization", refused)
	}
}

func TestNewRefusesBadFixture(t *testing.T) {
	o := Generate(1, "77", order.AIDetection, order.Complete, testNow)
	bad := fixtures.Fixture{Name: "mine/bad.json", ID: "77", Type: order.AIDetection, Status: order.Complete,
		Body: []byte(strings.Replace(string(o.AppendResponse(nil)), `"statusCode":"`, `"statusCode":"x`, 1))}
	_, err := New(context.Background(), spectest.Load(t), Config{Now: func() time.Time { return testNow }, Fixtures: []fixtures.Fixture{bad}})
	if err == nil || !strings.Contains(err.Error(), "mine/bad.json") {
		t.Fatalf("New() with a bad fixture error = %v; want one naming mine/bad.json", err)
	}
}

// TestGoldenBodies pins three generated bodies for a fixed seed and clock, the "same
// seed, same body" promise: a change to the generator that changes what users see
// shows up here. Between them they hold every field and every kind of draw (URLs,
// watermarks, a failure message, a result); TestGeneratedOrdersKeepTheContract
// covers what every other type and status may hold.
func TestGoldenBodies(t *testing.T) {
	s := newServer(t, Config{Seed: 2026})
	for _, c := range []struct {
		typ order.Type
		st  order.Status
	}{
		{order.AIDetection, order.Complete},
		{order.WatermarkEmbed, order.Failed},
		{order.WatermarkExtract, order.Complete},
	} {
		typ, st := c.typ, c.st
		t.Run(string(typ)+"_"+string(st), func(t *testing.T) {
			rq := request{target: "/api/v2/orders/424706541233094656", header: with(bearer("x"), "Prefer", fmt.Sprintf("type=%s, status=%s", typ, st))}
			_, body := rq.do(t, s)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "golden", string(typ)+"_"+string(st)+".json")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./mockserver -run TestGoldenBodies -update)", err)
			}
			if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuiltinFixturesThatDoNotFitTheClockAreLeftOut(t *testing.T) {
	var logs bytes.Buffer
	early := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newServer(t, Config{Now: func() time.Time { return early }, Logger: slog.New(slog.NewTextHandler(&logs, nil)), NoAccessLog: true})
	served := map[string]bool{}
	for _, id := range s.FixtureIDs() {
		served[id] = true
	}
	for _, id := range []string{"9000000000000000140", "9000000000000000440"} {
		if served[id] {
			t.Errorf("expired fixture %s is served under a clock of 2000-01-01", id)
		}
		res, _ := request{target: "/api/v2/orders/" + id, header: bearer("x")}.do(t, s)
		hasHeader(HeaderSource, "generated")(t, res, nil)
	}
	if !served["1234567890123456789"] {
		t.Error("the docs' antiAi fixture is not served; only fixtures that do not fit the clock are left out")
	}
	if n := strings.Count(logs.String(), "built-in fixture left out"); n != 4 {
		t.Errorf("log has %d 'left out' warnings; want 4 (one per expired fixture):\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "msg=request") {
		t.Errorf("NoAccessLog still wrote request lines:\n%s", logs.String())
	}
}

// TestLatencyAndDelayOnEveryOperation: --latency and Prefer: delay come before the
// answer of every operation, not only GET order's (a client that goes away meanwhile
// gets none, and the order is never made); the keys that make up GET order's answer
// answer 400 elsewhere rather than be dropped (TestAskedErrorsThatCannotBeAnswered
// has the rest).
func TestLatencyAndDelayOnEveryOperation(t *testing.T) {
	create := func(s *Server, prefer string, ctx context.Context) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/v2/orders/ai-detection", strings.NewReader(`{"idempotencyKey":"k","fileName":"a.png"}`)).WithContext(ctx)
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		if prefer != "" {
			r.Header.Set("Prefer", prefer)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	gone := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	for name, tc := range map[string]struct {
		cfg    Config
		prefer string
	}{
		"latency":       {Config{Token: token, Latency: Latency{Min: 20 * time.Second}}, ""},
		"Prefer: delay": {Config{Token: token}, "delay=20s"},
	} {
		s := newServer(t, tc.cfg)
		if w := create(s, tc.prefer, gone()); w.Body.Len() != 0 {
			t.Errorf("%s: a create whose client went away during the wait answered %d %s; want nothing", name, w.Code, w.Body)
		}
		// The streamed paths too: a test upload (an operation of openapi.yaml), and
		// for --latency the storage URLs, which would refuse these unsigned PUTs at
		// once.
		targets := []string{"/api/v2/test-uploads/x"}
		if tc.prefer == "" {
			targets = append(targets, "/_morimock/files/x")
		}
		for _, target := range targets {
			r := httptest.NewRequest(http.MethodPut, target, strings.NewReader("x")).WithContext(gone())
			if tc.prefer != "" {
				r.Header.Set("Prefer", tc.prefer)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Body.Len() != 0 {
				t.Errorf("%s: PUT %s whose client went away during the wait answered %d %s; want nothing", name, target, w.Code, w.Body)
			}
		}
		if tc.prefer != "" { // no latency: the list answers at once
			if res, body := (request{target: "/api/v2/orders", header: bearer(token)}).do(t, s); res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"totalItems":0`)) {
				t.Errorf("%s: the list after the create that waited = %d %s; want no order", name, res.StatusCode, body)
			}
		}
	}
	s := newServer(t, Config{Token: token})
	for _, prefer := range []string{"type=antiAi", "example=antiAi", "seed=4", "status=complete"} {
		w := create(s, prefer, context.Background())
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Header().Get(HeaderError), "shape GET /api/v2/orders/{orderId} only") {
			t.Errorf("create with Prefer: %s = %d %q; want 400 saying the key is GET order's", prefer, w.Code, w.Header().Get(HeaderError))
		}
	}
	if w := create(s, "colour=red", context.Background()); w.Code != http.StatusBadRequest || !strings.Contains(w.Header().Get(HeaderError), `unknown scenario key "colour"`) {
		t.Errorf("create with an unknown Prefer key = %d %q; want 400 naming it", w.Code, w.Header().Get(HeaderError))
	}
	if w := create(s, "delay=1ms, return=minimal", context.Background()); w.Code != http.StatusOK {
		t.Errorf("create with Prefer: delay=1ms, return=minimal = %d %s; want 200", w.Code, w.Body)
	}
}
