package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/spectest"
)

// limitedAPI answers the first n requests for the order with 429 and code, then
// passes to next.
type limitedAPI struct {
	code string
	left atomic.Int32
	next http.Handler
}

func newLimitedAPI(n int32, code string, next http.Handler) *limitedAPI {
	l := &limitedAPI{code: code, next: next}
	l.left.Store(n)
	return l
}

func (l *limitedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, validID) && l.left.Add(-1) >= 0 {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"` + l.code + `"}`))
		return
	}
	l.next.ServeHTTP(w, r)
}

func TestRateLimitedIsRetriedAndCounted(t *testing.T) {
	tests := []struct {
		name, code string
		warned     bool
	}{
		{"documented code", "RATE_LIMIT_EXCEEDED", false},
		{"drifted code", "USAGE_LIMIT_EXCEEDED", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newLimitedAPI(3, tt.code, &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}})
			rep := runAgainst(t, api, Config{OrderIDs: []string{validID}, Backoff: time.Millisecond})
			if rep.RateLimited != 3 {
				t.Errorf("RateLimited = %d; want 3", rep.RateLimited)
			}
			if rep.Failed() {
				t.Errorf("Failed() = true; want a 429 retried, not failed: %v", outcomes(rep, Failed))
			}
			_, warned := outcomes(rep, Warned)[CheckDriftRateLimit]
			if warned != tt.warned {
				t.Errorf("drift_rate_limit_code warned = %v; want %v", warned, tt.warned)
			}
		})
	}
}

func TestRateLimitedForever(t *testing.T) {
	api := newLimitedAPI(1000, "RATE_LIMIT_EXCEEDED", &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}})
	rep := runAgainst(t, api, Config{OrderIDs: []string{validID}, Backoff: time.Microsecond})
	if got := rep.RateLimited; got < maxRetries {
		t.Errorf("RateLimited = %d; want at least %d", got, maxRetries)
	}
	if got := failureOf(rep, CheckStatusCode); !strings.Contains(got, "still rate limited") {
		t.Errorf("status_code_conformance failure = %q; want it to say the order was still rate limited", got)
	}
}

func TestUnreachableHostIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Run(context.Background(), spectest.Load(t), Config{BaseURL: "http://" + addr, Token: "sk_test_unreachable", OrderIDs: []string{validID}})
	if err == nil {
		t.Fatal("Run(closed port) error = nil; want one")
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "sk_test_unreachable") {
		t.Errorf("Run(closed port) error = %q; want it to name %s and not the token", err, addr)
	}
}

func TestSlowHostTimesOut(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	err := runAgainstErr(t, slow, Config{OrderIDs: []string{validID}, Timeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Run(slow host) error = %v; want a timeout", err)
	}
}

func TestTokenNeverAppears(t *testing.T) {
	const token = "sk_live_TOPSECRET_0123456789"
	// echo answers every request with its Authorization header in the body, the
	// worst a server can do.
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(MockHeader, r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"code":"` + r.Header.Get("Authorization") + `"}`))
	})
	rep := runAgainst(t, echo, Config{Token: token, OrderIDs: []string{validID}})
	var out bytes.Buffer
	for _, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return rep.WriteText(b) },
		func(b *bytes.Buffer) error { return rep.WriteJSON(b) },
		func(b *bytes.Buffer) error { return rep.WriteJUnit(b) },
	} {
		if err := write(&out); err != nil {
			t.Fatal(err)
		}
	}
	if !rep.Failed() {
		t.Error("Failed() = false; want the echoing server to fail")
	}
	if strings.Contains(out.String(), token) {
		t.Errorf("a report holds the token:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[REDACTED]") {
		t.Error("no [REDACTED] in the reports; want the echoed token replaced")
	}
}

func runAgainstErr(tb testing.TB, h http.Handler, cfg Config) error {
	tb.Helper()
	cfg.BaseURL = newServer(tb, h)
	cfg.Token = "sk_test_secret"
	_, err := Run(context.Background(), spectest.Load(tb), cfg)
	return err
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Duration
		ok       bool
	}{
		{"seconds", "3", 3 * time.Second, true},
		{"zero", "0", 0, true},
		{"padded", " 2 ", 2 * time.Second, true},
		{"huge", "99999999999", maxRetryAfter, true},
		{"http date", "Thu, 12 Mar 2026 10:00:30 GMT", 30 * time.Second, true},
		{"date in the past", "Thu, 12 Mar 2026 09:00:00 GMT", 0, true},
		{"empty", "", 0, false},
		{"negative", "-1", 0, false},
		{"junk", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Thu, 12 Mar 2026 10:00:30 GMT", "-5", "1e9", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || d > maxRetryAfter {
			t.Errorf("parseRetryAfter(%q) = %v; want 0..%v", s, d, maxRetryAfter)
		}
		if !ok && d != 0 {
			t.Errorf("parseRetryAfter(%q) = %v, false; want 0 when not ok", s, d)
		}
	})
}

// TestReadBody: an answer reads the same whether its length is declared or not, and
// one past maxBody is seen as such either way.
func TestReadBody(t *testing.T) {
	for _, size := range []int{0, 1, 4 << 10, maxBody, maxBody + 1, maxBody + 100} {
		for _, declared := range []bool{true, false} {
			body := bytes.Repeat([]byte("x"), size)
			res := &http.Response{ContentLength: -1, Body: io.NopCloser(bytes.NewReader(body))}
			if declared {
				res.ContentLength = int64(size)
			}
			got, err := readBody(res)
			if err != nil {
				t.Fatalf("readBody(%d bytes, declared %t) error = %v", size, declared, err)
			}
			if want := min(size, maxBody+1); len(got) != want || !bytes.Equal(got, body[:want]) {
				t.Errorf("readBody(%d bytes, declared %t) = %d bytes; want the first %d", size, declared, len(got), want)
			}
		}
	}
	short := &http.Response{ContentLength: 10, Body: io.NopCloser(strings.NewReader("12345"))}
	if _, err := readBody(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("readBody(5 of 10 declared bytes) error = %v; want %v", err, io.ErrUnexpectedEOF)
	}
	// A body that declares more than maxBody is read to one byte past it, however
	// long it really is.
	over := &http.Response{ContentLength: 1 << 40, Body: io.NopCloser(bytes.NewReader(make([]byte, maxBody+10)))}
	if got, err := readBody(over); err != nil || len(got) != maxBody+1 {
		t.Errorf("readBody(a body declaring 1 TiB) = %d bytes, %v; want %d, nil", len(got), err, maxBody+1)
	}
}

// BenchmarkReadBody reads a hostile answer at the body limit, with its length
// declared and without (chunked).
func BenchmarkReadBody(b *testing.B) {
	body := bytes.Repeat([]byte("x"), maxBody-64)
	for _, declared := range []bool{true, false} {
		b.Run(fmt.Sprintf("declared=%t", declared), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				res := &http.Response{ContentLength: -1, Body: io.NopCloser(bytes.NewReader(body))}
				if declared {
					res.ContentLength = int64(len(body))
				}
				if _, err := readBody(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
