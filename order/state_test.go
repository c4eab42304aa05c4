package order_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/order"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

// randomRecord builds a record as the sandbox may hold one: any type, any stage of
// its life (never started, started at create, started later, long or zero work),
// any outcome and options, instants with and without sub-millisecond parts.
func randomRecord(rng *rand.Rand, n int) order.Record {
	typ := order.Types()[rng.IntN(4)]
	created := t0.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
	if rng.IntN(2) == 0 {
		created = created.Truncate(time.Millisecond)
	}
	r := order.Record{
		ID:             fmt.Sprint(1000000 + n),
		Tenant:         "t",
		Type:           typ,
		Name:           fmt.Sprintf("%s_%d", typ, n),
		Channel:        []order.Channel{order.ChannelAPI, order.ChannelWeb}[rng.IntN(2)],
		IdempotencyKey: fmt.Sprint("key-", n),
		CreatedAt:      created,
		ProcessFor:     []time.Duration{0, time.Millisecond, 5 * time.Second, time.Hour, 8 * 24 * time.Hour}[rng.IntN(5)],
	}
	files := 1
	if !order.SingleFile(typ) {
		files = 1 + rng.IntN(4)
	}
	uploaded := rng.IntN(3) > 0
	for i := range files {
		f := order.File{ID: int64(i + 1), Name: fmt.Sprintf("f%d.png", i), Key: fmt.Sprintf("k/%d/%d", n, i)}
		if uploaded {
			f.UploadedAt = ptr(created.Add(time.Duration(rng.Int64N(int64(time.Hour)))))
		}
		if typ == order.WatermarkEmbed {
			f.Watermarks = []string{"(c) studio", fmt.Sprint("wm", rng.IntN(3))}[:1+rng.IntN(2)]
		}
		r.Files = append(r.Files, f)
	}
	switch rng.IntN(4) {
	case 0: // never started
	case 1: // started at create (antiAi URL mode)
		r.StartedAt = ptr(created)
	case 2: // started after the uploads
		r.StartedAt = ptr(created.Add(time.Duration(rng.Int64N(int64(2 * time.Hour)))))
		r.ConfirmedAt = r.StartedAt
	case 3: // started too late to finish before expiry, or after it
		r.StartedAt = ptr(created.Add(order.ExpiresAfter - time.Duration(rng.Int64N(int64(2*time.Hour)))))
	}
	if rng.IntN(2) == 0 { // made by a sandbox that makes files
		r.AwaitsOutputs = true
		switch rng.IntN(3) {
		case 0: // still working
		case 1: // outputs stored before ProcessFor ran out, or after it
			r.OutputsAt = ptr(created.Add(time.Duration(rng.Int64N(int64(3 * time.Hour)))))
		case 2: // outputs stored only after expiry
			r.OutputsAt = ptr(created.Add(order.ExpiresAfter + time.Minute))
		}
	}
	r.Outcome.Fail = rng.IntN(4) == 0
	if r.Outcome.Fail && rng.IntN(2) == 0 {
		r.Outcome.ErrorCode, r.Outcome.ErrorMessage = "PROCESSING_FAILED", "The image could not be processed"
	}
	switch typ {
	case order.AIDetection:
		r.Outcome.Probability = []float64{0, 0.02, 0.25, 0.4999, 0.5, 0.75, 0.98, 1, rng.Float64()}[rng.IntN(9)]
		if rng.IntN(4) > 0 {
			r.Options = &order.Options{GenerateHeatmap: rng.IntN(2) == 0, GenerateOverlay: rng.IntN(2) == 0, GenerateThumbnail: rng.IntN(2) == 0}
		}
	case order.WatermarkExtract:
		if r.Outcome.Detected = rng.IntN(2) == 0; r.Outcome.Detected {
			r.Outcome.WatermarkText = "(c) studio"
		}
	}
	return r
}

// instants returns the moments worth looking at in a record's life: around each
// transition, confirmation and upload, and a few random ones.
func instants(rng *rand.Rand, r *order.Record) []time.Time {
	var out []time.Time
	around := func(t time.Time) {
		out = append(out, t.Add(-time.Millisecond), t, t.Add(time.Nanosecond), t.Add(time.Millisecond))
	}
	for _, tr := range r.Transitions(r.CreatedAt.Add(100 * 24 * time.Hour)) {
		around(tr.At)
	}
	if r.ConfirmedAt != nil {
		around(*r.ConfirmedAt)
	}
	for _, f := range r.Files {
		if f.UploadedAt != nil {
			around(*f.UploadedAt)
		}
	}
	for range 4 {
		out = append(out, r.CreatedAt.Add(time.Duration(rng.Int64N(int64(9*24*time.Hour)))-time.Hour))
	}
	return out
}

// TestRecordOrderKeepsTheRules: every record, at every instant of its life, gives an
// order that keeps every rule of Check and the contract's schema.
func TestRecordOrderKeepsTheRules(t *testing.T) {
	ctx := context.Background()
	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v2/orders/1000000", nil)
	route, params, err := spec.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	validator := spec.ResponseValidator(route, http.StatusOK)
	header := http.Header{"Content-Type": {"application/json"}}
	urls := func(kind, key string) *string {
		u := "https://sandbox.test/files/" + kind + "/" + key + "?X-Amz-Expires=3600"
		return &u
	}
	rng := rand.New(rand.NewPCG(10, 10))
	seen := map[order.Type]map[order.Status]int{}
	moves := map[order.Type]map[[2]order.Status]int{} // every legal transition of every type
	records := 1500
	if raceEnabled {
		records = 400 // the coverage of types, statuses and transitions is asserted below
	}
	for n := range records {
		r := randomRecord(rng, n)
		life := r.Transitions(r.CreatedAt.Add(100 * 24 * time.Hour))
		for i := 1; i < len(life); i++ {
			if moves[r.Type] == nil {
				moves[r.Type] = map[[2]order.Status]int{}
			}
			moves[r.Type][[2]order.Status{life[i-1].Status, life[i].Status}]++
		}
		for _, now := range instants(rng, &r) {
			o := r.Order(now, urls)
			if seen[o.Type] == nil {
				seen[o.Type] = map[order.Status]int{}
			}
			seen[o.Type][o.Status]++
			if vs := order.Check(&o, order.CheckOptions{OrderID: r.ID, Now: now}); len(vs) > 0 {
				t.Fatalf("record %+v at %v: order breaks %v", r, now, vs)
			}
			body := o.AppendResponse(nil)
			if err := validator.Validate(ctx, req, params, header.Clone(), body); err != nil {
				t.Fatalf("record %+v at %v: %s breaks the contract: %v", r, now, body, err)
			}
		}
	}
	// The generator must reach every type in every status, or the test proves little.
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			if seen[typ][st] == 0 {
				t.Errorf("no %s order was seen %s", typ, st)
			}
		}
		for from, tos := range legal {
			for _, to := range tos {
				if moves[typ][[2]order.Status{from, to}] == 0 {
					t.Errorf("no %s order moved from %s to %s", typ, from, to)
				}
			}
		}
	}
}

// legal is the transition relation this test holds Transitions to, until
// order/lifecycle.go's CanMove lands (then it should be used instead).
var legal = map[order.Status][]order.Status{
	order.Pending:    {order.InProgress, order.Expired},
	order.InProgress: {order.Complete, order.Failed, order.Expired},
	order.Complete:   {order.Expired},
	order.Failed:     {order.Expired},
}

func TestTransitionsAreLegalAndAgreeWithStatusAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for n := range 2000 {
		r := randomRecord(rng, n)
		life := r.Transitions(r.CreatedAt.Add(1000 * time.Hour))
		if first := life[0]; !first.At.Equal(r.CreatedAt) || (first.Status != order.Pending && first.Status != order.InProgress) {
			t.Fatalf("record %+v starts with %+v; want pending or inProgress at CreatedAt", r, first)
		}
		if last := life[len(life)-1]; last.Status != order.Expired || !last.At.Equal(r.CreatedAt.Add(order.ExpiresAfter)) {
			t.Fatalf("record %+v ends with %+v; want expired 7 days after creation", r, last)
		}
		for i := 1; i < len(life); i++ {
			from, to := life[i-1], life[i]
			if to.At.Before(from.At) {
				t.Fatalf("record %+v: transitions out of time order: %+v", r, life)
			}
			ok := false
			for _, s := range legal[from.Status] {
				ok = ok || s == to.Status
			}
			if !ok {
				t.Fatalf("record %+v: illegal move %s -> %s in %+v", r, from.Status, to.Status, life)
			}
		}
		for _, now := range instants(rng, &r) {
			tr := r.Transitions(now)
			if got, want := r.StatusAt(now), tr[len(tr)-1].Status; got != want {
				t.Fatalf("StatusAt(%v) = %s; last transition says %s", now, got, want)
			}
			next, ok := r.NextChange(now)
			if ok && (!next.After(now) || len(r.Transitions(next)) == len(tr)) {
				t.Fatalf("record %+v: NextChange(%v) = %v, but nothing changes then: %+v", r, now, next, r.Transitions(next))
			}
			if ok && len(r.Transitions(next.Add(-time.Nanosecond))) != len(tr) {
				t.Fatalf("NextChange(%v) = %v skips a transition", now, next)
			}
			if !ok && r.StatusAt(now) != order.Expired {
				t.Fatalf("NextChange(%v) = none, but the order is %s", now, r.StatusAt(now))
			}
			if u := r.UpdatedAt(now); u.Before(r.CreatedAt) || u.After(now) && now.After(r.CreatedAt) {
				t.Fatalf("UpdatedAt(%v) = %v; want between CreatedAt %v and now", now, u, r.CreatedAt)
			}
		}
	}
}

func TestStatusAt(t *testing.T) {
	base := order.Record{ID: "1", Type: order.AntiAI, CreatedAt: t0, ProcessFor: 5 * time.Second, Files: []order.File{{Key: "k"}}}
	started := base
	started.StartedAt = at(time.Minute)
	failed := started
	failed.Outcome.Fail = true
	urlMode := base
	urlMode.StartedAt = at(0)
	instant := started
	instant.ProcessFor = 0
	awaiting := started
	awaiting.AwaitsOutputs = true
	readyLate := awaiting
	readyLate.OutputsAt = at(time.Minute + time.Hour)
	readyEarly := awaiting
	readyEarly.OutputsAt = at(time.Minute + time.Second)
	readyLateFailed := readyLate
	readyLateFailed.Outcome.Fail = true
	for _, c := range []struct {
		name string
		r    order.Record
		at   time.Duration
		want order.Status
	}{
		{"never started", base, time.Hour, order.Pending},
		{"before its creation", started, -time.Hour, order.Pending},
		{"before start", started, time.Minute - time.Nanosecond, order.Pending},
		{"at start", started, time.Minute, order.InProgress},
		{"working", started, time.Minute + 4*time.Second, order.InProgress},
		{"done", started, time.Minute + 5*time.Second, order.Complete},
		{"failed", failed, time.Hour, order.Failed},
		{"url mode at create", urlMode, 0, order.InProgress},
		{"zero processing", instant, time.Minute, order.Complete},
		{"just before expiry", started, order.ExpiresAfter - time.Nanosecond, order.Complete},
		{"expired", started, order.ExpiresAfter, order.Expired},
		{"pending expires", base, order.ExpiresAfter, order.Expired},
		{"outputs awaited past ProcessFor", awaiting, time.Minute + time.Hour, order.InProgress},
		{"outputs never stored expire", awaiting, order.ExpiresAfter, order.Expired},
		{"outputs stored late: working", readyLate, time.Minute + time.Hour - time.Nanosecond, order.InProgress},
		{"outputs stored late: done then", readyLate, time.Minute + time.Hour, order.Complete},
		{"outputs stored late: failed then", readyLateFailed, time.Minute + time.Hour, order.Failed},
		{"outputs stored early: ProcessFor decides", readyEarly, time.Minute + 4*time.Second, order.InProgress},
		{"outputs stored early: done after ProcessFor", readyEarly, time.Minute + 5*time.Second, order.Complete},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.r.StatusAt(t0.Add(c.at)); got != c.want {
				t.Errorf("StatusAt(created%+v) = %s; want %s", c.at, got, c.want)
			}
		})
	}
}

func TestTransitionsWhenDone(t *testing.T) {
	r := order.Record{ID: "1", Type: order.AntiAI, CreatedAt: t0, ProcessFor: 5 * time.Second, StartedAt: at(time.Minute)}
	want := []order.Transition{
		{order.Pending, t0},
		{order.InProgress, t0.Add(time.Minute)},
		{order.Complete, t0.Add(time.Minute + 5*time.Second)},
	}
	if d := cmp.Diff(want, r.Transitions(t0.Add(time.Hour))); d != "" {
		t.Errorf("Transitions() mismatch (-want +got):\n%s", d)
	}
	if next, ok := r.NextChange(t0.Add(time.Hour)); !ok || !next.Equal(t0.Add(order.ExpiresAfter)) {
		t.Errorf("NextChange(after completion) = %v, %v; want the expiry", next, ok)
	}
	up := t0.Add(30 * time.Second)
	r.Files = []order.File{{UploadedAt: &up}}
	if got := r.UpdatedAt(t0.Add(40 * time.Second)); !got.Equal(up) {
		t.Errorf("UpdatedAt(after upload) = %v; want the upload %v", got, up)
	}
}
