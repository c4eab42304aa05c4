package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// rawRequest writes req on a new connection to addr and reads one response. Writing
// goes on in the background, so a server that answers before the request is whole
// (431) is still heard.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte, net.Conn) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go io.WriteString(c, req) // ends when written or the connection closes
	r := bufio.NewReader(c)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	// A server that hangs up on a request it refused may reset the connection while
	// its short body is read; the status is what counts then.
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil && res.StatusCode < 400 {
		t.Fatalf("reading the body: %v", err)
	}
	return res, body, c
}

// TestHTTP10 speaks HTTP/1.0 without Host: the answer is an order, in HTTP/1.0, and
// the connection closes after it, as 1.0 without keep-alive asks.
func TestHTTP10(t *testing.T) {
	t.Parallel()
	s := serveLoopback(t)
	const id = "1234567890123456789"
	res, body, c := rawRequest(t, s.addr, "GET /api/v2/orders/"+id+" HTTP/1.0\r\nAuthorization: Bearer sk_test_http10\r\n\r\n")
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 1 || res.ProtoMinor != 0 {
		t.Fatalf("answer %s %s; want HTTP/1.0 200\n%s", res.Proto, res.Status, body)
	}
	now, _ := http.ParseTime(res.Header.Get("Date"))
	if vs := order.CheckResponse(body, order.CheckOptions{OrderID: id, Now: now}); len(vs) > 0 {
		t.Errorf("the order breaks the rules: %v\n%s", vs, body)
	}
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the answer: read %d bytes, %v; want the server to close (EOF)", n, err)
	}
}

// TestHeaderLimit sends a request line and headers of exactly 32 KiB (answered) and
// one byte more (431): the limit the README names is the limit.
func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	s := serveLoopback(t)
	head := func(size int) string {
		h := "GET /api/v2/orders/1 HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk_test_big\r\nX-Filler: "
		return h + strings.Repeat("x", size-len(h)-4) + "\r\n\r\n"
	}
	for _, tt := range []struct {
		size int
		want int
	}{{maxHeader, http.StatusOK}, {maxHeader + 1, http.StatusRequestHeaderFieldsTooLarge}} {
		req := head(tt.size)
		if len(req) != tt.size {
			t.Fatalf("built a head of %d bytes; want %d", len(req), tt.size)
		}
		res, body, _ := rawRequest(t, s.addr, req)
		if res.StatusCode != tt.want {
			t.Errorf("request line and headers of %d bytes: status %d; want %d\n%s", tt.size, res.StatusCode, tt.want, body)
		}
	}
}

// TestSlowLoris sends a request's headers a byte at a time, far slower than the
// server's header timeout (100ms here): the server must hang up before the client is
// done (net/http answers a plain 400 as it does), so a crowd of such clients cannot
// hold connections for long.
func TestSlowLoris(t *testing.T) {
	t.Parallel()
	s := serveTuned(t, nil, func(o *serveOptions) { o.timeouts.readHeader = 100 * time.Millisecond }, "--quiet")
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 240 bytes at 40 a second would take six seconds.
	req := "GET /api/v2/orders/1 HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk_test_slow\r\n" +
		"X-Slow: " + strings.Repeat("z", 240-90) + "\r\n\r\n"
	closed := make(chan []byte, 1)
	go func() { // ends when the server closes the connection, or after the test's bound
		c.SetReadDeadline(time.Now().Add(40 * time.Second))
		got, _ := io.ReadAll(c)
		closed <- got
	}()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < len(req); i++ {
		select {
		case got := <-closed:
			if len(got) > 0 && strings.Contains(string(got), " 200 ") {
				t.Fatalf("the server answered 200 to a slow-loris client:\n%s", got)
			}
			t.Logf("the server hung up after %d of %d bytes; it sent %q", i, len(req), got)
			return
		case <-tick.C:
		}
		if _, err := c.Write([]byte{req[i]}); err != nil {
			t.Logf("the server hung up after %d of %d bytes: %v", i, len(req), err)
			return
		}
	}
	t.Fatalf("the server read a whole request sent over %s; want it cut off by ReadHeaderTimeout", time.Duration(len(req))*25*time.Millisecond)
}

// TestMoreConnectionsThanMaxConns opens five times as many connections at once as
// --max-conns allows, each request held 100ms by --latency: the extra ones wait to be
// accepted, and every one is answered.
func TestMoreConnectionsThanMaxConns(t *testing.T) {
	t.Parallel()
	const maxConns, clients = 2, 10
	s := serveLoopback(t, "--max-conns", fmt.Sprint(maxConns), "--latency", "100ms")
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() { // ends when the request is answered or times out
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			id := fmt.Sprint(1000 + i)
			res, err := client.Do(orderRequest(t, s.addr, id, ""))
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("GET order %s: %d, %v\n%s", id, res.StatusCode, err, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestIdleConnectionsDoNotBlockNewClients fills every --max-conns place with idle
// keep-alive connections; a new client must still be answered, long before the 60s
// idle timeout would free a place.
func TestIdleConnectionsDoNotBlockNewClients(t *testing.T) {
	t.Parallel()
	const maxConns = 2
	s := serveLoopback(t, "--max-conns", fmt.Sprint(maxConns))
	for i := range maxConns {
		keepAlive := &http.Client{Transport: &http.Transport{}} // holds its connection idle afterwards
		t.Cleanup(keepAlive.CloseIdleConnections)
		res, err := keepAlive.Do(orderRequest(t, s.addr, fmt.Sprint(100+i), ""))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	fresh := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := fresh.Do(orderRequest(t, s.addr, "200", ""))
	if err != nil {
		t.Fatalf("a new client while %d idle connections hold every place: %v", maxConns, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("a new client got %d; want 200", res.StatusCode)
	}
}

// TestUploadsFollowTheirBytes: an upload may take longer than the server's read
// timeout as long as its bytes keep coming, on the presigned URL of a live-style key
// and on the test-upload URL of a test key; one whose client stops before its
// Content-Length is the client's 400, not a sandbox failure.
func TestUploadsFollowTheirBytes(t *testing.T) {
	t.Parallel()
	s := serveTuned(t, nil, func(o *serveOptions) { o.timeouts.read = 200 * time.Millisecond }, "--quiet")
	for _, tc := range []struct{ key, cutCode string }{
		{"sk_live_slow_uploads", "<Code>IncompleteBody</Code>"},
		{"sk_test_slow_uploads", `"code":"VALIDATION_FAILED"`},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c := client{t: t, token: tc.key}
			upload := func(n int) string {
				o := c.ok(s.addr, "POST", "/api/v2/orders/ai-detection", fmt.Sprintf(`{"idempotencyKey":"slow-%d","fileName":"p.png"}`, n))
				return o.field("data", "file", "uploadUrl")
			}
			// Eight pieces 60 ms apart: twice the read timeout in all, and 320 KiB,
			// over what is stored with the order's record: streamed to its blob.
			pr, pw := io.Pipe()
			go func() {
				for range 8 {
					time.Sleep(60 * time.Millisecond)
					pw.Write(make([]byte, 40<<10))
				}
				pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPut, upload(1), pr)
			req.ContentLength = 8 * 40 << 10
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("slow upload: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("slow upload answered %d %s; want 200", res.StatusCode, body)
			}

			u, err := url.Parse(upload(2))
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n%s", u.RequestURI(), s.addr, strings.Repeat("x", 500))
			conn.(*net.TCPConn).CloseWrite() // the client is gone after half its bytes
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			got, _ := io.ReadAll(conn)
			if !strings.HasPrefix(string(got), "HTTP/1.1 400 ") || !strings.Contains(string(got), tc.cutCode) {
				t.Errorf("an upload cut short answered:\n%s\nwant 400 with %s", got, tc.cutCode)
			}
		})
	}
}

// TestAPIBodyCutShort: an API request whose body ends before its Content-Length is a
// 400 that says so, not a complaint about security requirements.
func TestAPIBodyCutShort(t *testing.T) {
	t.Parallel()
	s := serveTuned(t, nil, nil, "--quiet")
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v2/orders/ai-detection HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer sk_live_cut\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n%s", s.addr, `{"idempotencyKey":"cut-1",`)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if detail := res.Header.Get("X-Morimock-Error"); res.StatusCode != http.StatusBadRequest || !strings.Contains(detail, "did not arrive whole") {
		t.Errorf("a body cut short answered %d %q; want 400 saying it did not arrive whole", res.StatusCode, detail)
	}
}
