package order

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendTimeMatchesFormat holds the hand-written appendTime to time.Format.
func TestAppendTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{
		{},
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 12, 10, 0, 0, 999999, time.FixedZone("KST", 9*3600)),
	}
	for i := 0; i < 10000; i++ {
		times = append(times, time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9)))
	}
	for _, tm := range times {
		want := `"` + tm.UTC().Format(TimeLayout) + `"`
		if got := string(appendTime(nil, tm)); got != want {
			t.Errorf("appendTime(%v) = %s; want %s", tm, got, want)
		}
	}
}
