package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver"
)

// TestExactlyMaxConns runs as many raw keep-alive clients as --max-conns allows, each
// sending requests one after the other: nobody waits for a place, so no connection
// may be closed under a client, and not one request may fail.
func TestExactlyMaxConns(t *testing.T) {
	t.Parallel()
	const maxConns, requests = 20, 50
	s := serveLoopback(t, "--max-conns", fmt.Sprint(maxConns))
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range maxConns {
		k := dialKeepAlive(t, s.addr)
		wg.Add(1)
		go func() { // ends after its requests, or at the first failure
			defer wg.Done()
			for n := range requests {
				err := k.send(fmt.Sprint(i*1000 + n))
				var res *http.Response
				if err == nil {
					res, err = k.receive()
				}
				if err == nil && (res.StatusCode != http.StatusOK || res.Close) {
					err = fmt.Errorf("%s, Connection: close %v", res.Status, res.Close)
				}
				if err != nil {
					mu.Lock()
					failed += requests - n
					mu.Unlock()
					t.Errorf("client %d, request %d of %d: %v; want 200 on the same connection", i, n+1, requests, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d clients at --max-conns %d: %d of %d requests failed", maxConns, maxConns, failed, maxConns*requests)
}

// healthy asks addr's /healthz and an order on fresh connections; both must be
// answered 200. The client's bound only ends a test that would otherwise hang.
func healthy(t *testing.T, addr, while string) {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, req := range []*http.Request{
		must(http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)),
		orderRequest(t, addr, "77", ""),
	} {
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s while %s: %v", req.URL.Path, while, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s while %s: %s; want 200", req.URL.Path, while, res.Status)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSilentConnectionsDoNotLockOut fills every --max-conns place, and the backlog
// behind them, with connections that send nothing, and a header timeout of a minute:
// a new client and /healthz are answered all the same, because a connection that has
// said nothing gives its place up to a client that is waiting.
func TestSilentConnectionsDoNotLockOut(t *testing.T) {
	t.Parallel()
	const maxConns = 4
	s := serveTuned(t, nil, func(o *serveOptions) { o.timeouts.readHeader = time.Minute }, "--quiet", "--max-conns", fmt.Sprint(maxConns))
	for range 3 * maxConns {
		c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	healthy(t, s.addr, fmt.Sprintf("%d silent connections are open", 3*maxConns))
}

// TestDelayedRequestsDoNotLockOut holds --max-delayed requests in a long Prefer:
// delay: one more delayed request is answered 429 at once, saying why, and /healthz and
// ordinary requests are answered.
func TestDelayedRequestsDoNotLockOut(t *testing.T) {
	t.Parallel()
	const maxDelayed = 2
	s := serveLoopback(t, "--max-conns", "8", "--max-delayed", fmt.Sprint(maxDelayed))
	ctx, cancel := context.WithCancel(context.Background())
	var held sync.WaitGroup
	t.Cleanup(func() { cancel(); held.Wait() }) // runs before the server stops
	// Delayed requests, one more each time the last is not answered at once: the
	// first maxDelayed are held for 30s, and one past them must be answered 429.
	answers := make(chan *http.Response, 16)
	var res *http.Response
	giveUp := time.After(30 * time.Second)
	for i := 0; res == nil; i++ {
		if i < cap(answers) {
			held.Add(1)
			go func() { // ends when answered, or when the test ends and cancels it
				defer held.Done()
				client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				if res, err := client.Do(orderRequest(t, s.addr, fmt.Sprint(500+i), "delay=30s").WithContext(ctx)); err == nil {
					res.Body.Close()
					answers <- res
				}
			}()
		}
		select {
		case res = <-answers:
		case <-time.After(100 * time.Millisecond): // held, or still on its way: send another
		case <-giveUp:
			t.Fatalf("none of %d delayed requests was answered with %d allowed at once", cap(answers), maxDelayed)
		}
	}
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a delayed request over the cap: %s; want 429", res.Status)
	}
	if msg := res.Header.Get(mockserver.HeaderError); !strings.Contains(msg, "--max-delayed") || res.Header.Get("Retry-After") == "" {
		t.Errorf("429 over the cap: X-Morimock-Error %q, Retry-After %q; want the flag named and a Retry-After", msg, res.Header.Get("Retry-After"))
	}
	healthy(t, s.addr, fmt.Sprintf("%d requests are held in a delay", maxDelayed))
}

// TestTokenNeverEchoed puts the server's token, and a client's own bearer token, where
// the server quotes what it was sent (a scenario value, a __ parameter, the path, the
// method): neither may appear in any header of the answer or any line of the log.
func TestTokenNeverEchoed(t *testing.T) {
	t.Parallel()
	const serverToken = "sk_live_ServerSecret0123456789"
	s := serveWith(t, nil, "--token", serverToken, "--log-format", "json")
	theirs := "sk_live_TheirOwnSecret98765"
	for _, tok := range []string{serverToken, theirs} {
		for _, tt := range []struct {
			name string
			req  string
		}{
			{"Prefer seed", "GET /api/v2/orders/1 HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\nPrefer: seed=" + tok + "\r\n\r\n"},
			{"Prefer quoted", "GET /api/v2/orders/1 HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\nPrefer: status=\"x" + tok + "\"\r\n\r\n"},
			{"__ parameter", "GET /api/v2/orders/1?__delay=" + tok + " HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\n\r\n"},
			{"unknown __ key", "GET /api/v2/orders/1?__" + tok + "=1 HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\n\r\n"},
			{"path", "GET /api/v2/orders/" + tok + " HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\n\r\n"},
			{"escaped path", "GET /api/v2/" + strings.ReplaceAll(tok, "_", "%5F") + " HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\n\r\n"},
			{"method", tok + " /api/v2/orders/1 HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + theirs + "\r\n\r\n"},
		} {
			res, body, _ := rawRequest(t, s.addr, tt.req)
			for k, vs := range res.Header {
				for _, v := range vs {
					if strings.Contains(v, tok) || strings.Contains(v, strings.ReplaceAll(tok, "_", "%5F")) {
						t.Errorf("%s: header %s: %q holds a token", tt.name, k, v)
					}
				}
			}
			if strings.Contains(string(body), tok) {
				t.Errorf("%s: the body holds a token: %s", tt.name, body)
			}
		}
	}
	if err := stopServe(t, s); err != nil {
		t.Fatal(err)
	}
	log := s.stderr.String()
	if n := strings.Count(log, `"msg":"request"`); n != 14 {
		t.Errorf("the log has %d request lines; want 14\n%s", n, log)
	}
	for _, tok := range []string{serverToken, theirs, strings.ReplaceAll(serverToken, "_", "%5F"), strings.ReplaceAll(theirs, "_", "%5F")} {
		if strings.Contains(log, tok) {
			t.Errorf("the log holds a token %q:\n%s", tok, log)
		}
	}
	if !strings.Contains(log, "[REDACTED]") {
		t.Errorf("the log says nothing was redacted; want [REDACTED] where a token was:\n%s", log)
	}
}
