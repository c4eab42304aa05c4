package store

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/morimock/morimock/order"
)

const benchOrders = 100_000

// benchRecord is a typical stored order: an antiAi upload with two files, uploaded,
// confirmed and started, and a 64-hex-digit tenant digest.
func benchRecord(tenant string, i int, created time.Time) order.Record {
	up := created.Add(3 * time.Second)
	start := created.Add(5 * time.Second)
	id := fmt.Sprint(1865432100000000000 + i)
	r := order.Record{
		ID: id, Tenant: tenant, Type: order.AntiAI, Name: "anti_ai_" + created.Format("2006-01-02"),
		Channel: order.ChannelAPI, IdempotencyKey: fmt.Sprintf("01960d3e-a4f2-7b3c-8a1d-%012d", i),
		CreatedAt: created, ConfirmedAt: &start, StartedAt: &start, ProcessFor: 5 * time.Second,
		Strength: "standard",
	}
	for f := range 2 {
		r.Files = append(r.Files, order.File{
			ID: int64(i*2 + f), Name: fmt.Sprintf("IMG_%04d.png", f), Key: fmt.Sprintf("u/%s/%s/%d.png", tenant[:16], id, f),
			Format: "PNG", FileType: "IMG", Sequence: f + 1, UploadedAt: &up, Size: 16384, ContentType: "image/png",
		})
	}
	return r
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerOrder reports the heap a Memory store holds per stored order at
// 100,000 orders (10 tenants), blobs excluded: go test -run x -bench MemoryPerOrder
// -benchtime 1x ./mockserver/store/
func BenchmarkMemoryPerOrder(b *testing.B) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for range b.N {
		before := heapInUse()
		m, err := NewMemory("")
		if err != nil {
			b.Fatal(err)
		}
		for i := range benchOrders {
			tenant := fmt.Sprintf("%064x", i%10)
			if _, _, err := m.CreateOrder(ctx, benchRecord(tenant, i, t0.Add(time.Duration(i)*time.Second))); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/benchOrders, "B/order")
		runtime.KeepAlive(m)
		m.Close()
	}
}

// fillBolt writes n orders of one tenant into the store of dir, many per commit.
func fillBolt(tb testing.TB, dir string, n int) {
	tb.Helper()
	s, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tenant := fmt.Sprintf("%064x", 1)
	for start := 0; start < n; start += 5000 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < min(n, start+5000); i++ {
				r := benchRecord(tenant, i, t0.Add(time.Duration(i)*time.Second))
				if _, _, err := s.createTx(tx, &r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkBoltReopen measures a restart with 100,000 stored orders: Open, read one
// order, read the first list page of its tenant (who has all 100,000), Close:
// go test -run x -bench BoltReopen ./mockserver/store/
func BenchmarkBoltReopen(b *testing.B) {
	dir := b.TempDir()
	fillBolt(b, dir, benchOrders)
	ctx := context.Background()
	tenant := fmt.Sprintf("%064x", 1)
	b.ResetTimer()
	for range b.N {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetOrder(ctx, tenant, fmt.Sprint(1865432100000000000+benchOrders/2)); err != nil {
			b.Fatal(err)
		}
		page, total, err := s.PageOrders(ctx, tenant, 0, 20, nil)
		if err != nil || len(page) != 20 || total != benchOrders {
			b.Fatalf("PageOrders = %d orders of %d, %v", len(page), total, err)
		}
		s.Close()
	}
}

// BenchmarkPageOrders measures one list page of a tenant with 100,000 orders, without
// and with a filter that reads every record.
func BenchmarkPageOrders(b *testing.B) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tenant := fmt.Sprintf("%064x", 1)
	dir := b.TempDir()
	fillBolt(b, dir, benchOrders)
	bs, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	m, _ := NewMemory("")
	defer m.Close()
	for i := range benchOrders {
		m.CreateOrder(ctx, benchRecord(tenant, i, t0.Add(time.Duration(i)*time.Second)))
	}
	complete := func(r *order.Record) bool { return r.StatusAt(t0.Add(1000*time.Hour)) == order.Complete }
	for _, s := range []struct {
		name string
		s    Store
	}{{"memory", m}, {"bolt", bs}} {
		b.Run(s.name+"/page", func(b *testing.B) {
			for range b.N {
				s.s.PageOrders(ctx, tenant, 40, 20, nil)
			}
		})
		b.Run(s.name+"/filtered", func(b *testing.B) {
			for range b.N {
				s.s.PageOrders(ctx, tenant, 40, 20, complete)
			}
		})
	}
}

// BenchmarkBoltCreate measures creates with --state-dir from 16 goroutines at once,
// each commit fsynced.
func BenchmarkBoltCreate(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var next atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			r := benchRecord(fmt.Sprintf("%064x", i%10), i, t0.Add(time.Duration(i)*time.Second))
			if _, _, err := s.CreateOrder(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
