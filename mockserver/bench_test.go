package mockserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/morimock/morimock/order"
)

// benchIDs are the ids the benchmarks cycle through: their last two digits walk all
// twenty type/status combinations, so a figure is an average over every kind of order
// the mock makes, not the cost of one lucky shape.
var benchIDs = func() []string {
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = strconv.Itoa(424706541233094600 + i)
	}
	return ids
}()

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := benchIDs[i%len(benchIDs)]
		t, st := ComboFor(id)
		o := Generate(2026, id, t, st, testNow)
		if o.OrderID != id {
			b.Fatal("wrong order")
		}
	}
}

// BenchmarkAppendResponse encodes generated orders of every type and status; the
// order package benchmarks the encoder on fixed samples.
func BenchmarkAppendResponse(b *testing.B) {
	orders := make([]order.Order, len(benchIDs))
	size := 0
	for i, id := range benchIDs {
		t, st := ComboFor(id)
		orders[i] = Generate(2026, id, t, st, testNow)
		size += len(orders[i].AppendResponse(nil))
	}
	b.SetBytes(int64(size / len(orders)))
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; b.Loop(); i++ {
		buf = orders[i%len(orders)].AppendResponse(buf[:0])
	}
}

// BenchmarkRequestValidation is what every API request pays before an order is made:
// the route, then the contract's parameters and security through kin-openapi.
func BenchmarkRequestValidation(b *testing.B) {
	s := newServer(b, Config{Token: token})
	reqs := make([]*http.Request, len(benchIDs))
	for i, id := range benchIDs {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v2/orders/"+id, nil)
		reqs[i].Header.Set("Authorization", "Bearer "+token)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		route, params, err := s.spec.FindRoute(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.spec.ValidateRequest(ctx, r, route, params, s.authenticate); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponseValidation is what --validate-responses adds to every 200: the body
// against the schema, then against the domain rules.
func BenchmarkResponseValidation(b *testing.B) {
	s := newServer(b, Config{})
	reqs := make([]*http.Request, len(benchIDs))
	bodies := make([][]byte, len(benchIDs))
	for i, id := range benchIDs {
		reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v2/orders/"+id, nil)
		t, st := ComboFor(id)
		o := Generate(2026, id, t, st, testNow)
		bodies[i] = o.AppendResponse(nil)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % len(reqs)
		_, params, err := s.spec.FindRoute(reqs[k])
		if err != nil {
			b.Fatal(err)
		}
		if err := s.validate(reqs[k], params, h, bodies[k], testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeHTTP is the whole handler, middleware included, for an authorised GET
// of a freshly generated order: with and without --validate-responses, and with the
// access log off (--quiet) or writing text lines to io.Discard through the handler
// serve uses.
func BenchmarkServeHTTP(b *testing.B) {
	for _, bc := range []struct {
		name     string
		validate bool
		log      bool
	}{
		{"quiet", false, false},
		{"log", false, true},
		{"validate/quiet", true, false},
		{"validate/log", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Config{Token: token, ValidateResponses: bc.validate}
			if bc.log {
				cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) // as serve logs
			}
			s := newServer(b, cfg)
			reqs := make([]*http.Request, len(benchIDs))
			for i, id := range benchIDs {
				reqs[i] = httptest.NewRequest(http.MethodGet, "/api/v2/orders/"+id, nil)
				reqs[i].Header.Set("Authorization", "Bearer "+token)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				clear(w.h)
				w.status = 0
				s.ServeHTTP(w, reqs[i%len(reqs)])
				if w.status != http.StatusOK {
					b.Fatalf("status %d: %s", w.status, w.h.Get(HeaderError))
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status, so the benchmark
// measures the handler rather than httptest.ResponseRecorder's copies.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
