// Command lifecycle drives a running morimock sandbox for bench/lifecycle.sh.
//
//	lifecycle -addr 127.0.0.1:18490 -mode flows -duration 10s -conns 50
//
// runs whole antiAi lifecycles (create, PUT a JPEG, confirm, GET until complete, get
// the download link, fetch it) from -conns connections, each its own key, and prints
// "FLOWS SECONDS FAILED". The server must run with --processing-time 0. The JPEG is
// -image photo (a generated 640 x 480 photo at quality 85: 16 KiB, the same bytes in
// every lifecycle, as a test suite uploads its fixtures: the sandbox decodes, perturbs
// and re-encodes it once and remembers the outputs), -image fresh (that photo with a
// JPEG comment that differs in every lifecycle: the same pixels, other bytes, so every
// lifecycle pays the whole image work) or -image tiny (8 x 8 pixels: the same requests
// with next to no image work).
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
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/morimock/morimock/mockserver/files"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lifecycle:", err)
		os.Exit(1)
	}
}

type client struct {
	http  *http.Client
	base  string
	polls atomic.Int64 // GETs of an order until it was complete, over all lifecycles
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
	// The image work runs on the server's worker pool after confirm: poll as an eager
	// client would, at once, then 1 ms later, the wait doubling up to 16 ms, for at
	// most 30 s. (Polling every millisecond, 50 clients waiting for a queue of photos
	// make 50,000 GETs a second that take the server's core from the work they wait for.)
	wait := time.Millisecond
	for start := time.Now(); ; time.Sleep(wait) {
		wait = min(2*wait, 16*time.Millisecond)
		c.polls.Add(1)
		var d struct{ Status string }
		if _, _, err := c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID, token, nil, "", &d); err != nil {
			return err
		}
		if d.Status == "complete" {
			break
		}
		if d.Status != "inProgress" || time.Since(start) > 30*time.Second {
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
	if err == nil && !bytes.HasPrefix(got, []byte{0xff, 0xd8}) {
		err = fmt.Errorf("download of %s: %d bytes, not a JPEG", o.OrderID, len(got))
	}
	return err
}

// uploadImage is the JPEG every lifecycle uploads (see the package comment).
func uploadImage(kind string) ([]byte, error) {
	var img image.Image
	quality := 85
	switch kind {
	case "photo", "fresh":
		img = files.Sample(1)
	case "tiny":
		img = files.Sample(1).SubImage(image.Rect(0, 0, 8, 8))
	default:
		return nil, fmt.Errorf("-image %q: want photo, fresh or tiny", kind)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// withComment returns a JPEG with a COM segment holding text right after its SOI
// marker: other bytes, the same image.
func withComment(jpg []byte, text string) []byte {
	out := make([]byte, 0, len(jpg)+4+len(text))
	out = append(out, jpg[:2]...)
	out = append(out, 0xff, 0xfe, byte((len(text)+2)>>8), byte(len(text)+2))
	out = append(out, text...)
	return append(out, jpg[2:]...)
}

func run() error {
	addr := flag.String("addr", "", "host:port of the sandbox")
	mode := flag.String("mode", "flows", "flows or fill")
	duration := flag.Duration("duration", 10*time.Second, "flows: how long")
	conns := flag.Int("conns", 50, "concurrent connections, one key each")
	orders := flag.Int("orders", 100000, "fill: how many orders")
	ids := flag.String("ids", "", "fill: where to write KEY ORDERID lines")
	prefix := flag.String("key", "bench", "prefix of the keys (tokens) used")
	imageKind := flag.String("image", "photo", "flows: the JPEG uploaded, photo (640 x 480, 16 KiB), fresh (that photo, other bytes each time) or tiny (8 x 8)")
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
		upload, err := uploadImage(*imageKind)
		if err != nil {
			return err
		}
		deadline := start.Add(*duration)
		for w := 0; w < *conns; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				token := fmt.Sprintf("sk_live_%s_%d", *prefix, w)
				for n := 0; time.Now().Before(deadline); n++ {
					body := upload
					if *imageKind == "fresh" {
						body = withComment(upload, fmt.Sprintf("%s lifecycle %d", token, n))
					}
					if err := c.flow(token, fmt.Sprintf("f%d", n), body); err != nil {
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
	if *mode == "flows" && done.Load() > 0 {
		fmt.Fprintf(os.Stderr, "GETs of the order per lifecycle: %.2f\n", float64(c.polls.Load())/float64(done.Load()))
	}
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, "first failure:", e)
	}
	return nil
}
