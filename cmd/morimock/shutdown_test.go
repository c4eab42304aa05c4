package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// holdRequests is a serveHooks.request that holds each order request until release
// is closed or its client goes away, and sends it on held once it is in flight.
func holdRequests(held chan<- *http.Request, release <-chan struct{}) func(*http.Request) {
	return func(r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			return
		}
		held <- r
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

// events is what a test saw happen, in order; goroutines add to it.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(ev string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.list, ", ")
}

// waitRefused dials addr until the connection is refused: the listener is closed.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		if err != nil && !errors.Is(err, syscall.ECONNRESET) { // reset: caught in the backlog as the listener closed
			t.Fatalf("dial during shutdown: %v; want connection refused", err)
		}
		if c != nil {
			c.Close()
		}
	}
	t.Fatal("new connections were still accepted 10s into shutdown")
}

// TestGracefulShutdown stops the server (as SIGTERM does) while a request is in
// flight: new connections are refused, run does not return before that request is
// answered, the request gets its order, and run returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	held, release := make(chan *http.Request, 1), make(chan struct{})
	s := serveTuned(t, nil, func(o *serveOptions) { o.hooks.request = holdRequests(held, release) }, "--quiet", "--shutdown-timeout", "30s")
	var seen events
	recorded := make(chan struct{})
	go func() { <-s.exited; seen.add("run returned"); close(recorded) }() // ends when run returns

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	type answer struct {
		status int
		body   []byte
		date   string
		err    error
	}
	inflight := make(chan answer, 1)
	go func() { // ends when the answer arrives or the connection fails
		res, err := client.Do(orderRequest(t, s.addr, "1234567890123456789", ""))
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		inflight <- answer{status: res.StatusCode, body: body, date: res.Header.Get("Date"), err: err}
	}()
	select {
	case <-held:
		seen.add("request in flight")
	case a := <-inflight:
		t.Fatalf("the request failed before it was in flight: %v", a.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the request was not in flight within 10s")
	}

	s.stop()
	waitRefused(t, s.addr)
	seen.add("new connections refused")
	seen.add("request released")
	close(release)

	a := <-inflight
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("in-flight request: status %d, %v; want 200\n%s", a.status, a.err, a.body)
	}
	now, _ := http.ParseTime(a.date)
	if vs := order.CheckResponse(a.body, order.CheckOptions{OrderID: "1234567890123456789", Now: now}); len(vs) > 0 {
		t.Errorf("in-flight request: the order breaks the rules: %v", vs)
	}
	returned, err := s.wait(20 * time.Second)
	if !returned {
		t.Fatal("run did not return within 20s of the last request's answer")
	}
	if err != nil {
		t.Fatalf("run() = %v; want nil after a graceful shutdown\n%s", err, s.stderr.String())
	}
	<-recorded
	want := "request in flight, new connections refused, request released, run returned"
	if got := seen.String(); got != want {
		t.Errorf("events: %s; want %s", got, want)
	}
}

// TestShutdownTimeoutIsBounded holds a request past --shutdown-timeout: run must cut
// its connection and return exit code exitCut (not 2, a usage error).
func TestShutdownTimeoutIsBounded(t *testing.T) {
	t.Parallel()
	held := make(chan *http.Request, 1)
	s := serveTuned(t, nil, func(o *serveOptions) { o.hooks.request = holdRequests(held, nil) }, "--quiet", "--shutdown-timeout", "100ms")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	inflight := make(chan error, 1)
	go func() { // ends when the server cuts the connection
		res, err := client.Do(orderRequest(t, s.addr, "1", ""))
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		inflight <- err
	}()
	select {
	case <-held:
	case err := <-inflight:
		t.Fatalf("the request failed before it was in flight: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the request was not in flight within 10s")
	}

	s.stop()
	returned, err := s.wait(15 * time.Second)
	if !returned {
		t.Fatal("run did not return within 15s with a 100ms shutdown timeout")
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitCut || !strings.Contains(err.Error(), "cut") {
		t.Errorf("run() = %v; want exit code %d naming the cut request\n%s", err, exitCut, s.stderr.String())
	}
	select {
	case err := <-inflight:
		if err == nil {
			t.Error("the cut request got a whole answer; want its connection closed")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the cut request's connection stayed open after run returned")
	}
}

// keepAlive is a raw HTTP/1.1 keep-alive client on one connection: no retries, no
// pool, so every reset or EOF the server causes is seen.
type keepAlive struct {
	c net.Conn
	r *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAlive {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{c: c, r: bufio.NewReader(c)}
}

// send writes one GET of an order.
func (k *keepAlive) send(id string) error {
	k.c.SetDeadline(time.Now().Add(20 * time.Second))
	_, err := io.WriteString(k.c, "GET /api/v2/orders/"+id+" HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk_test_keepalive\r\n\r\n")
	return err
}

// receive reads one answer whole.
func (k *keepAlive) receive() (*http.Response, error) {
	res, err := http.ReadResponse(k.r, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, err
}

// TestDrainAnswersOpenConnections: after SIGTERM, a request sent on a keep-alive
// connection that was open before it is answered, with Connection: close, and run
// returns nil once that connection is closed.
func TestDrainAnswersOpenConnections(t *testing.T) {
	t.Parallel()
	s := serveTuned(t, nil, func(o *serveOptions) { o.timeouts.drain = time.Minute }, "--quiet")
	k := dialKeepAlive(t, s.addr)
	if err := k.send("1"); err != nil {
		t.Fatal(err)
	}
	if res, err := k.receive(); err != nil || res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("before the signal: %v, %v; want 200 keeping the connection", res, err)
	}

	s.stop()
	waitRefused(t, s.addr)
	if err := k.send("2"); err != nil {
		t.Fatalf("writing on the open connection after the signal: %v", err)
	}
	res, err := k.receive()
	if err != nil {
		t.Fatalf("a request on an open connection after the signal was not answered: %v", err)
	}
	if res.StatusCode != http.StatusOK || !res.Close {
		t.Errorf("after the signal: %s, Connection: close %v; want 200 closing the connection", res.Status, res.Close)
	}
	if returned, err := s.wait(20 * time.Second); !returned || err != nil {
		t.Errorf("run returned %v, %v; want nil once the last connection closed", returned, err)
	}
}

// TestSIGTERMLosesNoRequest stops the server while 32 raw keep-alive clients send
// requests as fast as they are answered: every request written before the signal
// must be answered. Requests written after it may find their connection closed; the
// test counts them.
func TestSIGTERMLosesNoRequest(t *testing.T) {
	t.Parallel()
	const clients = 32
	// A long drain window: a request written before the signal must be read within
	// it, and under -race on a loaded machine the tests' 100 ms was sometimes too
	// short. It costs nothing here: the drain ends once every client has been
	// answered with Connection: close.
	s := serveTuned(t, nil, func(o *serveOptions) { o.timeouts.drain = 10 * time.Second }, "--quiet")
	var signalled atomic.Bool
	var warm sync.WaitGroup
	warm.Add(clients)
	type tally struct{ before, beforeLost, after, afterAnswered int }
	tallies := make(chan tally, clients)
	for i := range clients {
		k := dialKeepAlive(t, s.addr)
		go func() { // ends when the server closes the connection
			var tl tally
			defer func() { tallies <- tl }()
			for n := 0; ; n++ {
				if n == 20 {
					warm.Done()
				}
				err := k.send(fmt.Sprint(i*1_000_000 + n))
				before := !signalled.Load() && err == nil // the whole request was written before the signal
				var res *http.Response
				if err == nil {
					res, err = k.receive()
				}
				if before {
					tl.before++
				} else {
					tl.after++
				}
				switch {
				case err != nil && before:
					tl.beforeLost++
					t.Errorf("client %d: a request written before the signal was not answered: %v", i, err)
				case err == nil && !before:
					tl.afterAnswered++
				}
				if err == nil && res.StatusCode != http.StatusOK {
					t.Errorf("client %d: %s; want 200", i, res.Status)
				}
				if err != nil || res.Close {
					if n < 20 {
						warm.Done()
					}
					return
				}
			}
		}()
	}
	warm.Wait()
	signalled.Store(true)
	s.stop()
	var sum tally
	for range clients {
		tl := <-tallies
		sum.before += tl.before
		sum.beforeLost += tl.beforeLost
		sum.after += tl.after
		sum.afterAnswered += tl.afterAnswered
	}
	t.Logf("%d requests written before the signal, %d of them lost; %d written after it, %d of those answered",
		sum.before, sum.beforeLost, sum.after, sum.afterAnswered)
	if returned, err := s.wait(20 * time.Second); !returned || err != nil {
		t.Errorf("run returned %v, %v; want nil", returned, err)
	}
}
