package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStateDirRestart creates an order on a server with --state-dir, stops it, starts
// another on the same directory, and finds the order and a working upload URL there.
func TestStateDirRestart(t *testing.T) {
	dir := t.TempDir()
	do := func(addr, method, url, body string, auth bool) (int, []byte) {
		t.Helper()
		if !strings.HasPrefix(url, "http") {
			url = "http://" + addr + url
		}
		key := ""
		if auth {
			key = "sk_live_restart"
		}
		return call(t, key, method, url, body)
	}
	first := serveLoopback(t, "--state-dir", dir, "--processing-time", "0")
	st, body := do(first.addr, "POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"r-1","files":[{"fileName":"a.jpg"}]}`, true)
	if st != http.StatusOK {
		t.Fatalf("create = %d %s", st, body)
	}
	var o struct {
		Data struct {
			OrderID string
			Files   []struct{ UploadURL string }
		}
	}
	json.Unmarshal(body, &o)
	first.stop()
	if ok, err := first.wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("first server: stopped %v, err %v", ok, err)
	}

	second := serveLoopback(t, "--state-dir", dir, "--processing-time", "0")
	upload := strings.Replace(o.Data.Files[0].UploadURL, first.addr, second.addr, 1)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	if st, body := do(second.addr, "PUT", upload, jpg.String(), false); st != http.StatusOK {
		t.Fatalf("PUT to an upload URL issued before the restart = %d %s", st, body)
	}
	if st, body := do(second.addr, "POST", "/api/v2/orders/anti-ai/confirm", `{"idempotencyKey":"c","orderId":"`+o.Data.OrderID+`"}`, true); st != http.StatusOK {
		t.Fatalf("confirm after restart = %d %s", st, body)
	}
	// The protected copy is made off the request path: poll until it is.
	for range 300 {
		st, body = do(second.addr, "GET", "/api/v2/orders/"+o.Data.OrderID, "", true)
		if !bytes.Contains(body, []byte(`"status":"inProgress"`)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st != http.StatusOK || !bytes.Contains(body, []byte(`"status":"complete"`)) {
		t.Errorf("GET after restart = %d %s; want the order, complete", st, body)
	}
}
