// Command imagework keeps a running morimock sandbox's image worker busy with
// 12-megapixel photos, for bench/imagelatency.sh.
//
//	imagework -addr 127.0.0.1:18590 -mode prepare -orders 20 -ids big.txt
//
// creates -orders aiDetection orders (thumbnail, heat map and overlay asked for), each
// with a 4000 x 3000 JPEG uploaded, leaves them unconfirmed and writes their ids to
// -ids, so the uploads are done before anything is measured.
//
//	imagework -addr 127.0.0.1:18590 -mode confirm -ids big.txt
//
// confirms them one after another, each once the one before is complete (the server
// must run with --processing-time 0), and prints how many completed. It polls each
// order every -poll (50ms; 0 polls in a loop, as a client that waits for its order
// without a pause). It ends when the list is done or on SIGTERM.
//
//	imagework -addr 127.0.0.1:18590 -mode get -ids ids.txt -duration 5s
//
// GETs the orders of ids.txt (a key and an order id a line, as bench/lifecycle's fill
// writes them) one after another with Go's HTTP client for -duration, and prints the
// p50, p99 and p999 of their latency as they were measured: what a client that waits
// for each answer sees, beside wrk's figures, which are corrected for coordinated
// omission (what requests arriving at a steady rate would see).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/morimock/morimock/mockserver/files"
)

const token = "sk_live_imagework"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "imagework:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "", "host:port of the sandbox")
	mode := flag.String("mode", "prepare", "prepare, confirm or get")
	orders := flag.Int("orders", 20, "prepare: how many orders")
	ids := flag.String("ids", "", "the file of order ids, one a line (get: key and id a line)")
	poll := flag.Duration("poll", 50*time.Millisecond, "confirm: the pause between two GETs of an order (0: none)")
	duration := flag.Duration("duration", 5*time.Second, "get: how long to send GETs")
	flag.Parse()
	if *addr == "" || *ids == "" {
		return fmt.Errorf("-addr and -ids are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	base := "http://" + *addr
	switch *mode {
	case "prepare":
		photo, err := photo12MP()
		if err != nil {
			return err
		}
		var out bytes.Buffer
		for i := range *orders {
			body := fmt.Sprintf(`{"idempotencyKey":"big-%d","fileName":"big.jpg","options":{"generateHeatmap":true,"generateOverlay":true,"generateThumbnail":true}}`, i)
			var o struct {
				Data struct {
					OrderID string `json:"orderId"`
					File    struct {
						UploadURL string `json:"uploadUrl"`
					} `json:"file"`
				}
			}
			if err := do(ctx, http.MethodPost, base+"/api/v2/orders/ai-detection", body, &o); err != nil {
				return err
			}
			if err := do(ctx, http.MethodPut, o.Data.File.UploadURL, string(photo), nil); err != nil {
				return err
			}
			fmt.Fprintln(&out, o.Data.OrderID)
		}
		return os.WriteFile(*ids, out.Bytes(), 0o644)
	case "confirm":
		f, err := os.Open(*ids)
		if err != nil {
			return err
		}
		defer f.Close()
		done := 0
		defer func() { fmt.Println(done) }()
		for sc := bufio.NewScanner(f); sc.Scan(); done++ {
			id := sc.Text()
			confirm := fmt.Sprintf(`{"idempotencyKey":"c-%s","orderId":%q}`, id, id)
			if err := do(ctx, http.MethodPost, base+"/api/v2/orders/ai-detection/confirm", confirm, nil); err != nil {
				return nilIfDone(ctx, err)
			}
			for {
				var d struct{ Data struct{ Status string } }
				if err := do(ctx, http.MethodGet, base+"/api/v2/orders/"+id, "", &d); err != nil {
					return nilIfDone(ctx, err)
				}
				if d.Data.Status == "complete" {
					break
				}
				if d.Data.Status != "inProgress" {
					return fmt.Errorf("order %s is %s (run the server with --processing-time 0)", id, d.Data.Status)
				}
				select { // by default a poll every 50 ms: a few GETs among wrk's thousands
				case <-ctx.Done():
					return nil
				case <-time.After(*poll):
				}
			}
		}
		return nil
	case "get":
		return getLatency(ctx, base, *ids, *duration)
	}
	return fmt.Errorf("-mode %q: want prepare, confirm or get", *mode)
}

// getLatency GETs the orders of ids (key and id a line, as bench/lifecycle writes them)
// one after another for d, over one keep-alive connection of Go's own client, and
// prints the p50, p99 and p999 of their latencies, uncorrected: the second client of
// bench/imagelatency.sh, beside wrk.
func getLatency(ctx context.Context, base, ids string, d time.Duration) error {
	data, err := os.ReadFile(ids)
	if err != nil {
		return err
	}
	var reqs []*http.Request
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, id, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			return fmt.Errorf("%s: line %q: want a key and an order id", ids, line)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/orders/"+id, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		reqs = append(reqs, req)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var lat []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil; {
		req := reqs[len(lat)%len(reqs)]
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return nilIfDone(ctx, err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s = %d", req.URL.Path, res.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	if len(lat) == 0 {
		return errors.New("no GET was answered")
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))].Round(time.Microsecond) }
	fmt.Printf("%s %s %s\n", at(0.50), at(0.99), at(0.999))
	return nil
}

func nilIfDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func do(ctx context.Context, method, url, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	if method != http.MethodPut {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "image/jpeg")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s = %d %.200s", method, req.URL.Path, res.StatusCode, got)
	}
	if out != nil {
		return json.Unmarshal(got, out)
	}
	return nil
}

// photo12MP is a 4000 x 3000 JPEG with texture, as a camera would give (the picture
// of the mockserver benchmarks).
func photo12MP() ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, files.Textured(4000, 3000), &jpeg.Options{Quality: 85})
	return b.Bytes(), err
}
