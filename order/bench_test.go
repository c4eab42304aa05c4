package order_test

import (
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

// BenchmarkCheckResponse is the domain-rule half of --validate-responses.
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
