//go:build bench

// Package sharedstate measures the stateful sandbox on each store, over loopback
// HTTP: whole order lifecycles per second and GET of a stored order, in memory and
// on a redis-server on the same machine (skipped without one on PATH).
//
//	go test -tags bench -run '^$' -bench . -benchtime 3s ./bench/sharedstate
//
// The bench build tag keeps it out of `go test ./...`: it has no tests, and linking
// its race-detector binary cost every test run about two CPU-seconds for nothing.
// .ci/run vets it with the tag so that it keeps compiling.
//
// The Redis figures are the price of sharing state between replicas: each request
// makes one to four round trips to Redis (the tenant's clock, the order, the write).
package sharedstate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/internal/redistest"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/mockserver/store"
)

func stores(b *testing.B) map[string]func(b *testing.B) store.Store {
	return map[string]func(b *testing.B) store.Store{
		"memory": func(b *testing.B) store.Store {
			s, err := store.NewMemory("")
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		"redis": func(b *testing.B) store.Store {
			srv := redistest.Start(b)
			s, err := store.OpenRedis(srv.URL(), store.RedisOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
}

func start(b *testing.B, st store.Store) string {
	b.Helper()
	ctx := context.Background()
	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := mockserver.New(ctx, spec, mockserver.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(func() { hs.Close(); srv.Close(); st.Close() })
	return hs.URL
}

func call(b *testing.B, method, url, body string) []byte {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if strings.Contains(url, "/api/v2/") && !strings.Contains(url, "X-Amz") {
		req.Header.Set("Authorization", "Bearer sk_live_bench")
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s %s = %d %s", method, url, res.StatusCode, data)
	}
	return data
}

type created struct {
	Data struct {
		OrderID string `json:"orderId"`
		File    struct {
			UploadURL string `json:"uploadUrl"`
		} `json:"file"`
	} `json:"data"`
}

// lifecycle is one AI-detection order from create to its result: create, PUT the
// file to its presigned URL, confirm, GET (complete at once: processing time 0).
func lifecycle(b *testing.B, base string, i int) {
	var c created
	json.Unmarshal(call(b, "POST", base+"/api/v2/orders/ai-detection", fmt.Sprintf(`{"idempotencyKey":"b-%d","fileName":"cat_ai.png"}`, i)), &c)
	call(b, "PUT", c.Data.File.UploadURL, "png bytes")
	call(b, "POST", base+"/api/v2/orders/ai-detection/confirm", fmt.Sprintf(`{"idempotencyKey":"bc-%d","orderId":"%s"}`, i, c.Data.OrderID))
	if body := call(b, "GET", base+"/api/v2/orders/"+c.Data.OrderID, ""); !strings.Contains(string(body), `"complete"`) {
		b.Fatalf("order %s not complete: %s", c.Data.OrderID, body)
	}
}

func BenchmarkLifecycle(b *testing.B) {
	for name, open := range stores(b) {
		b.Run(name, func(b *testing.B) {
			base := start(b, open(b))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				lifecycle(b, base, i)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
		})
	}
}

func BenchmarkGetStored(b *testing.B) {
	for name, open := range stores(b) {
		b.Run(name, func(b *testing.B) {
			base := start(b, open(b))
			var c created
			json.Unmarshal(call(b, "POST", base+"/api/v2/orders/ai-detection", `{"idempotencyKey":"get","fileName":"cat.png"}`), &c)
			url := base + "/api/v2/orders/" + c.Data.OrderID
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call(b, "GET", url, "")
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "gets/s")
		})
	}
}
