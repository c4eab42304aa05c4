package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// TestGracefulShutdown stops the server (as SIGTERM does) while a request is in
// flight: that request still gets its order, new connections are refused at once,
// and run returns nil. Not parallel: see waitForDelayedHandler.
func TestGracefulShutdown(t *testing.T) {
	s := serveLoopback(t, "--shutdown-timeout", "20s")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	type answer struct {
		status int
		body   []byte
		date   string
		err    error
	}
	// The server holds the answer for delay after it has read the request, so
	// run returning sooner than delay after the request was written is early.
	const delay = 2 * time.Second
	inflight := make(chan answer, 1)
	wrote := make(chan struct{})
	var sent time.Time // set before wrote is closed
	req := orderRequest(t, s.addr, "1234567890123456789", "delay="+delay.String())
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent = time.Now(); close(wrote) },
	}))
	go func() { // ends when the answer arrives or the transport gives up
		res, err := client.Do(req)
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		inflight <- answer{status: res.StatusCode, body: body, date: res.Header.Get("Date"), err: err}
	}()
	select {
	case <-wrote:
	case a := <-inflight:
		t.Fatalf("the in-flight request failed before it was sent: %v", a.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request was not sent within 10s")
	}
	waitForDelayedHandler(t)

	s.stop()
	refused := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			refused = true
			break
		}
		if err != nil && !errors.Is(err, syscall.ECONNRESET) { // reset: caught in the backlog as the listener closed
			t.Fatalf("dial during shutdown: %v; want connection refused", err)
		}
		if c != nil {
			c.Close()
		}
	}
	// On a loaded machine the steps above can outlast the delay, and then run
	// may return as it should: only a return within the delay is too early.
	if returned, err := s.wait(0); returned && time.Since(sent) < delay {
		t.Fatalf("run returned (%v) %v after the in-flight request was sent; its answer takes %v", err, time.Since(sent), delay)
	}
	if !refused {
		t.Fatal("new connections were still accepted 10s into shutdown")
	}

	select {
	case a := <-inflight:
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("in-flight request: status %d, %v; want 200\n%s", a.status, a.err, a.body)
		}
		now, _ := http.ParseTime(a.date)
		if vs := order.CheckResponse(a.body, order.CheckOptions{OrderID: "1234567890123456789", Now: now}); len(vs) > 0 {
			t.Errorf("in-flight request: the order breaks the rules: %v", vs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight request was not answered within 20s of shutdown")
	}
	returned, err := s.wait(20 * time.Second)
	if !returned {
		t.Fatal("run did not return within 20s of shutdown")
	}
	if err != nil {
		t.Fatalf("run() = %v; want nil after a graceful shutdown\n%s", err, s.stderr.String())
	}
}

// TestShutdownTimeoutIsBounded asks for a delay far longer than --shutdown-timeout:
// run must give up on it, cut its connection and return, not wait for the delay.
// Not parallel: see waitForDelayedHandler.
func TestShutdownTimeoutIsBounded(t *testing.T) {
	s := serveLoopback(t, "--shutdown-timeout", "200ms")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	inflight := make(chan error, 1)
	wrote := make(chan struct{})
	req := orderRequest(t, s.addr, "1", "delay=30s")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) },
	}))
	go func() { // ends when the server cuts the connection (or after the 30s delay)
		res, err := client.Do(req)
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		inflight <- err
	}()
	select {
	case <-wrote:
	case err := <-inflight:
		t.Fatalf("the long request failed before it was sent: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the long request was not sent within 10s")
	}
	waitForDelayedHandler(t)

	s.stop()
	returned, err := s.wait(15 * time.Second)
	if !returned {
		t.Fatal("run did not return within 15s with a 200ms shutdown timeout")
	}
	if err == nil || !strings.Contains(err.Error(), "shutdown") {
		t.Errorf("run() = %v; want a shutdown error naming the cut request\n%s", err, s.stderr.String())
	}
	select {
	case err := <-inflight:
		if err == nil {
			t.Error("the cut request got a whole answer; want its connection closed")
		}
		t.Logf("the cut request: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("the cut request's connection stayed open after run returned")
	}
	waitForNoDelayedHandler(t)
}

// waitForDelayedHandler waits until a handler of this process is held in a Prefer
// delay. Only then has the server read the request: net/http drops a request it reads
// after Shutdown has begun, so a request merely written, or a connection merely
// accepted, is not yet in flight. The servers run in this process, so their handlers'
// goroutines are this process's; tests that use this must not run beside others that
// ask for delays, and must not leave a delayed handler behind (see
// waitForNoDelayedHandler).
func waitForDelayedHandler(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if delayedHandlers(t) > 0 {
			return
		}
	}
	t.Fatal("no handler reached its delay within 10s of the request being sent")
}

// waitForNoDelayedHandler waits until no handler of this process is in a delay, so
// that the next test's waitForDelayedHandler sees only its own.
func waitForNoDelayedHandler(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if delayedHandlers(t) == 0 {
			return
		}
	}
	t.Fatal("a handler was still in its delay 10s after its connection was cut")
}

// delayedHandlers counts the goroutines of this process sleeping in a Prefer delay.
func delayedHandlers(t *testing.T) int {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	return strings.Count(b.String(), "mockserver.sleep(")
}
