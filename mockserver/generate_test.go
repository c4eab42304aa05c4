package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/order"
)

var testNow = time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)

// TestGeneratedOrdersKeepTheContract generates thousands of orders over every type and
// status and checks each against openapi.yaml and the domain rules.
func TestGeneratedOrdersKeepTheContract(t *testing.T) {
	t.Parallel() // pure: generates and checks, shares only the read-only spec
	spec := spectest.Load(t)
	n := 2000
	switch {
	case testing.Short():
		n = 200
	case raceEnabled:
		n = 500 // every type x status still; the bands and edges below are still asserted
	}
	bands := map[order.StatusCode]int{}
	edges := map[float64]int{}
	channels := map[order.Channel]int{}
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			t.Run(string(typ)+"/"+string(st), func(t *testing.T) {
				for i := 0; i < n/20*5; i++ {
					id := strconv.Itoa(1000000 + i*7919)
					o := Generate(42, id, typ, st, testNow)
					body := o.AppendResponse(nil)
					r := httptest.NewRequest(http.MethodGet, "/api/v2/orders/"+id, nil)
					route, params, err := spec.FindRoute(r)
					if err != nil {
						t.Fatal(err)
					}
					if err := spec.ValidateResponse(context.Background(), r, route, params, 200, http.Header{"Content-Type": {"application/json"}}, body); err != nil {
						t.Fatalf("Generate(42, %q, %s, %s) breaks the schema: %v\n%s", id, typ, st, err, body)
					}
					if vs := order.CheckResponse(body, order.CheckOptions{OrderID: id, Now: testNow}); len(vs) > 0 {
						t.Fatalf("Generate(42, %q, %s, %s) breaks rules: %v\n%s", id, typ, st, vs, body)
					}
					channels[o.Channel]++
					if o.Probability != nil {
						bands[*o.StatusCode]++
						edges[*o.Probability]++
					}
				}
			})
		}
	}
	for _, c := range []order.StatusCode{order.LikelyReal, order.UncertainReal, order.UncertainAI, order.LikelyAI} {
		if bands[c] == 0 {
			t.Errorf("no generated order fell in band %s", c)
		}
	}
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		if edges[p] == 0 {
			t.Errorf("no generated order hit probability %v exactly", p)
		}
	}
	if channels[order.ChannelAPI] == 0 || channels[order.ChannelWeb] == 0 {
		t.Errorf("channels = %v; want both api and web", channels)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := Generate(7, "123456789", order.AIDetection, order.Complete, testNow)
	b := Generate(7, "123456789", order.AIDetection, order.Complete, testNow.Add(10*time.Minute))
	if diff := cmp.Diff(string(a.AppendJSON(nil)), string(b.AppendJSON(nil))); diff != "" {
		t.Errorf("Generate() within one hour mismatch (-first +second):\n%s", diff)
	}
	c := Generate(8, "123456789", order.AIDetection, order.Complete, testNow)
	if string(a.AppendJSON(nil)) == string(c.AppendJSON(nil)) {
		t.Errorf("Generate() gave the same order for seeds 7 and 8")
	}
}

func TestComboFor(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("12345%02d", i)
		typ, st := ComboFor(id)
		seen[string(typ)+"/"+string(st)] = true
	}
	if len(seen) != 20 {
		t.Errorf("ComboFor over 20 consecutive ids gave %d combinations; want 20", len(seen))
	}
	tests := []struct {
		id     string
		typ    order.Type
		status order.Status
	}{
		{"0", order.AntiAI, order.Pending},
		{"7", order.WatermarkEmbed, order.Complete},
		{"1234567890123456789", order.WatermarkEmbed, order.Expired},
		{"100", order.AntiAI, order.Pending},
		{"33", order.WatermarkExtract, order.Failed},
	}
	for _, tt := range tests {
		typ, st := ComboFor(tt.id)
		if typ != tt.typ || st != tt.status {
			t.Errorf("ComboFor(%q) = %s, %s; want %s, %s", tt.id, typ, st, tt.typ, tt.status)
		}
	}
}
