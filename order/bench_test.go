package order_test

import (
	"encoding/json"
	"testing"

	"github.com/morimock/morimock/order"
)

// BenchmarkAppendResponse encodes one sample order of every type and status in turn
// into a reused buffer, as the mock server does for each answer.
func BenchmarkAppendResponse(b *testing.B) {
	var orders []order.Order
	size := 0
	for _, t := range order.Types() {
		for _, s := range order.Statuses() {
			o := sample(t, s)
			orders = append(orders, o)
			size += len(o.AppendResponse(nil))
		}
	}
	b.SetBytes(int64(size / len(orders)))
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; b.Loop(); i++ {
		buf = orders[i%len(orders)].AppendResponse(buf[:0])
	}
}

// BenchmarkDecodeJSON is the one decoding of a body that --validate-responses and
// the contract suite pay for each answer (see DecodeJSON for why its decoder).
func BenchmarkDecodeJSON(b *testing.B) {
	var bodies [][]byte
	size := 0
	for _, t := range order.Types() {
		for _, s := range order.Statuses() {
			o := sample(t, s)
			bodies = append(bodies, o.AppendResponse(nil))
			size += len(bodies[len(bodies)-1])
		}
	}
	b.SetBytes(int64(size / len(bodies)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := order.DecodeJSON(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckResponse is the domain-rule half of the contract suite: it decodes
// each body, then checks it.
func BenchmarkCheckResponse(b *testing.B) {
	var bodies [][]byte
	for _, t := range order.Types() {
		for _, s := range order.Statuses() {
			o := sample(t, s)
			bodies = append(bodies, o.AppendResponse(nil))
		}
	}
	opts := order.CheckOptions{OrderID: "1234567890123456789", Now: now}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if vs := order.CheckResponse(bodies[i%len(bodies)], opts); len(vs) > 0 {
			b.Fatal(vs)
		}
	}
}

// BenchmarkCheckResponseValue is the domain-rule half of --validate-responses, which
// checks the value the schema validation already decoded.
func BenchmarkCheckResponseValue(b *testing.B) {
	var values []any
	for _, t := range order.Types() {
		for _, s := range order.Statuses() {
			o := sample(t, s)
			var v any
			if err := json.Unmarshal(o.AppendResponse(nil), &v); err != nil {
				b.Fatal(err)
			}
			values = append(values, v)
		}
	}
	opts := order.CheckOptions{OrderID: "1234567890123456789", Now: now}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if vs := order.CheckResponseValue(values[i%len(values)], opts); len(vs) > 0 {
			b.Fatal(vs)
		}
	}
}
