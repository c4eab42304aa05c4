package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestImageWorkModes: serve makes an aiDetection order's files the same in an image
// worker process (`morimock image-worker`, the default on Linux) as in itself
// (--image-work inline), and in process mode the work runs in a child process.
func TestImageWorkModes(t *testing.T) {
	var jpg bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 13)
	}
	if err := jpeg.Encode(&jpg, m, nil); err != nil {
		t.Fatal(err)
	}
	const key = "sk_live_modes"
	heatmap := func(mode string) (string, []byte) {
		s := serveLoopback(t, "--processing-time", "0", "--seed", "3", "--image-work", mode)
		base := "http://" + s.addr
		st, body := call(t, key, "POST", base+"/api/v2/orders/ai-detection", `{"idempotencyKey":"m","fileName":"cat_ai.jpg","options":{"generateHeatmap":true}}`)
		var o struct {
			Data struct {
				OrderID string
				File    struct{ UploadURL string }
			}
		}
		if json.Unmarshal(body, &o); st != http.StatusOK || o.Data.File.UploadURL == "" {
			t.Fatalf("%s: create = %d %s", mode, st, body)
		}
		if st, body := call(t, "", "PUT", o.Data.File.UploadURL, jpg.String()); st != http.StatusOK {
			t.Fatalf("%s: upload = %d %s", mode, st, body)
		}
		if st, body := call(t, key, "POST", base+"/api/v2/orders/ai-detection/confirm", `{"idempotencyKey":"c","orderId":"`+o.Data.OrderID+`"}`); st != http.StatusOK {
			t.Fatalf("%s: confirm = %d %s", mode, st, body)
		}
		var d struct {
			Data struct{ Status, HeatmapURL string }
		}
		for range 500 { // the work is off the request path: poll until it is done
			_, body = call(t, key, "GET", base+"/api/v2/orders/"+o.Data.OrderID, "")
			if json.Unmarshal(body, &d); d.Data.Status != "inProgress" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if d.Data.Status != "complete" || d.Data.HeatmapURL == "" {
			t.Fatalf("%s: order = %s; want complete with a heat map", mode, body)
		}
		children := ""
		if runtime.GOOS == "linux" {
			children = childCommands(t) // while the server runs
		}
		st, png := call(t, "", "GET", d.Data.HeatmapURL, "")
		if st != http.StatusOK {
			t.Fatalf("%s: heat map = %d", mode, st)
		}
		return children, png
	}
	procKids, procMap := heatmap("process")
	_, inlineMap := heatmap("inline")
	if !bytes.Equal(procMap, inlineMap) {
		t.Errorf("the heat map made in a worker process (%d bytes) differs from the one made inline (%d bytes)", len(procMap), len(inlineMap))
	}
	if runtime.GOOS == "linux" {
		if !strings.Contains(procKids, "image-worker") {
			t.Errorf("--image-work process: this process's children are %q; want an image-worker", procKids)
		}
	}
}

// childCommands is the command lines of this process's children, one per line.
func childCommands(t *testing.T) string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		for _, pid := range strings.Fields(string(b)) {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			out.WriteString(strings.ReplaceAll(string(cmdline), "\x00", " ") + "\n")
		}
	}
	return out.String()
}
