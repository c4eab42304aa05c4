package fastlog

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzHandlers builds a record from its inputs and checks that fastlog's text and
// JSON handlers write exactly what slog's write, whichever path the record takes.
// Most raw inputs fall outside the fast path (a random second is rarely in years
// 0..9999, a random string rarely ASCII), so each input is also logged tamed:
// moved into the ranges the fast path serves, where the formatting is at stake.
// More seeds live in testdata/fuzz/FuzzHandlers.
func FuzzHandlers(f *testing.F) {
	f.Add("request", "path", "/api/v2/orders/4247065412300000123", int64(200), int64(41*time.Microsecond), int64(1709647629), int64(123456789), 0)
	f.Add("request", "error", "upstream timed out", int64(503), int64(2*time.Hour), int64(1709647629), int64(0), 9*60)
	f.Add("", "", "", int64(0), int64(0), int64(0), int64(0), 0)
	f.Add("x", "k", `a\b<&>`, int64(-1), int64(1), int64(-62135596800), int64(999999999), -(3*60 + 30))
	f.Add("x", "k=v", "a=b", int64(-9223372036854775808), int64(1500), int64(253402300799), int64(1), 99*60+59)
	f.Add("x", "k", "café\u2028", int64(9223372036854775807), int64(-1), int64(253402300800), int64(0), 100*60)
	f.Add("msg with spaces", "key", "\x7f\x00\"", int64(7), int64(-9223372036854775808), int64(-62167219200), int64(1), -1)
	f.Fuzz(func(t *testing.T, msg, key, s string, n, d, sec, nsec int64, offsetMinutes int) {
		raw := fuzzRecord(msg, key, s, n, d, time.Unix(sec, nsec).In(time.FixedZone("", offsetMinutes*60)))
		// Years 0..9999 (in UTC) are the yearsSpan seconds from year0 on;
		// offsets up to ±99:59 are those under 6000 minutes.
		const year0, yearsSpan = -62167219200, 315569520000
		tamed := fuzzRecord(ascii(msg), ascii(key), ascii(s), n, d,
			time.Unix(year0+mod(sec, yearsSpan), mod(nsec, 1e9)).In(time.FixedZone("", offsetMinutes%6000*60)))
		for _, rec := range []slog.Record{raw, tamed} {
			for _, f := range formats {
				var want, got bytes.Buffer
				if err := f.std(&want, nil).Handle(context.Background(), rec); err != nil {
					t.Fatalf("%s: slog Handle() = %v", f.name, err)
				}
				if err := f.fast(&got, nil).Handle(context.Background(), rec); err != nil {
					t.Fatalf("%s: Handle() = %v", f.name, err)
				}
				if diff := cmp.Diff(want.String(), got.String()); diff != "" {
					t.Errorf("%s: Handle() mismatch (-want +got):\n%s", f.name, diff)
				}
			}
		}
	})
}

func fuzzRecord(msg, key, s string, n, d int64, tm time.Time) slog.Record {
	rec := slog.NewRecord(tm, slog.Level(n%17-8), msg, 0)
	rec.AddAttrs(
		slog.String("s", s),
		slog.String(key, s),
		slog.Int64("n", n),
		slog.Uint64("u", uint64(n)),
		slog.Bool("b", n%2 == 0),
		slog.Duration("d", time.Duration(d)),
	)
	return rec
}

// ascii maps each byte of s onto ' '..DEL, keeping the characters the fast path
// must still turn away (space, '"', '=', backslash) in play.
func ascii(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = ' ' + c%0x60
	}
	return string(b)
}

// mod is x modulo m, in 0..m-1 also for a negative x.
func mod(x, m int64) int64 {
	return (x%m + m) % m
}
