package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/mockserver/files"
)

// BenchmarkGetOrderWhileProcessing measures GET of a stored order over a loopback
// socket, one request at a time, with the image workers idle and while they process
// 12-megapixel JPEGs (aiDetection with heat map and overlay, one after another). It
// reports the p50 and p99 of the GETs: the image work runs off the request path, so
// they should not move (beyond what sharing the machine's cores costs).
//
//	go test -run '^$' -bench GetOrderWhileProcessing -benchtime 3000x ./mockserver
func BenchmarkGetOrderWhileProcessing(b *testing.B) {
	photo := bigJPEG(b)
	for _, busy := range []bool{false, true} {
		name := "idle"
		if busy {
			name = "processing-12MP"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(context.Background(), spectest.Load(b), Config{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(s)
			defer func() { hs.Close(); s.Close() }()
			cl := &benchClient{b: b, base: hs.URL}
			stored := make([]string, 100)
			for i := range stored {
				stored[i] = cl.create(fmt.Sprint("stored-", i), "stored.png")
			}
			// The orders to process are uploaded before the timer: only their work, not
			// their uploads, overlaps the GETs.
			var queue []string
			if busy {
				for i := range 12 {
					id := cl.create(fmt.Sprint("big-", i), "big.jpg")
					cl.put(cl.uploadURLs[id], photo)
					queue = append(queue, id)
				}
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			processed, confirmErr := 0, error(nil)
			if busy {
				wg.Add(1)
				go func() { // ends when stop closes or the queue is done
					defer wg.Done()
					for _, id := range queue {
						select {
						case <-stop:
							return
						default:
						}
						if err := cl.confirm(id); err != nil {
							confirmErr = err
							return
						}
						if err := s.WaitIdle(context.Background()); err != nil {
							return
						}
						processed++
					}
				}()
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				cl.get(stored[i%len(stored)])
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			if confirmErr != nil {
				b.Fatal(confirmErr)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			if busy {
				b.ReportMetric(float64(processed), "12MP-orders")
			}
		})
	}
}

// bigJPEG is a 4000 x 3000 JPEG with texture, as a camera would give.
func bigJPEG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := files.Encode(&buf, files.Textured(4000, 3000), files.JPEG); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// benchClient drives a sandbox with a live key, failing the benchmark on any answer
// but 200.
type benchClient struct {
	b          *testing.B
	base       string
	uploadURLs map[string]string
}

func (c *benchClient) do(method, target string, body []byte) []byte {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	if !strings.HasPrefix(target, "http") {
		target = c.base + target
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		c.b.Fatal(err)
	}
	if strings.HasPrefix(target, c.base+"/api/") {
		req.Header.Set("Authorization", "Bearer "+liveKey)
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.b.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		c.b.Fatalf("%s %s = %d %s (%v)", method, target, res.StatusCode, got, err)
	}
	return got
}

func (c *benchClient) create(idem, name string) string {
	body, _ := json.Marshal(map[string]any{"idempotencyKey": idem, "fileName": name,
		"options": map[string]bool{"generateHeatmap": true, "generateOverlay": true, "generateThumbnail": true}})
	var out struct{ Data created }
	if err := json.Unmarshal(c.do(http.MethodPost, "/api/v2/orders/ai-detection", body), &out); err != nil {
		c.b.Fatal(err)
	}
	if c.uploadURLs == nil {
		c.uploadURLs = map[string]string{}
	}
	c.uploadURLs[out.Data.OrderID] = out.Data.File.UploadURL
	return out.Data.OrderID
}

func (c *benchClient) put(u string, data []byte) { c.do(http.MethodPut, u, data) }

// confirm starts an order's work; it runs on its own goroutine, so it returns its
// error rather than failing the benchmark.
func (c *benchClient) confirm(id string) error {
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/v2/orders/ai-detection/confirm",
		strings.NewReader(`{"idempotencyKey":"c-`+id+`","orderId":"`+id+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+liveKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("confirm %s = %d", id, res.StatusCode)
	}
	return nil
}

func (c *benchClient) get(id string) { c.do(http.MethodGet, "/api/v2/orders/"+id, nil) }
