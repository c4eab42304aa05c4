package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/webhook"
)

// TestLoadInProcess runs the load test for a second against a mock served in this
// process: every scenario of the mix must draw the status it expects and keep the
// contract, and the lifecycle connections must finish whole order flows with every
// invariant kept. The mock takes any token: each lifecycle tenant is one.
func TestLoadInProcess(t *testing.T) {
	spec, err := morimock.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mock, err := mockserver.New(context.Background(), spec, mockserver.Config{Seed: 1, ProcessingTime: mockserver.Latency{Min: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()

	var out bytes.Buffer
	args := []string{"-addr", strings.TrimPrefix(srv.URL, "http://"), "-duration", "1s", "-conns", "4", "-lifecycle", "2", "-token", "sk_test_inprocess"}
	err = run(context.Background(), args, &out, io.Discard)
	t.Logf("loadtest %s\n%s", strings.Join(args, " "), out.String())
	if err != nil {
		t.Fatalf("run() = %v", err)
	}
	for _, want := range []string{"contract failures   0", "unexpected status   0", "no answer           0", "0 delivered twice, 0 refused", "result: PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"defaults", nil, true},
		{"loopback", []string{"-addr", "127.0.0.1:8080"}, true},
		{"localhost", []string{"-addr", "localhost:8080"}, true},
		{"ipv6 loopback", []string{"-addr", "[::1]:8080"}, true},
		{"soak", []string{"-soak"}, true},
		{"another host", []string{"-addr", "192.0.2.1:8080"}, false},
		{"all interfaces", []string{"-addr", ":8080"}, false},
		{"debug elsewhere", []string{"-addr", "127.0.0.1:8080", "-debug-addr", "0.0.0.0:6060"}, false},
		{"no duration", []string{"-duration", "0s"}, false},
		{"unbounded", []string{"-duration", "3h"}, false},
		{"no conns", []string{"-conns", "0"}, false},
		{"warmup too long", []string{"-duration", "5s", "-warmup", "5s"}, false},
		{"argument", []string{"extra"}, false},
		{"inline image work", []string{"-image-work", "inline"}, true},
		{"unknown image work", []string{"-image-work", "thread"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(tt.args, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("parse(%q) = %v; want ok %v", tt.args, err, tt.ok)
			}
			if tt.name == "soak" && (o.duration.Minutes() != 5 || o.warmup.Seconds() != 30) {
				t.Errorf("parse(-soak): duration %s, warmup %s; want 5m, 30s", o.duration, o.warmup)
			}
		})
	}
}

// TestPool: the goroutines the sandbox keeps once used, which the soak allows for at
// the end: each image worker, in process mode the goroutine waiting for its process
// too, and the webhook deliverer.
func TestPool(t *testing.T) {
	for _, tt := range []struct {
		o    options
		want int
	}{
		{options{lifecycle: 0, workers: 1, imageWork: "process", webhooks: true}, 0},
		{options{lifecycle: 2, workers: 1, imageWork: "inline", webhooks: false}, 1},
		{options{lifecycle: 2, workers: 1, imageWork: "inline", webhooks: true}, 2},
		{options{lifecycle: 2, workers: 1, imageWork: "process", webhooks: true}, 3},
		{options{lifecycle: 2, workers: 4, imageWork: "process", webhooks: true}, 9},
	} {
		if got := tt.o.pool(); got != tt.want {
			t.Errorf("%+v.pool() = %d; want %d", tt.o, got, tt.want)
		}
	}
}

// TestLoadCatchesABrokenServer points the load test at a server that answers every
// request with an empty order: it must count the failures and fail.
func TestLoadCatchesABrokenServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":{}}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-addr", strings.TrimPrefix(srv.URL, "http://"), "-duration", "500ms", "-conns", "2"}, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "result: FAIL") {
		t.Fatalf("run() = %v; want a failure\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "contract failures   0\n") {
		t.Errorf("no contract failure counted:\n%s", out.String())
	}
}

// TestReceiverRefusesAndCounts: the lifecycle's webhook receiver refuses a delivery
// whose signature does not match and counts an eventId delivered twice, so that the
// run fails on either.
func TestReceiverRefusesAndCounts(t *testing.T) {
	rc, err := startReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.stop()
	const secret = "whsec_loadtest"
	rc.register("a", secret)
	body := []byte(`{"eventId":"550e8400-e29b-41d4-a716-446655440000","eventType":"order.antiAi.completed","occurredAt":"2026-02-19T12:00:00.000Z","data":{"orderId":"42","status":"complete"}}`)
	post := func(sig string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, rc.url+"/hook/a", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.SignatureHeader, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(webhook.Sign("whsec_other", body)); got != http.StatusBadRequest {
		t.Errorf("delivery signed with another secret = %d; want 400", got)
	}
	for i := 0; i < 2; i++ {
		if got := post(webhook.Sign(secret, body)); got != http.StatusNoContent {
			t.Errorf("signed delivery %d = %d; want 204", i, got)
		}
	}
	d, err := rc.await(context.Background(), "a", "42", time.Second)
	if err != nil || d.EventType != "order.antiAi.completed" {
		t.Errorf("await(order 42) = %+v, %v; want its delivery", d, err)
	}
	if _, err := rc.await(context.Background(), "a", "43", time.Millisecond); err != errNoDelivery {
		t.Errorf("await(order 43) error = %v; want errNoDelivery", err)
	}
	twice, bad := rc.counts()
	if twice != 1 || len(bad) != 1 {
		t.Errorf("counts() = %d twice, %d refused %q; want 1 and 1", twice, len(bad), bad)
	}
}
