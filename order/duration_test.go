package order_test

import (
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"-0", 0},
		{"90s", 90 * time.Second},
		{"-90s", -90 * time.Second},
		{"+1h", time.Hour},
		{"7d", 7 * order.Day},
		{"1d12h", 36 * time.Hour},
		{"0.5d", 12 * time.Hour},
		{"-1d1ns", -order.Day - 1},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"250ms", 250 * time.Millisecond},
		{"3µs", 3 * time.Microsecond},
		{"2d2d", 4 * order.Day},
		{"106751d", 106751 * order.Day},
	} {
		got, err := order.ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", "empty"},
		{"-", "empty"},
		{"7", "missing unit after 7"},
		{"1d2", "missing unit after 2"},
		{"5w", `unknown unit "w"`},
		{"d", "a number must come before each unit"},
		{"1d-2h", "a number must come before each unit"},
		{"1..5h", "is not a number"},
		{"106752d", "out of range"},
		{"106751d24h", "out of range"},
		{"9999999999999999999h", "out of range"},
		{" 1h", "a number must come before"},
	} {
		_, err := order.ParseDuration(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "invalid duration") {
			t.Errorf("ParseDuration(%q) error = %v; want one saying %q", c.in, err, c.want)
		}
	}
}

// FuzzParseDuration: no input crashes it; Go durations read as time.ParseDuration
// reads them; every value it returns reads back from its own String form.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7d", "1d12h", "-90s", "0", "1.5h", "1e3s", "5w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := order.ParseDuration(s)
		if !strings.Contains(s, "d") {
			want, werr := time.ParseDuration(s)
			if werr == nil && (err != nil || got != want) && want != -1<<63 {
				t.Fatalf("ParseDuration(%q) = %v, %v; time.ParseDuration says %v", s, got, err, want)
			}
		}
		if err != nil {
			return
		}
		back, err := order.ParseDuration(got.String())
		if err != nil || back != got {
			t.Fatalf("ParseDuration(%q) = %v, but its String %q reads as %v, %v", s, got, got.String(), back, err)
		}
	})
}
