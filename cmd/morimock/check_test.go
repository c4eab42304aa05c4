package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/morimocktest"
)

// startMock serves morimock with a frozen clock and returns its base URL.
func startMock(t *testing.T) string {
	t.Helper()
	spec := spectest.Load(t)
	frozen := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	mock, err := mockserver.New(context.Background(), spec, mockserver.Config{Seed: 1, Now: func() time.Time { return frozen }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(func() {
		srv.Close()
		if err := mock.Close(); err != nil { // removes its blob directory
			t.Errorf("Close() = %v", err)
		}
	})
	return srv.URL
}

// runCheckCmd runs `morimock check args...` and returns its exit code and output.
func runCheckCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(withSpec(t, context.Background()), append([]string{"check"}, args...), func(k string) string { return env[k] }, nil, &out, &errOut)
	var ee *exitError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ee):
		code = ee.code
	default:
		code = 2
	}
	return code, out.String(), errOut.String(), err
}

func TestCheckPassesAgainstTheMock(t *testing.T) {
	t.Parallel() // its own mock on a free port and its own temp dir
	base := startMock(t)
	dir := t.TempDir()
	junit, jsonFile := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.json")
	code, stdout, stderr, err := runCheckCmd(t, nil, "--base-url", base, "--token", "x", "--probe-writes", "--junit", junit, "--json", jsonFile)
	if code != 0 {
		t.Fatalf("morimock check against the mock: exit %d, err %v; want 0\n%s\n%s", code, err, stdout, stderr)
	}
	if !strings.Contains(stdout, "PASS: the API keeps the contract") || !strings.Contains(stdout, "(morimock ") {
		t.Errorf("stdout does not say the mock passed:\n%s", stdout)
	}
	if !strings.Contains(stderr, "checked 25/") {
		t.Errorf("stderr has no progress lines:\n%s", stderr)
	}
	var rep struct {
		Mock   bool
		Orders int
		Checks []struct {
			Name           string
			Failed, Warned int
		}
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("--json wrote %s: %v", b, err)
	}
	if !rep.Mock || rep.Orders < 200 {
		t.Errorf("JSON report: mock %v, %d orders; want the mock covered with 200+ orders", rep.Mock, rep.Orders)
	}
	for _, c := range rep.Checks {
		if c.Failed > 0 || c.Warned > 0 {
			t.Errorf("check %s: %d failed, %d warned; want none", c.Name, c.Failed, c.Warned)
		}
	}
	if x, err := os.ReadFile(junit); err != nil || !bytes.Contains(x, []byte(`<testsuites name="morimock check`)) {
		t.Errorf("--junit wrote %q, %v; want JUnit XML", x, err)
	}
}

func TestCheckFailsABrokenAPI(t *testing.T) {
	const token = "sk_live_CLI_SECRET_42"
	// This API answers any order 200 without asking for a token.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "does-not-exist") {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"ORDER_NOT_FOUND"}`))
			return
		}
		w.Write([]byte(`{"data":{"type":"antiAi","orderId":"1","channel":"api","thumbnailImageUrl":null,"status":"complete","orderName":"anti_ai_2026-03-12","fileCount":1,"createdAt":"2026-03-12T10:00:00.000Z","updatedAt":"2026-03-12T10:05:00.000Z","errors":null}}`))
	}))
	defer api.Close()
	dir := t.TempDir()
	ids := filepath.Join(dir, "ids.txt")
	os.WriteFile(ids, []byte("# one order\n1\n"), 0o644)
	junit, jsonFile := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.json")
	env := map[string]string{"BIZMORI_API_TOKEN": token, "MORIMOCK_BASE_URL": api.URL}
	code, stdout, stderr, _ := runCheckCmd(t, env, "--orders-file", ids, "--junit", junit, "--json", jsonFile)
	if code != 1 {
		t.Fatalf("exit %d; want 1 (a check failed)\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"FAILED auth_missing_token", "anyone can read orders", "FAIL: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	all := stdout + stderr
	for _, f := range []string{junit, jsonFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all += string(b)
	}
	if strings.Contains(all, token) {
		t.Error("the token appears in the output or a report")
	}
}

func TestCheckCouldNotRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable host", []string{"--base-url", closed, "--order", "1", "--token", "sk_live_UNREACHABLE"}, "could not run"},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"negative rate", []string{"--rate", "-1"}, "rate"},
		{"rate not a number", []string{"--rate", "NaN"}, "rate NaN"},
		{"negative discover", []string{"--discover", "-2"}, "discover"},
		{"zero timeout", []string{"--timeout", "0s"}, "timeout"},
		{"argument", []string{"1234"}, "no arguments"},
		{"missing orders file", []string{"--orders-file", filepath.Join(t.TempDir(), "nope")}, "orders-file"},
		{"bad base url", []string{"--base-url", "ftp://x", "--order", "1", "--token", "x"}, "base URL"},
		{"bad id", []string{"--base-url", closed, "--order", "../webhooks", "--token", "x"}, "not an order id"},
		{"no token", []string{"--base-url", closed, "--order", "1"}, "no token: give --token or set BIZMORI_API_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr, err := runCheckCmd(t, nil, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d; want 2\n%s\n%s", code, stdout, stderr)
			}
			msg := stderr
			if err != nil {
				msg += err.Error()
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error output %q; want it to say %q", msg, tt.want)
			}
			if strings.Contains(msg+stdout, "sk_live_UNREACHABLE") {
				t.Error("the token appears in the output")
			}
		})
	}
}

func TestCheckHelp(t *testing.T) {
	code, _, stderr, _ := runCheckCmd(t, nil, "-h")
	if code != 0 || !strings.Contains(stderr, "--base-url") && !strings.Contains(stderr, "-base-url") {
		t.Errorf("check -h: exit %d, output %q; want 0 and the flags", code, stderr)
	}
}

// TestCheckNeverPrintsTheEnvironmentToken: a flag's default is printed by -h and by
// every flag error, so the token from BIZMORI_API_TOKEN must not be one.
func TestCheckNeverPrintsTheEnvironmentToken(t *testing.T) {
	const secret = "sk_live_ENV_SECRET_1234"
	env := map[string]string{"BIZMORI_API_TOKEN": secret}
	for _, args := range [][]string{{"-h"}, {"--bogus"}, {"--rate", "x"}, {"stray"}} {
		_, stdout, stderr, err := runCheckCmd(t, env, args...)
		if out := stdout + stderr + fmt.Sprint(err); strings.Contains(out, secret) {
			t.Errorf("check %q printed the token:\n%s", args, out)
		}
	}
	o, err := parseCheck(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.cfg.Token != secret {
		t.Errorf("parseCheck() token from the environment = %q, %v; want it used", o.cfg.Token, err)
	}
	o, _ = parseCheck([]string{"--token", "flag"}, func(k string) string { return env[k] }, io.Discard)
	if o.cfg.Token != "flag" {
		t.Errorf("parseCheck(--token flag) = %q; want the flag to win", o.cfg.Token)
	}
}

// TestCheckWritesReportsWhenStopped: a Retry-After too long to wait ends the run with
// exit 2, a message naming the rate limit, and the reports of what was checked.
func TestCheckWritesReportsWhenStopped(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "does-not-exist") {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"ORDER_NOT_FOUND"}`))
			return
		}
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"RATE_LIMIT_EXCEEDED"}`))
	}))
	defer api.Close()
	dir := t.TempDir()
	junit, jsonFile := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.json")
	code, stdout, _, err := runCheckCmd(t, nil, "--base-url", api.URL, "--token", "x", "--order", "1", "--junit", junit, "--json", jsonFile)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("exit %d, error %v; want 2 and a message naming the rate limit", code, err)
	}
	if !strings.Contains(stdout, "STOPPED: ") {
		t.Errorf("stdout does not say the run stopped:\n%s", stdout)
	}
	for _, f := range []string{junit, jsonFile} {
		if b, err := os.ReadFile(f); err != nil || len(b) == 0 {
			t.Errorf("report %s: %q, %v; want it written", f, b, err)
		}
	}
}

func TestCheckHelpSaysGETsOnly(t *testing.T) {
	_, _, stderr, _ := runCheckCmd(t, nil, "-h")
	for _, want := range []string{"GETs only", "--probe-writes", "no redirect", "-deadline"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check -h lacks %q:\n%s", want, stderr)
		}
	}
}

// TestCheckLifecycleNeedsATestKey: --lifecycle with any other key exits 2, says why,
// and sends nothing.
func TestCheckLifecycleNeedsATestKey(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	code, _, _, err := runCheckCmd(t, map[string]string{"BIZMORI_API_TOKEN": "sk_live_secret123"}, "--base-url", srv.URL, "--lifecycle")
	if code != 2 || err == nil || !strings.Contains(err.Error(), "sk_test_") {
		t.Errorf("check --lifecycle with a live key = %d, %v; want 2 and a message naming sk_test_", code, err)
	}
	if strings.Contains(fmt.Sprint(err), "secret123") {
		t.Errorf("the error %q shows the key", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests; want none", n)
	}
}

// TestCheckLifecycleAgainstTheSandbox: the sandbox passes --lifecycle (clock moved,
// the watermark flows run before the sunset), exit 0.
func TestCheckLifecycleAgainstTheSandbox(t *testing.T) {
	t.Parallel() // its own mock on a free port and its own temp dir
	s := morimocktest.Start(t)
	code, stdout, _, err := runCheckCmd(t, nil, "--base-url", s.URL, "--token", s.Token, "--lifecycle", "--quiet")
	if code != 0 {
		t.Fatalf("check --lifecycle = %d, %v; want 0\n%s", code, err, stdout)
	}
	if !strings.Contains(stdout, "PASS") || strings.Contains(stdout, "WARNING") {
		t.Errorf("output %q; want a PASS without warnings", stdout)
	}
}

func TestCheckListsRules(t *testing.T) {
	code, stdout, _, err := runCheckCmd(t, nil, "--rules")
	if code != 0 || !strings.Contains(stdout, "probability_band (domain_rules)") || !strings.Contains(stdout, "inferred:") {
		t.Errorf("check --rules = %d, %v, %q; want every rule with its basis", code, err, stdout)
	}
}
