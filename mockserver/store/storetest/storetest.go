// Package storetest is the conformance suite every store.Store passes: the behaviours
// the sandbox relies on (idempotency under concurrency, atomic updates, tenant
// isolation, list order, retention, blobs, webhooks, events and their leases), run against each implementation in the
// style of the database/sql driver suites.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// base is the creation instant of the suite's first order.
var base = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Record returns a plausible record of tenant with id, created at created; key is its
// idempotency key. Exported so that other tests of stores build the same records.
func Record(tenant, id, key string, created time.Time) order.Record {
	up := created.Add(2 * time.Second)
	return order.Record{
		ID:             id,
		Tenant:         tenant,
		Type:           order.AntiAI,
		Name:           "order " + id,
		Channel:        order.ChannelAPI,
		IdempotencyKey: key,
		CreatedAt:      created,
		Files: []order.File{{
			ID: 1, Name: "cat.png", Key: "f/" + tenant + "/" + id + "/cat.png", Format: "PNG", FileType: "IMG",
			UploadedAt: &up, Size: 12, ContentType: "image/png",
		}},
		Strength:   "standard",
		ProcessFor: 5 * time.Second,
	}
}

// Run runs the suite; newStore returns an empty store, closed by the test's cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"CreateGet", testCreateGet},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"IDTaken", testIDTaken},
		{"UpdateAtomic", testUpdateAtomic},
		{"UpdateRules", testUpdateRules},
		{"UpdateWithBlobs", testUpdateWithBlobs},
		{"ReturnsCopies", testReturnsCopies},
		{"TenantIsolation", testTenantIsolation},
		{"ListOrder", testListOrder},
		{"Pages", testPages},
		{"Expire", testExpire},
		{"ExpireOwnClocks", testExpireOwnClocks},
		{"ExpireClockBack", testExpireClockBack},
		{"ClockOffsets", testClockOffsets},
		{"Reset", testReset},
		{"Blobs", testBlobs},
		{"BlobTooLarge", testBlobTooLarge},
		{"BlobSourceCutShort", testBlobSourceCutShort},
		{"BlobKeys", testBlobKeys},
		{"DeleteBlobsPrefix", testDeleteBlobsPrefix},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
	for _, tc := range webhookTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// RunPersistent checks that a store opened again on the same directory keeps
// everything; open opens the store of dir, and the test closes it.
func RunPersistent(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("ReopenWebhooks", func(t *testing.T) { testReopenWebhooks(t, open) })
}

func create(t *testing.T, s store.Store, rec order.Record) order.Record {
	t.Helper()
	got, created, err := s.CreateOrder(context.Background(), rec)
	if err != nil || !created {
		t.Fatalf("CreateOrder(%s) = %v, %v; want created", rec.ID, created, err)
	}
	return got
}

func testCreateGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	rec := Record("t1", "1001", "k1", base)
	rec.Options = &order.Options{GenerateHeatmap: true}
	got, created, err := s.CreateOrder(ctx, rec)
	if err != nil || !created {
		t.Fatalf("CreateOrder = %v, %v; want created", created, err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("CreateOrder() mismatch (-want +got):\n%s", d)
	}
	got, err = s.GetOrder(ctx, "t1", "1001")
	if err != nil {
		t.Fatalf("GetOrder: %v", err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("GetOrder() mismatch (-want +got):\n%s", d)
	}
	if _, err := s.GetOrder(ctx, "t2", "1001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOrder(other tenant) = %v; want ErrNotFound", err)
	}
	if _, err := s.GetOrder(ctx, "t1", "404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOrder(missing) = %v; want ErrNotFound", err)
	}
	for id, want := range map[string]bool{"1001": true, "404": false} {
		if ok, err := s.OrderExists(ctx, id); err != nil || ok != want {
			t.Errorf("OrderExists(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}
}

func testIdempotencyConcurrent(t *testing.T, s store.Store) {
	const n = 50
	var wg sync.WaitGroup
	ids := make([]string, n)
	made := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := Record("t1", fmt.Sprint(5000+i), "same-key", base.Add(time.Duration(i)*time.Millisecond))
			got, created, err := s.CreateOrder(context.Background(), rec)
			ids[i], made[i], errs[i] = got.ID, created, err
		}()
	}
	wg.Wait()
	createdN := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("CreateOrder #%d: %v", i, errs[i])
		}
		if made[i] {
			createdN++
		}
		if ids[i] != ids[0] {
			t.Errorf("CreateOrder #%d returned order %s; #0 returned %s", i, ids[i], ids[0])
		}
	}
	if createdN != 1 {
		t.Errorf("%d of %d concurrent creates with one key created an order; want 1", createdN, n)
	}
	list, err := s.ListOrders(context.Background(), "t1")
	if err != nil || len(list) != 1 {
		t.Errorf("ListOrders = %d orders, %v; want 1", len(list), err)
	}
	// The same key from another tenant is another order.
	create(t, s, Record("t2", "6000", "same-key", base))
}

func testIDTaken(t *testing.T, s store.Store) {
	create(t, s, Record("t1", "77", "a", base))
	_, _, err := s.CreateOrder(context.Background(), Record("t2", "77", "b", base))
	if !errors.Is(err, store.ErrIDTaken) {
		t.Errorf("CreateOrder(id of another tenant's order) = %v; want ErrIDTaken", err)
	}
	if _, err := s.GetOrder(context.Background(), "t1", "77"); err != nil {
		t.Errorf("GetOrder after a refused create: %v", err)
	}
}

func testUpdateAtomic(t *testing.T, s store.Store) {
	create(t, s, Record("t1", "1", "k", base))
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateOrder(context.Background(), "t1", "1", func(r *order.Record) error {
				r.Files[0].Size++
				return nil
			})
			if err != nil {
				t.Errorf("UpdateOrder: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := s.GetOrder(context.Background(), "t1", "1")
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(12 + n); got.Files[0].Size != want {
		t.Errorf("after %d concurrent increments Size = %d; want %d", n, got.Files[0].Size, want)
	}
}

// testUpdateWithBlobs: the blobs and the update of UpdateOrderBlobs are both there
// afterwards, small and large blobs alike (a store may keep them apart), a blob it
// replaces is gone, and a large one is not shadowed by an older small one.
func testUpdateWithBlobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, Record("t1", "1", "k", base))
	prefix := store.OrderBlobPrefix("t1", "1")
	putString(t, s, prefix+"big", "small before")
	large := strings.Repeat("0123456789abcdef", 40<<10) // 640 KiB
	started := base.Add(time.Minute)
	upd, err := s.UpdateOrderBlobs(ctx, "t1", "1", []store.NamedBlob{
		{Key: prefix + "thumb", Data: []byte("thumbnail")},
		{Key: prefix + "big", Data: []byte(large)},
	}, func(r *order.Record) error {
		r.StartedAt = &started
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetOrder(ctx, "t1", "1"); err != nil || got.StartedAt == nil || !got.StartedAt.Equal(started) || !cmp.Equal(upd, got) {
		t.Errorf("GetOrder after UpdateOrderBlobs = %+v, %v; want the update", got, err)
	}
	if got, err := readBlob(t, s, prefix+"thumb"); err != nil || got != "thumbnail" {
		t.Errorf("small blob = %q, %v; want thumbnail", got, err)
	}
	if got, err := readBlob(t, s, prefix+"big"); err != nil || got != large {
		t.Errorf("large blob = %d bytes, %v; want the %d written", len(got), err, len(large))
	}
	boom := errors.New("boom")
	if _, err := s.UpdateOrderBlobs(ctx, "t1", "1", []store.NamedBlob{{Key: prefix + "x", Data: []byte("x")}}, func(*order.Record) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateOrderBlobs(fn fails) = %v; want fn's error", err)
	}
	if _, err := s.UpdateOrderBlobs(ctx, "t2", "1", nil, func(*order.Record) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOrderBlobs(other tenant) = %v; want ErrNotFound", err)
	}
}

func testUpdateRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	rec := create(t, s, Record("t1", "1", "k", base))
	boom := errors.New("boom")
	if _, err := s.UpdateOrder(ctx, "t1", "1", func(r *order.Record) error {
		r.Name = "changed"
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("UpdateOrder(fn fails) = %v; want fn's error", err)
	}
	if _, err := s.UpdateOrder(ctx, "t1", "1", func(r *order.Record) error {
		r.ID = "2"
		return nil
	}); err == nil {
		t.Errorf("UpdateOrder(changes the id) = nil; want an error")
	}
	if _, err := s.UpdateOrder(ctx, "t2", "1", func(*order.Record) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOrder(other tenant) = %v; want ErrNotFound", err)
	}
	if got, _ := s.GetOrder(ctx, "t1", "1"); !cmp.Equal(rec, got) {
		t.Errorf("a refused update changed the order: %s", cmp.Diff(rec, got))
	}
	started := base.Add(time.Minute)
	upd, err := s.UpdateOrder(ctx, "t1", "1", func(r *order.Record) error {
		r.StartedAt = &started
		r.Outcome = order.Outcome{Fail: true, ErrorCode: "X", ErrorMessage: "y"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetOrder(ctx, "t1", "1")
	if d := cmp.Diff(upd, got); d != "" {
		t.Errorf("GetOrder after UpdateOrder mismatch (-update +get):\n%s", d)
	}
}

func testReturnsCopies(t *testing.T, s store.Store) {
	ctx := context.Background()
	rec := Record("t1", "1", "k", base)
	got := create(t, s, rec)
	got.Files[0].Name = "mutated"
	*got.Files[0].UploadedAt = time.Time{}
	again, _ := s.GetOrder(ctx, "t1", "1")
	again.Files[0].Name = "mutated too"
	list, _ := s.ListOrders(ctx, "t1")
	list[0].Files[0].Size = -1
	final, _ := s.GetOrder(ctx, "t1", "1")
	if d := cmp.Diff(rec, final); d != "" {
		t.Errorf("changing returned records changed the store (-want +got):\n%s", d)
	}
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	create(t, s, Record("a", "1", "k", base))
	create(t, s, Record("b", "2", "k", base))
	s.SetClockOffset(ctx, "a", time.Hour)
	if err := s.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListOrders(ctx, "a"); len(l) != 0 {
		t.Errorf("tenant a has %d orders after its reset", len(l))
	}
	l, _ := s.ListOrders(ctx, "b")
	if len(l) != 1 || l[0].ID != "2" {
		t.Errorf("tenant b's orders after a's reset = %v; want [2]", ids(l))
	}
	if _, err := s.GetOrder(ctx, "a", "2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant a reads b's order: %v", err)
	}
}

func ids(l []order.Record) []string {
	var out []string
	for _, r := range l {
		out = append(out, r.ID)
	}
	return out
}

func testListOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Created out of order, with a tie on the instant broken by the id as a number.
	for _, c := range []struct {
		id  string
		off time.Duration
	}{{"3", 3}, {"1", 1}, {"10", 2}, {"9", 2}, {"4", 4}, {"0", -1}} {
		create(t, s, Record("t", c.id, "k"+c.id, base.Add(c.off*time.Second)))
	}
	l, err := s.ListOrders(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"4", "3", "10", "9", "1", "0"}, ids(l)); d != "" {
		t.Errorf("ListOrders() mismatch (-want +got):\n%s", d)
	}
	if l, _ := s.ListOrders(ctx, "nobody"); len(l) != 0 {
		t.Errorf("ListOrders(unknown tenant) = %v; want none", ids(l))
	}
}

func testPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 25 {
		r := Record("t", fmt.Sprint(100+i), fmt.Sprint("k", i), base.Add(time.Duration(i)*time.Second))
		if i%2 == 1 {
			r.Type = order.AIDetection
		}
		create(t, s, r)
	}
	odd := func(r *order.Record) bool { return r.Type == order.AIDetection }
	for _, c := range []struct {
		name          string
		offset, limit int
		keep          func(*order.Record) bool
		want          []string
		total         int
	}{
		{"first", 0, 3, nil, []string{"124", "123", "122"}, 25},
		{"second", 3, 3, nil, []string{"121", "120", "119"}, 25},
		{"tail", 23, 5, nil, []string{"101", "100"}, 25},
		{"past the end", 30, 5, nil, nil, 25},
		{"all", 0, -1, nil, nil, 25},
		{"filtered", 0, 2, odd, []string{"123", "121"}, 12},
		{"filtered tail", 10, 5, odd, []string{"103", "101"}, 12},
		{"count only", 0, 0, odd, nil, 12},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, total, err := s.PageOrders(ctx, "t", c.offset, c.limit, c.keep)
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "all" {
				if len(page) != 25 {
					t.Errorf("PageOrders(all) = %d orders; want 25", len(page))
				}
			} else if d := cmp.Diff(c.want, ids(page)); d != "" {
				t.Errorf("PageOrders(%d, %d) mismatch (-want +got):\n%s", c.offset, c.limit, d)
			}
			if total != c.total {
				t.Errorf("PageOrders total = %d; want %d", total, c.total)
			}
		})
	}
}

func putString(t *testing.T, s store.Store, key, body string) {
	t.Helper()
	n, err := s.PutBlob(context.Background(), key, strings.NewReader(body), 1<<20)
	if err != nil || n != int64(len(body)) {
		t.Fatalf("PutBlob(%q) = %d, %v; want %d", key, n, err, len(body))
	}
}

func readBlob(t *testing.T, s store.Store, key string) (string, error) {
	t.Helper()
	b, err := s.OpenBlob(context.Background(), key)
	if err != nil {
		return "", err
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read blob %q: %v", key, err)
	}
	if b.Size() != int64(len(data)) {
		t.Errorf("blob %q Size() = %d; read %d bytes", key, b.Size(), len(data))
	}
	return string(data), nil
}

// Expire's windows in these tests: files go after a day, orders after three.
const (
	filesAfter  = 24 * time.Hour
	forgetAfter = 72 * time.Hour
)

func expire(t *testing.T, s store.Store, tenant string, now time.Time, want int) {
	t.Helper()
	if n, err := s.Expire(context.Background(), tenant, now, filesAfter, forgetAfter); err != nil || n != want {
		t.Fatalf("Expire(%q, %s) = %d, %v; want %d forgotten", tenant, now.Format(time.RFC3339), n, err, want)
	}
}

// withBlobs stores a file and a result for rec and returns their keys.
func withBlobs(t *testing.T, s store.Store, rec order.Record) []string {
	t.Helper()
	keys := []string{rec.Files[0].Key, store.OrderBlobPrefix(rec.Tenant, rec.ID) + "result.zip"}
	for _, k := range keys {
		putString(t, s, k, "bytes of "+k)
	}
	return keys
}

// wantBlobs checks whether each key is there.
func wantBlobs(t *testing.T, s store.Store, there bool, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, err := readBlob(t, s, k)
		if there && err != nil {
			t.Errorf("blob %q: %v; want it kept", k, err)
		}
		if !there && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("blob %q: %v; want it deleted (ErrNotFound)", k, err)
		}
	}
}

func testExpire(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := create(t, s, Record("a", "1", "k1", base))
	oldBlobs := withBlobs(t, s, old)
	mid := create(t, s, Record("b", "2", "k2", base.Add(48*time.Hour)))
	midBlobs := withBlobs(t, s, mid)
	recent := create(t, s, Record("a", "3", "k3", base.Add(72*time.Hour)))
	recentBlobs := withBlobs(t, s, recent)

	// At base+80h: order 1 (80h old) is forgotten, order 2 (32h) loses its files,
	// order 3 (8h) keeps everything.
	expire(t, s, "", base.Add(80*time.Hour), 1)
	wantBlobs(t, s, false, oldBlobs...)
	wantBlobs(t, s, false, midBlobs...)
	wantBlobs(t, s, true, recentBlobs...)
	if ok, _ := s.OrderExists(ctx, "1"); ok {
		t.Errorf("forgotten order 1 still exists")
	}
	if _, err := s.GetOrder(ctx, "b", "2"); err != nil {
		t.Errorf("order 2 lost its files, not itself: GetOrder = %v", err)
	}
	if l, _ := s.ListOrders(ctx, "a"); cmp.Diff([]string{"3"}, ids(l)) != "" {
		t.Errorf("tenant a's orders = %v; want [3]", ids(l))
	}
	// A forgotten order's idempotency key makes a new order.
	create(t, s, Record("a", "4", "k1", base.Add(80*time.Hour)))
	// Exactly filesAfter old: expired, so its files go.
	expire(t, s, "a", base.Add(96*time.Hour), 0)
	wantBlobs(t, s, false, recentBlobs...)
	// A blob put back under an order already swept is not looked for again: a sweep
	// costs what it finds to delete (the sandbox refuses uploads to expired orders).
	expire(t, s, "", base.Add(97*time.Hour), 0)
}

// testExpireOwnClocks: each tenant's orders age by its own clock, never another's.
func testExpireOwnClocks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := create(t, s, Record("a", "1", "k", base))
	b := create(t, s, Record("b", "2", "k", base))
	aBlobs, bBlobs := withBlobs(t, s, a), withBlobs(t, s, b)
	if err := s.SetClockOffset(ctx, "a", 30*time.Hour); err != nil {
		t.Fatal(err)
	}
	expire(t, s, "", base.Add(time.Hour), 0) // a's clock reads base+31h, b's base+1h
	wantBlobs(t, s, false, aBlobs...)
	wantBlobs(t, s, true, bBlobs...)
	if err := s.SetClockOffset(ctx, "b", 80*time.Hour); err != nil {
		t.Fatal(err)
	}
	expire(t, s, "a", base.Add(time.Hour), 0) // only a is swept
	wantBlobs(t, s, true, bBlobs...)
	expire(t, s, "b", base.Add(time.Hour), 1)
	wantBlobs(t, s, false, bBlobs...)
	if _, err := s.GetOrder(ctx, "a", "1"); err != nil {
		t.Errorf("a's order, 31h old on a's clock: GetOrder = %v; want it kept", err)
	}
}

// testExpireClockBack: an order made after its tenant's clock moved back past a sweep
// is swept when it ages in turn.
func testExpireClockBack(t *testing.T, s store.Store) {
	expire(t, s, "a", base.Add(100*time.Hour), 0)
	create(t, s, Record("a", "0", "k0", base.Add(99*time.Hour)))
	expire(t, s, "a", base.Add(100*time.Hour), 0) // the mark exists now
	late := create(t, s, Record("a", "1", "k1", base))
	blobs := withBlobs(t, s, late)
	expire(t, s, "a", base.Add(30*time.Hour), 0)
	wantBlobs(t, s, false, blobs...)
}

func testClockOffsets(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, c := range []struct {
		tenant string
		set    time.Duration
	}{{"a", 90 * time.Second}, {"a", -7 * 24 * time.Hour}, {"b", time.Nanosecond}} {
		if err := s.SetClockOffset(ctx, c.tenant, c.set); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClockOffset(ctx, c.tenant); err != nil || got != c.set {
			t.Errorf("ClockOffset(%s) = %v, %v; want %v", c.tenant, got, err, c.set)
		}
	}
	if got, _ := s.ClockOffset(ctx, "a"); got != -7*24*time.Hour {
		t.Errorf("tenant b's clock moved a's: %v", got)
	}
	if got, err := s.ClockOffset(ctx, "never"); err != nil || got != 0 {
		t.Errorf("ClockOffset(never set) = %v, %v; want 0", got, err)
	}
}

func testReset(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := create(t, s, Record("a", "1", "k", base))
	putString(t, s, r.Files[0].Key, "x")
	putString(t, s, store.OrderBlobPrefix("a", "1")+"thumb", "y")
	putString(t, s, "unrelated", "z")
	s.SetClockOffset(ctx, "a", time.Hour)
	if err := s.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.OrderExists(ctx, "1"); ok {
		t.Errorf("order 1 exists after its tenant's reset")
	}
	if d, _ := s.ClockOffset(ctx, "a"); d != 0 {
		t.Errorf("ClockOffset after reset = %v; want 0", d)
	}
	for _, k := range []string{r.Files[0].Key, store.OrderBlobPrefix("a", "1") + "thumb"} {
		if _, err := readBlob(t, s, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("blob %q after reset: %v; want ErrNotFound", k, err)
		}
	}
	if got, err := readBlob(t, s, "unrelated"); err != nil || got != "z" {
		t.Errorf("unrelated blob after reset = %q, %v", got, err)
	}
	// The key is free again.
	create(t, s, Record("a", "2", "k", base))
}

func testBlobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	putString(t, s, "u/1/photo.png", "first")
	putString(t, s, "u/1/photo.png", "second")
	if got, err := readBlob(t, s, "u/1/photo.png"); err != nil || got != "second" {
		t.Errorf("blob after replace = %q, %v; want second", got, err)
	}
	if _, err := s.OpenBlob(ctx, "u/1/missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenBlob(missing) = %v; want ErrNotFound", err)
	}
	if _, err := s.OpenBlob(ctx, "u/1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenBlob(a prefix of keys) = %v; want ErrNotFound", err)
	}
	b, err := s.OpenBlob(ctx, "u/1/photo.png")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(b)
	if string(rest) != "ond" || b.ModTime().IsZero() {
		t.Errorf("after Seek(3) read %q, ModTime %v; want \"ond\" and a time", rest, b.ModTime())
	}
	// Exactly the limit is allowed.
	if n, err := s.PutBlob(ctx, "u/exact", bytes.NewReader(make([]byte, 100)), 100); err != nil || n != 100 {
		t.Errorf("PutBlob(100 bytes, max 100) = %d, %v", n, err)
	}
}

func testBlobTooLarge(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.PutBlob(ctx, "big/new", bytes.NewReader(make([]byte, 101)), 100); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("PutBlob(101 bytes, max 100) = %v; want ErrTooLarge", err)
	}
	if _, err := s.OpenBlob(ctx, "big/new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused blob was kept: %v", err)
	}
	putString(t, s, "big/old", "kept")
	if _, err := s.PutBlob(ctx, "big/old", bytes.NewReader(make([]byte, 101)), 100); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("PutBlob(too large, replacing) = %v; want ErrTooLarge", err)
	}
	if got, err := readBlob(t, s, "big/old"); err != nil || got != "kept" {
		t.Errorf("blob after a refused replace = %q, %v; want the old bytes", got, err)
	}
}

// testBlobSourceCutShort: a source that fails (an upload cut short before its
// Content-Length gives io.ErrUnexpectedEOF) fails PutBlob with its error and keeps
// nothing of it, over a chunk of any backend; a source that ends keeps its bytes.
func testBlobSourceCutShort(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, size := range []int{10, 300 << 10, 3 << 20} {
		data := bytes.Repeat([]byte("m"), size)
		cut := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF))
		key := fmt.Sprintf("cut/%d", size)
		if _, err := s.PutBlob(ctx, key, cut, 100<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("PutBlob(%d bytes, then cut) = %v; want io.ErrUnexpectedEOF", size, err)
		}
		if _, err := s.OpenBlob(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a blob cut short after %d bytes was kept: %v", size, err)
		}
		whole := fmt.Sprintf("whole/%d", size)
		if n, err := s.PutBlob(ctx, whole, bytes.NewReader(data), 100<<20); err != nil || n != int64(size) {
			t.Errorf("PutBlob(%d bytes) = %d, %v", size, n, err)
		}
	}
}

func testBlobKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Keys that look like paths stay inside the store and stay distinct.
	for _, k := range []string{"../escape", "a/./b", "a/../b", ".hidden", "a b/ü%2F", "a/b.c", "A/b.C"} {
		putString(t, s, k, "v:"+k)
	}
	for _, k := range []string{"../escape", "a/./b", "a/../b", ".hidden", "a b/ü%2F", "a/b.c", "A/b.C"} {
		if got, err := readBlob(t, s, k); err != nil || got != "v:"+k {
			t.Errorf("blob %q = %q, %v", k, got, err)
		}
	}
	for _, k := range []string{"", "/lead", "trail/", "a//b", strings.Repeat("x", 300)} {
		if _, err := s.PutBlob(ctx, k, strings.NewReader("x"), 10); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("PutBlob(%q) = %v; want ErrInvalidKey", k, err)
		}
	}
}

func testDeleteBlobsPrefix(t *testing.T, s store.Store) {
	ctx := context.Background()
	keys := []string{"a/b", "a/bc", "a/b/c", "a/c", "ab", "x.y/z"}
	for _, k := range keys {
		putString(t, s, k, k)
	}
	if err := s.DeleteBlobs(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBlobs(ctx, "x."); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBlobs(ctx, "nothing/here/"); err != nil {
		t.Errorf("DeleteBlobs(no such prefix) = %v", err)
	}
	want := map[string]bool{"a/b": false, "a/bc": false, "a/b/c": false, "a/c": true, "ab": true, "x.y/z": false}
	for k, kept := range want {
		_, err := readBlob(t, s, k)
		if kept != (err == nil) {
			t.Errorf("after DeleteBlobs(a/b, x.) blob %q kept = %v; want %v", k, err == nil, kept)
		}
	}
}

func testReopen(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	var want []order.Record
	for i := range 20 {
		r := Record("t", fmt.Sprint(i+1), fmt.Sprint("k", i), base.Add(time.Duration(i)*time.Minute))
		create(t, s, r)
		want = append([]order.Record{r}, want...)
	}
	started := base.Add(time.Hour)
	upd, err := s.UpdateOrder(ctx, "t", "5", func(r *order.Record) error { r.StartedAt = &started; return nil })
	if err != nil {
		t.Fatal(err)
	}
	want[len(want)-5] = upd
	putString(t, s, "blob/1", "bytes")
	s.SetClockOffset(ctx, "t", 36*time.Hour)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	defer s.Close()
	got, err := s.ListOrders(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("orders after reopen mismatch (-want +got):\n%s", d)
	}
	if d, _ := s.ClockOffset(ctx, "t"); d != 36*time.Hour {
		t.Errorf("clock offset after reopen = %v; want 36h", d)
	}
	if b, err := readBlob(t, s, "blob/1"); err != nil || b != "bytes" {
		t.Errorf("blob after reopen = %q, %v", b, err)
	}
	if r, created, err := s.CreateOrder(ctx, Record("t", "99", "k3", base)); err != nil || created || r.ID != "4" {
		t.Errorf("CreateOrder(known key) after reopen = %s, %v, %v; want order 4, not created", r.ID, created, err)
	}
}
