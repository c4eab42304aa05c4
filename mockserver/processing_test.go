package mockserver

import (
	"testing"
	"time"
)

func TestParseProcessingTime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Latency
		ok   bool
	}{
		{"0", Latency{}, true},
		{"5s", Latency{Min: 5 * time.Second}, true},
		{"90m", Latency{Min: 90 * time.Minute}, true},
		{"2h", Latency{Min: 2 * time.Hour}, true},
		{"1d", Latency{Min: 24 * time.Hour}, true},
		{"1d12h", Latency{Min: 36 * time.Hour}, true},
		{"2s-8s", Latency{Min: 2 * time.Second, Max: 8 * time.Second}, true},
		{" 1h - 2d ", Latency{Min: time.Hour, Max: 48 * time.Hour}, true},
		{"365d", Latency{Min: 365 * 24 * time.Hour}, true},
		{"", Latency{}, false},
		{"-5s", Latency{}, false},
		{"5", Latency{}, false},
		{"8s-2s", Latency{}, false},
		{"2s-", Latency{}, false},
		{"-", Latency{}, false},
		{"2s--1s", Latency{}, false},
		{"366d", Latency{}, false},
		{"1s-366d", Latency{}, false},
		{"soon", Latency{}, false},
	} {
		got, err := ParseProcessingTime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseProcessingTime(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseProcessingTime: whatever --processing-time says, the parser answers a
// range New accepts or an error, never a panic.
func FuzzParseProcessingTime(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseProcessingTime(s)
		if err != nil {
			return
		}
		if l.Min < 0 || l.Min > MaxProcessingTime || l.Max > MaxProcessingTime || (l.Max != 0 && l.Max < l.Min) {
			t.Fatalf("ParseProcessingTime(%q) = %v; outside what New accepts", s, l)
		}
	})
}
