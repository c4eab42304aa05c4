package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/mockserver"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// stopServe cancels a served server, as SIGTERM does, and returns what run returned.
func stopServe(t *testing.T, s *served) error {
	t.Helper()
	s.stop()
	returned, err := s.wait(15 * time.Second)
	if !returned {
		t.Fatal("serve did not stop within 15s")
	}
	return err
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func TestServeEndToEnd(t *testing.T) {
	const tok = "sk_test_e2e_secret_token"
	s := serveWith(t, nil, "--token", tok, "--seed", "9", "--now", "2026-03-20T12:00:00Z", "--validate-responses", "--log-format", "json")
	base, logs := "http://"+s.addr, s.stderr
	auth := map[string]string{"Authorization": "Bearer " + tok}

	res, body := get(t, base+"/api/v2/orders/1234567890123456789", auth)
	if res.StatusCode != 200 || res.Header.Get(mockserver.HeaderSource) != "fixture" {
		t.Fatalf("GET the docs' antiAi order = %d %s %s; want 200 from a fixture", res.StatusCode, res.Header.Get(mockserver.HeaderSource), body)
	}
	if got := res.Header.Get("Date"); got != "Fri, 20 Mar 2026 12:00:00 GMT" {
		t.Errorf("Date = %q; want the frozen clock", got)
	}

	for _, typ := range []string{"antiAi", "watermarkEmbed", "watermarkExtract", "aiDetection"} {
		for _, st := range []string{"pending", "inProgress", "complete", "failed", "expired"} {
			h := map[string]string{"Authorization": "Bearer " + tok, "Prefer": "type=" + typ + ", status=" + st}
			res, body := get(t, base+"/api/v2/orders/555000111", h)
			var d struct {
				Data struct{ Type, Status, OrderID string }
			}
			if err := json.Unmarshal(body, &d); err != nil || res.StatusCode != 200 {
				t.Fatalf("GET %s/%s = %d %s", typ, st, res.StatusCode, body)
			}
			if d.Data.Type != typ || d.Data.Status != st || d.Data.OrderID != "555000111" {
				t.Errorf("GET %s/%s gave %+v", typ, st, d.Data)
			}
		}
	}
	// The same request gives the same body: the order is a function of seed, id and clock.
	_, a := get(t, base+"/api/v2/orders/42", auth)
	_, b := get(t, base+"/api/v2/orders/42", auth)
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("two GETs of order 42 mismatch (-first +second):\n%s", diff)
	}

	if res, _ := get(t, base+"/api/v2/orders/42", map[string]string{"Authorization": "Bearer wrong"}); res.StatusCode != 401 {
		t.Errorf("wrong token = %d; want 401", res.StatusCode)
	}
	if res, _ := get(t, base+"/openapi.yaml", nil); res.StatusCode != 200 {
		t.Errorf("GET /openapi.yaml = %d; want 200", res.StatusCode)
	}
	if err := stopServe(t, s); err != nil {
		t.Fatalf("serve after SIGTERM-like cancel = %v; want nil", err)
	}
	if strings.Contains(logs.String(), tok) {
		t.Errorf("the log holds the token:\n%s", logs.String())
	}
	// 25 requests above; the log is written in batches, and all of it before run returns.
	if n := strings.Count(logs.String(), `"msg":"request"`); n != 25 {
		t.Errorf("the log has %d request lines; want 25\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("the log does not say the server stopped:\n%s", logs.String())
	}
}

func TestServeUserFixtures(t *testing.T) {
	dir := t.TempDir()
	body := `{"data":{"type":"antiAi","orderId":"777","channel":"web","thumbnailImageUrl":null,"status":"pending","orderName":"my-own","fileCount":2,"createdAt":"2026-03-01T00:00:00.000Z","updatedAt":"2026-03-01T00:00:00.000Z","errors":null}}`
	if err := os.WriteFile(filepath.Join(dir, "mine.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "http://" + serveWith(t, map[string]string{"MORIMOCK_FIXTURES": dir}).addr
	res, got := get(t, base+"/api/v2/orders/777", map[string]string{"Authorization": "Bearer x"})
	if res.StatusCode != 200 || string(got) != body {
		t.Errorf("GET the user's fixture = %d %s; want 200 %s", res.StatusCode, got, body)
	}
}

func TestServeRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"data":{"type":"aiDetection","orderId":"88"}}`), 0o644)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad latency", []string{"--latency", "fast"}, nil, `latency "fast"`},
		{"bad rate limit", []string{"--rate-limit", "gold"}, nil, `rate limit "gold"`},
		{"bad error rate", []string{"--error-rate", "2"}, nil, "error-rate 2"},
		{"error rate NaN", []string{"--error-rate", "NaN"}, nil, "error-rate NaN"},
		{"failure rate NaN", []string{"--failure-rate", "NaN"}, nil, "failure-rate NaN"},
		{"bad clock", []string{"--now", "yesterday"}, nil, `now "yesterday"`},
		{"bad env", nil, map[string]string{"MORIMOCK_SEED": "abc"}, `MORIMOCK_SEED="abc"`},
		{"bad port", nil, map[string]string{"PORT": "http"}, `PORT="http": want a port number`},
		{"bad address", []string{"--addr", "256.0.0.1:1"}, nil, "listen on 256.0.0.1:1"},
		{"unknown flag", []string{"--colour"}, nil, "flag provided but not defined: -colour"},
		{"stray argument", []string{"now"}, nil, "serve takes no arguments"},
		{"bad fixture", []string{"--fixtures", dir}, nil, "broken.json"},
		{"missing fixtures dir", []string{"--fixtures", filepath.Join(dir, "nope")}, nil, "nope"},
		{"log format", []string{"--log-format", "xml"}, nil, `log-format "xml"`},
		{"no webhook timeout", []string{"--webhook-timeout", "0s"}, nil, "webhook-timeout 0s"},
		{"webhook timeout too long", []string{"--webhook-timeout", "1h"}, nil, "webhook-timeout 1h0m0s"},
		{"webhook timeout env", nil, map[string]string{"MORIMOCK_WEBHOOK_TIMEOUT": "soon"}, `MORIMOCK_WEBHOOK_TIMEOUT="soon"`},
		{"no deliveries", []string{"--max-deliveries", "0"}, nil, "max-deliveries 0"},
		{"image work", []string{"--image-work", "gpu"}, nil, `image-work "gpu": want process or inline`},
		{"image work env", nil, map[string]string{"MORIMOCK_IMAGE_WORK": "elsewhere"}, `MORIMOCK_IMAGE_WORK="elsewhere": image-work "elsewhere"`},
		{"image workers env", nil, map[string]string{"MORIMOCK_IMAGE_WORKERS": "0"}, `MORIMOCK_IMAGE_WORKERS="0": image-workers 0: want 1 to 64`},
		{"latency env", nil, map[string]string{"MORIMOCK_LATENCY": "fast"}, `MORIMOCK_LATENCY="fast": latency "fast"`},
		{"debug addr env", nil, map[string]string{"MORIMOCK_DEBUG_ADDR": "0.0.0.0:6060"}, `MORIMOCK_DEBUG_ADDR="0.0.0.0:6060": debug-addr`},
		// The command line wins over the environment, and its value is the one named.
		{"flag over env", []string{"--image-workers", "0"}, map[string]string{"MORIMOCK_IMAGE_WORKERS": "2"}, "image-workers 0: want 1 to 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(withSpec(t, context.Background()), append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...), envOf(tt.env), nil, io.Discard, &stderr)
			if err == nil {
				t.Fatalf("run(serve %q) = nil; want an error", tt.args)
			}
			if msg := err.Error() + stderr.String(); !strings.Contains(msg, tt.want) {
				t.Errorf("run(serve %q) error = %q; want it to contain %q", tt.args, msg, tt.want)
			}
		})
	}
}

func TestParseServeEnvironment(t *testing.T) {
	o, err := parseServe([]string{"--seed", "5"}, envOf(map[string]string{
		"PORT": "9999", "MORIMOCK_SEED": "3", "MORIMOCK_TOKEN": "t", "MORIMOCK_LATENCY": "10ms-20ms",
		"MORIMOCK_RATE_LIMIT": "pro", "MORIMOCK_VALIDATE_RESPONSES": "true", "MORIMOCK_NOW": "2026-03-12T10:00:00Z",
		"MORIMOCK_ERROR_RATE": "0.1", "MORIMOCK_QUIET": "1",
		"MORIMOCK_WEBHOOK_TIMEOUT": "750ms", "MORIMOCK_MAX_DELIVERIES": "4", "MORIMOCK_IMAGE_WORKERS": "3",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{o.addr, o.seed, o.token, o.latency.String(), o.rateLimit, o.validateResponses, o.now.Format(time.RFC3339), o.errorRate, o.quiet, o.webhookTimeout, o.maxDeliveries, o.imageWorkers}
	want := []any{":9999", int64(5), "t", "10ms-20ms", 300, true, "2026-03-12T10:00:00Z", 0.1, true, 750 * time.Millisecond, 4, 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseServe() mismatch (-want +got):\n%s", diff)
	}
}

func TestRunCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envOf(nil), nil, &out, &errb); err != nil || out.String() != "morimock dev\n" {
		t.Errorf("run(version) = %v, %q; want nil, %q", err, out.String(), "morimock dev\n")
	}
	err := run(context.Background(), []string{"frobnicate"}, envOf(nil), nil, &out, &errb)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("run(frobnicate) = %v; want exit 2 naming the command", err)
	}
	if err := run(context.Background(), []string{"image-worker", "x"}, envOf(nil), nil, &out, &errb); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "serve starts it") {
		t.Errorf("run(image-worker x) = %v; want exit 2 saying serve starts it", err)
	}
	// Run by hand, from a terminal (a character device, as /dev/null is), it says so
	// rather than wait for a job.
	tty, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if err := run(context.Background(), []string{"image-worker"}, envOf(nil), tty, &out, &errb); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "not a command to run yourself") {
		t.Errorf("run(image-worker) from a terminal = %v; want exit 2 saying it is not a command to run", err)
	}
	if err := run(context.Background(), nil, envOf(nil), nil, &out, &errb); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("run() = %v; want exit 2 with usage", err)
	}
}

func TestHealthcheck(t *testing.T) {
	s := serveLoopback(t)
	base := "http://" + s.addr
	var out bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck", "--url", base + "/healthz"}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatalf("healthcheck against a running server = %v", err)
	}
	stopServe(t, s)
	err := run(context.Background(), []string{"healthcheck", "--url", base + "/healthz", "--timeout", "500ms"}, envOf(nil), nil, &out, io.Discard)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("healthcheck against a stopped server = %v; want exit 1", err)
	}
}

func TestHealthURLFollowsServe(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:8080/healthz"},
		{map[string]string{"PORT": "9000"}, "http://127.0.0.1:9000/healthz"},
		{map[string]string{"PORT": "9000", "MORIMOCK_ADDR": "127.0.0.1:9100"}, "http://127.0.0.1:9100/healthz"},
		{map[string]string{"MORIMOCK_ADDR": "0.0.0.0:9200"}, "http://127.0.0.1:9200/healthz"},
		{map[string]string{"MORIMOCK_ADDR": "[::1]:9300"}, "http://[::1]:9300/healthz"},
		{map[string]string{"MORIMOCK_ADDR": "localhost:9400"}, "http://localhost:9400/healthz"},
	}
	for _, tt := range tests {
		if got := healthURL(envOf(tt.env)); got != tt.want {
			t.Errorf("healthURL(%v) = %q; want %q", tt.env, got, tt.want)
		}
	}
}

// TestWorkProcs: for serve, main gives long image jobs a P of their own unless
// GOMAXPROCS is set; a serve whose flags do not parse, and other commands, keep Go's.
func TestWorkProcs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"serve"}, nil, true},
		{[]string{"serve", "--image-workers", "4"}, nil, true},
		{[]string{"serve"}, map[string]string{"GOMAXPROCS": "1"}, false},
		{[]string{"serve", "--image-workers", "0"}, nil, false},
		{[]string{"serve", "--no-such-flag"}, nil, false},
		{[]string{"check"}, nil, false},
		{nil, nil, false},
	} {
		if got := workProcs(tt.args, envOf(tt.env)); got != tt.want {
			t.Errorf("workProcs(%q, %v) = %v; want %v", tt.args, tt.env, got, tt.want)
		}
	}
}

// TestProcsForWork: each long job running adds a P, and the count comes back down
// when they end, whatever order they end in.
func TestProcsForWork(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(base) })
	p := &procsForWork{base: base}
	p.longWork(true)
	p.longWork(true)
	if got := runtime.GOMAXPROCS(0); got != base+2 {
		t.Errorf("GOMAXPROCS with two long jobs = %d; want %d", got, base+2)
	}
	p.longWork(false)
	p.longWork(false)
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Errorf("GOMAXPROCS after the jobs = %d; want %d", got, base)
	}
}

// TestTunesGC: main runs the heap floor for serve unless GOGC is set, in which case
// Go's own reading of it stands; other commands keep Go's default.
func TestTunesGC(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"serve"}, nil, true},
		{[]string{"serve", "--seed", "1"}, nil, true},
		{[]string{"serve"}, map[string]string{"GOGC": "100"}, false},
		{[]string{"check"}, nil, false},
		{nil, nil, false},
	} {
		if got := tunesGC(tt.args, envOf(tt.env)); got != tt.want {
			t.Errorf("tunesGC(%q, %v) = %v; want %v", tt.args, tt.env, got, tt.want)
		}
	}
}
