package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/internal/syncbuf"
)

// served is a `morimock serve` running in-process on a loopback port.
type served struct {
	addr   string          // host:port
	exited chan struct{}   // closed when run returns, with its result in err
	err    error           //
	stop   func()          // cancels run's context, as SIGTERM does
	stderr *syncbuf.Buffer //
	stdout *syncbuf.Buffer // what run printed after its "listening on" line
}

// wait waits up to d for run to return, and reports its result.
func (s *served) wait(d time.Duration) (returned bool, err error) {
	select {
	case <-s.exited:
		return true, s.err
	case <-time.After(d):
		return false, nil
	}
}

// serveLoopback starts serve (--addr 127.0.0.1:0 --quiet args...) and waits until it
// listens. The server is stopped when the test ends.
func serveLoopback(t *testing.T, args ...string) *served {
	t.Helper()
	return serveTuned(t, nil, nil, append([]string{"--quiet"}, args...)...)
}

// serveWith is serveLoopback with an environment and the access log on.
func serveWith(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	return serveTuned(t, env, nil, args...)
}

// testTimeouts are the server's clocks in tests: a drain of 100ms rather than a second,
// so that stopping a server a test has talked to costs little.
func testTimeouts() serveTimeouts {
	t := defaultTimeouts()
	t.drain = 100 * time.Millisecond
	return t
}

// serveTuned parses the flags args (after the environment env) as `morimock serve`
// does, lets edit change the options flags cannot reach (timeouts, hooks), and runs
// serve on a loopback port until the test ends.
func serveTuned(t *testing.T, env map[string]string, edit func(*serveOptions), args ...string) *served {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	o, err := parseServe(append([]string{"--addr", "127.0.0.1:0"}, args...), getenv, io.Discard)
	if err != nil {
		t.Fatalf("parseServe(%q) = %v", args, err)
	}
	o.timeouts = testTimeouts()
	if edit != nil {
		edit(&o)
	}
	ctx, cancel := context.WithCancel(withSpec(t, context.Background()))
	pr, pw := io.Pipe()
	stderr := &syncbuf.Buffer{}
	s := &served{exited: make(chan struct{}), stop: cancel, stderr: stderr, stdout: &syncbuf.Buffer{}}
	go func() { // ends when ctx is cancelled and serve has shut the server down
		s.err = serve(ctx, o, pw, stderr)
		pw.CloseWithError(io.EOF)
		close(s.exited)
	}()
	t.Cleanup(func() {
		cancel()
		if ok, _ := s.wait(30 * time.Second); !ok {
			t.Errorf("serve did not return within 30s of the test's end")
		}
	})
	line := make([]byte, 0, 128)
	buf := make([]byte, 1)
	for {
		if _, err := pr.Read(buf); err != nil {
			t.Fatalf("serve did not start: %v\n%s", err, stderr.String())
		}
		if buf[0] == '\n' {
			break
		}
		line = append(line, buf[0])
	}
	go io.Copy(s.stdout, pr) // the lines after the first; this ends when serve returns
	_, addr, ok := strings.Cut(string(line), "listening on http://")
	if !ok {
		t.Fatalf("first line %q; want \"morimock VERSION listening on http://ADDR\"", line)
	}
	s.addr = addr
	return s
}

// withSpec gives the serve or check that runs in ctx the contract parsed once for the
// whole test binary, as each replica process parses it once: parsing it for each of
// the dozens of servers and checks in this package cost seconds under -race.
func withSpec(tb testing.TB, ctx context.Context) context.Context {
	tb.Helper()
	return context.WithValue(ctx, specKey{}, spectest.Load(tb))
}

// call sends body to url and returns the answer's status and body; with key, as that
// key's bearer token and as JSON, as an API call; without, as a presigned URL is sent.
func call(t *testing.T, key, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// orderRequest is a GET of an order with a bearer token and an optional Prefer.
func orderRequest(t *testing.T, addr, id, prefer string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v2/orders/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_shutdown")
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	return req
}
