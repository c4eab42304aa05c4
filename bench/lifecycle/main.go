// Command lifecycle drives a running morimock sandbox for bench/lifecycle.sh.
//
//	lifecycle -addr 127.0.0.1:18490 -mode flows -duration 10s -conns 50
//
// runs whole antiAi lifecycles (create, PUT 16 KiB, confirm, GET until complete, get
// the download link, fetch it) from -conns connections, each its own key, and prints
// "FLOWS SECONDS FAILED". The server must run with --processing-time 0.
//
//	lifecycle -addr 127.0.0.1:18490 -mode fill -orders 100000 -conns 50 -ids ids.txt
//
// creates -orders antiAi orders (one file each, left pending) spread over -conns keys
// (key bench-fill-N for connection N), writes "KEY ORDERID" lines to -ids and prints
// "ORDERS SECONDS FAILED".
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lifecycle:", err)
		os.Exit(1)
	}
}

type client struct {
	http *http.Client
	base string
}

func (c *client) do(method, url, token string, body []byte, ct string, out any) (int, []byte, error) {
	if !strings.HasPrefix(url, "http") {
		url = c.base + url
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body == nil {
		req.Body, req.ContentLength = nil, 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, got, fmt.Errorf("%s %s = %d %.200s", method, req.URL.Path, res.StatusCode, got)
	}
	if out != nil {
		env := struct{ Data any }{Data: out}
		if err := json.Unmarshal(got, &env); err != nil {
			return res.StatusCode, got, err
		}
	}
	return res.StatusCode, got, nil
}

type created struct {
	OrderID string `json:"orderId"`
	Files   []struct {
		UploadURL string `json:"uploadUrl"`
	} `json:"files"`
}

func (c *client) create(token, key string) (created, error) {
	var o created
	body := fmt.Sprintf(`{"idempotencyKey":%q,"files":[{"fileName":"photo.jpg"}]}`, key)
	_, _, err := c.do(http.MethodPost, "/api/v2/orders/anti-ai", token, []byte(body), "application/json", &o)
	if err == nil && len(o.Files) != 1 {
		err = fmt.Errorf("create: %d files; want 1", len(o.Files))
	}
	return o, err
}

// flow is one whole lifecycle.
func (c *client) flow(token, key string, upload []byte) error {
	o, err := c.create(token, key)
	if err != nil {
		return err
	}
	if _, _, err := c.do(http.MethodPut, o.Files[0].UploadURL, "", upload, "image/jpeg", nil); err != nil {
		return err
	}
	confirm := fmt.Sprintf(`{"idempotencyKey":"c-%s","orderId":%q}`, key, o.OrderID)
	if _, _, err := c.do(http.MethodPost, "/api/v2/orders/anti-ai/confirm", token, []byte(confirm), "application/json", nil); err != nil {
		return err
	}
	for i := 0; ; i++ {
		var d struct{ Status string }
		if _, _, err := c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID, token, nil, "", &d); err != nil {
			return err
		}
		if d.Status == "complete" {
			break
		}
		if i == 100 {
			return fmt.Errorf("order %s still %s (run the server with --processing-time 0)", o.OrderID, d.Status)
		}
	}
	var link struct {
		DownloadURL string `json:"downloadUrl"`
	}
	if _, _, err := c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID+"/download", token, nil, "", &link); err != nil {
		return err
	}
	_, got, err := c.do(http.MethodGet, link.DownloadURL, "", nil, "", nil)
	if err == nil && len(got) != len(upload) {
		err = fmt.Errorf("download of %s: %d bytes; want %d", o.OrderID, len(got), len(upload))
	}
	return err
}

func run() error {
	addr := flag.String("addr", "", "host:port of the sandbox")
	mode := flag.String("mode", "flows", "flows or fill")
	duration := flag.Duration("duration", 10*time.Second, "flows: how long")
	conns := flag.Int("conns", 50, "concurrent connections, one key each")
	orders := flag.Int("orders", 100000, "fill: how many orders")
	ids := flag.String("ids", "", "fill: where to write KEY ORDERID lines")
	prefix := flag.String("key", "bench", "prefix of the keys (tokens) used")
	flag.Parse()
	if *addr == "" {
		return fmt.Errorf("-addr is required")
	}
	tr := &http.Transport{MaxIdleConns: *conns * 2, MaxIdleConnsPerHost: *conns * 2, DisableCompression: true}
	c := &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: "http://" + *addr}
	var done, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	switch *mode {
	case "flows":
		upload := bytes.Repeat([]byte("morimock"), 16<<10/8)
		deadline := start.Add(*duration)
		for w := 0; w < *conns; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				token := fmt.Sprintf("sk_live_%s_%d", *prefix, w)
				for n := 0; time.Now().Before(deadline); n++ {
					if err := c.flow(token, fmt.Sprintf("f%d", n), upload); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					done.Add(1)
				}
			}()
		}
	case "fill":
		out := io.Discard
		if *ids != "" {
			f, err := os.Create(*ids)
			if err != nil {
				return err
			}
			defer f.Close()
			bw := bufio.NewWriter(f)
			defer bw.Flush()
			out = bw
		}
		var mu sync.Mutex
		var next atomic.Int64
		for w := 0; w < *conns; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				token := fmt.Sprintf("sk_live_%s_%d", *prefix, w)
				for n := next.Add(1); n <= int64(*orders); n = next.Add(1) {
					o, err := c.create(token, fmt.Sprintf("fill-%d", n))
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					done.Add(1)
					mu.Lock()
					fmt.Fprintf(out, "%s %s\n", token, o.OrderID)
					mu.Unlock()
				}
			}()
		}
	default:
		return fmt.Errorf("mode %q: want flows or fill", *mode)
	}
	wg.Wait()
	fmt.Printf("%d %.3f %d\n", done.Load(), time.Since(start).Seconds(), failed.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first failure:", e)
	}
	return nil
}
