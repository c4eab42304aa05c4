package fastlog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // so that the zone rows run on a machine without zoneinfo

	"github.com/google/go-cmp/cmp"
)

// at is 2024-03-05T14:07:09.123456789Z, the time of most test records.
var at = time.Date(2024, 3, 5, 14, 7, 9, 123456789, time.UTC)

// requestAttrs are the attributes of an access-log record.
func requestAttrs(status int) []slog.Attr {
	return []slog.Attr{
		slog.String("method", "GET"),
		slog.String("path", "/api/v2/orders/4247065412300000123"),
		slog.Int("status", status),
		slog.Int("bytes", 631),
		slog.String("source", "generated"),
		slog.Duration("duration", 41*time.Microsecond),
	}
}

func record(t time.Time, level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

type logValuer struct{}

func (logValuer) LogValue() slog.Value { return slog.StringValue("resolved") }

// formats pairs each constructor with slog's and with the formatter behind its
// fast path.
var formats = []struct {
	name   string
	fast   func(*bytes.Buffer, *slog.HandlerOptions) slog.Handler
	std    func(*bytes.Buffer, *slog.HandlerOptions) slog.Handler
	format func([]byte, slog.Record) ([]byte, bool)
}{
	{
		name:   "text",
		fast:   func(w *bytes.Buffer, o *slog.HandlerOptions) slog.Handler { return NewTextHandler(w, o) },
		std:    func(w *bytes.Buffer, o *slog.HandlerOptions) slog.Handler { return slog.NewTextHandler(w, o) },
		format: appendText,
	},
	{
		name:   "json",
		fast:   func(w *bytes.Buffer, o *slog.HandlerOptions) slog.Handler { return NewJSONHandler(w, o) },
		std:    func(w *bytes.Buffer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) },
		format: appendJSON,
	},
}

// options are the handler options every record is logged with.
var options = []struct {
	name string
	opts *slog.HandlerOptions
	// fast is whether the options allow the fast path at all.
	fast bool
}{
	{name: "nil", opts: nil, fast: true},
	{name: "zero", opts: &slog.HandlerOptions{}, fast: true},
	{name: "level", opts: &slog.HandlerOptions{Level: slog.LevelDebug - 8}, fast: true},
	{name: "replace_attr", opts: &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return a }}},
	{name: "add_source", opts: &slog.HandlerOptions{AddSource: true}},
}

// TestHandlersMatchSlog logs each record through fastlog's and slog's handlers and
// compares the bytes. Each row also says which format's fast path must serve it,
// so that a row meant to exercise the formatter cannot pass by delegating.
func TestHandlersMatchSlog(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*60*60)
	newfoundland := time.FixedZone("NST", -(3*60+30)*60)
	amsterdam := loadLocation(t, "Europe/Amsterdam")
	stJohns := loadLocation(t, "America/St_Johns")
	tests := []struct {
		name     string
		rec      slog.Record
		fastText bool
		fastJSON bool
	}{
		{"request", record(at, slog.LevelInfo, "request", requestAttrs(200)...), true, true},
		{"request_5xx", record(at, slog.LevelError, "request", requestAttrs(503)...), true, true},
		{"request_error_word", record(at, slog.LevelInfo, "request", append(requestAttrs(404), slog.String("error", "not_found"))...), true, true},
		{"request_error_sentence", record(at, slog.LevelError, "request", append(requestAttrs(500), slog.String("error", "upstream timed out"))...), false, true},
		{"no_attrs", record(at, slog.LevelInfo, "starting"), true, true},
		{"many_attrs", record(at, slog.LevelInfo, "m", slog.Int("a", 1), slog.Int("b", 2), slog.Int("c", 3), slog.Int("d", 4), slog.Int("e", 5), slog.Int("f", 6), slog.Int("g", 7)), true, true},

		{"level_debug", record(at, slog.LevelDebug, "x"), true, true},
		{"level_warn", record(at, slog.LevelWarn, "x"), true, true},
		{"level_info_plus_2", record(at, slog.LevelInfo+2, "x"), true, true},
		{"level_error_plus_4", record(at, slog.LevelError+4, "x"), true, true},
		{"level_debug_minus_4", record(at, slog.LevelDebug-4, "x"), true, true},

		{"string_space", record(at, slog.LevelInfo, "x", slog.String("s", "a b")), false, true},
		{"string_equals", record(at, slog.LevelInfo, "x", slog.String("s", "a=b")), false, true},
		{"string_quote", record(at, slog.LevelInfo, "x", slog.String("s", `a"b`)), false, false},
		{"string_backslash", record(at, slog.LevelInfo, "x", slog.String("s", `a\b`)), true, false},
		{"string_newline", record(at, slog.LevelInfo, "x", slog.String("s", "a\nb")), false, false},
		{"string_tab", record(at, slog.LevelInfo, "x", slog.String("s", "a\tb")), false, false},
		{"string_nul", record(at, slog.LevelInfo, "x", slog.String("s", "a\x00b")), false, false},
		{"string_del", record(at, slog.LevelInfo, "x", slog.String("s", "a\x7fb")), true, true},
		{"string_html", record(at, slog.LevelInfo, "x", slog.String("s", "<a&b>")), true, true},
		{"string_punctuation", record(at, slog.LevelInfo, "x", slog.String("s", "!#$%'()*+,-./:;?@[]^_`{|}~")), true, true},
		{"string_empty", record(at, slog.LevelInfo, "x", slog.String("s", "")), false, true},
		{"string_unicode", record(at, slog.LevelInfo, "x", slog.String("s", "café")), false, false},
		{"string_cjk", record(at, slog.LevelInfo, "x", slog.String("s", "日本")), false, false},
		{"string_line_separator", record(at, slog.LevelInfo, "x", slog.String("s", "a\u2028b")), false, false},
		{"string_invalid_utf8", record(at, slog.LevelInfo, "x", slog.String("s", "a\xffb")), false, false},
		{"message_empty", record(at, slog.LevelInfo, ""), false, true},
		{"message_sentence", record(at, slog.LevelWarn, "listening on :8080"), false, true},
		{"message_unicode", record(at, slog.LevelInfo, "prêt"), false, false},
		{"key_empty", record(at, slog.LevelInfo, "x", slog.String("", "v")), false, false},
		{"key_empty_zero_value", record(at, slog.LevelInfo, "x", slog.Int("", 0)), false, false},
		{"key_space", record(at, slog.LevelInfo, "x", slog.Int("a b", 1)), false, true},
		{"key_quote", record(at, slog.LevelInfo, "x", slog.Int(`a"b`, 1)), false, false},

		{"bools", record(at, slog.LevelInfo, "x", slog.Bool("t", true), slog.Bool("f", false)), true, true},
		{"ints", record(at, slog.LevelInfo, "x", slog.Int("zero", 0), slog.Int("neg", -42), slog.Int64("min", math.MinInt64), slog.Int64("max", math.MaxInt64)), true, true},
		{"uints", record(at, slog.LevelInfo, "x", slog.Uint64("zero", 0), slog.Uint64("max", math.MaxUint64)), true, true},
		{"durations", record(at, slog.LevelInfo, "x",
			slog.Duration("zero", 0), slog.Duration("ns", 1), slog.Duration("us", 1500), slog.Duration("h", 2*time.Hour),
			slog.Duration("neg", -41*time.Microsecond), slog.Duration("min", math.MinInt64), slog.Duration("max", math.MaxInt64)), true, true},

		{"float", record(at, slog.LevelInfo, "x", slog.Float64("f", 0.5)), false, false},
		{"time_attr", record(at, slog.LevelInfo, "x", slog.Time("t", at)), false, false},
		{"any", record(at, slog.LevelInfo, "x", slog.Any("a", []int{1})), false, false},
		{"error_any", record(at, slog.LevelInfo, "x", slog.Any("err", fmt.Errorf("boom"))), false, false},
		{"group", record(at, slog.LevelInfo, "x", slog.Group("g", slog.Int("a", 1))), false, false},
		{"log_valuer", record(at, slog.LevelInfo, "x", slog.Any("v", logValuer{})), false, false},
		{"fast_then_slow_attr", record(at, slog.LevelInfo, "x", slog.Int("a", 1), slog.Float64("f", 1)), false, false},

		{"time_zero", record(time.Time{}, slog.LevelInfo, "x"), false, false},
		{"time_tokyo", record(at.In(tokyo), slog.LevelInfo, "x"), true, true},
		{"time_newfoundland", record(at.In(newfoundland), slog.LevelInfo, "x"), true, true},
		{"time_local", record(at.Local(), slog.LevelInfo, "x"), true, true},
		{"time_monotonic", record(time.Now(), slog.LevelInfo, "x"), true, true},
		{"time_whole_second", record(time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC), slog.LevelInfo, "x"), true, true},
		{"time_last_nanosecond", record(time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC), slog.LevelInfo, "x"), true, true},
		{"time_trailing_zeros", record(time.Date(2024, 3, 5, 14, 7, 9, 120000000, tokyo), slog.LevelInfo, "x"), true, true},
		{"time_one_nanosecond", record(time.Date(2024, 3, 5, 14, 7, 9, 1, newfoundland), slog.LevelInfo, "x"), true, true},
		{"time_year_0", record(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "x"), true, true},
		{"time_year_1", record(time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), slog.LevelInfo, "x"), true, true},
		{"time_year_9999", record(time.Date(9999, 12, 31, 23, 59, 59, 999999999, tokyo), slog.LevelInfo, "x"), true, true},
		{"time_year_minus_1", record(time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "x"), false, false},
		{"time_year_10000", record(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "x"), false, false},
		{"time_year_0_in_minus_zone", record(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).In(newfoundland), slog.LevelInfo, "x"), false, false},
		{"zone_amsterdam_summer", record(time.Date(2024, 7, 1, 12, 0, 0, 5e8, amsterdam), slog.LevelInfo, "x"), true, true},
		{"zone_amsterdam_winter", record(time.Date(2024, 1, 1, 12, 0, 0, 5e8, amsterdam), slog.LevelInfo, "x"), true, true},
		{"zone_amsterdam_1900", record(time.Date(1900, 1, 1, 12, 0, 0, 0, amsterdam), slog.LevelInfo, "x"), true, true},
		{"zone_st_johns", record(time.Date(2024, 11, 3, 2, 30, 0, 0, stJohns), slog.LevelInfo, "x"), true, true},
		{"zone_seconds", record(at.In(time.FixedZone("LMT", -(17*60+32))), slog.LevelInfo, "x"), true, true},
		{"zone_plus_30s", record(at.In(time.FixedZone("", 30)), slog.LevelInfo, "x"), true, true},
		{"zone_minus_30s", record(at.In(time.FixedZone("", -30)), slog.LevelInfo, "x"), true, true},
		{"zone_utc_named_other", record(at.In(time.FixedZone("GMT", 0)), slog.LevelInfo, "x"), true, true},
		{"zone_99h59m", record(at.In(time.FixedZone("", -(99*60+59)*60)), slog.LevelInfo, "x"), true, true},
		{"zone_100h", record(at.In(time.FixedZone("", 100*60*60)), slog.LevelInfo, "x"), false, false},
	}
	for _, f := range formats {
		for _, o := range options {
			for _, tt := range tests {
				t.Run(f.name+"/"+o.name+"/"+tt.name, func(t *testing.T) {
					var want, got bytes.Buffer
					if err := f.std(&want, o.opts).Handle(context.Background(), tt.rec); err != nil {
						t.Fatalf("slog Handle() = %v", err)
					}
					h := f.fast(&got, o.opts)
					if err := h.Handle(context.Background(), tt.rec); err != nil {
						t.Fatalf("Handle() = %v", err)
					}
					if diff := cmp.Diff(want.String(), got.String()); diff != "" {
						t.Errorf("Handle() mismatch (-want +got):\n%s", diff)
					}

					_, wrapped := h.(*handler)
					if wrapped != o.fast {
						t.Errorf("handler wrapped = %v; want %v", wrapped, o.fast)
					}
					wantFast := tt.fastText
					if f.name == "json" {
						wantFast = tt.fastJSON
					}
					if _, fast := f.format(nil, tt.rec); fast != wantFast {
						t.Errorf("fast path taken = %v; want %v", fast, wantFast)
					}
				})
			}
		}
	}
}

func loadLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q) = %v", name, err)
	}
	return loc
}

// TestDerivedHandlersMatchSlog checks that handlers made by WithAttrs and
// WithGroup, which are slog's own, still write what slog writes.
func TestDerivedHandlersMatchSlog(t *testing.T) {
	tests := []struct {
		name   string
		derive func(slog.Handler) slog.Handler
	}{
		{"with_attrs", func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("replica", "a")}) }},
		{"with_group", func(h slog.Handler) slog.Handler { return h.WithGroup("g") }},
		{"with_empty_group", func(h slog.Handler) slog.Handler { return h.WithGroup("") }},
		{"with_group_attrs", func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("n", 1)})
		}},
	}
	for _, f := range formats {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				rec := record(at, slog.LevelInfo, "request", requestAttrs(200)...)
				var want, got bytes.Buffer
				if err := tt.derive(f.std(&want, nil)).Handle(context.Background(), rec); err != nil {
					t.Fatalf("slog Handle() = %v", err)
				}
				if err := tt.derive(f.fast(&got, nil)).Handle(context.Background(), rec); err != nil {
					t.Fatalf("Handle() = %v", err)
				}
				if diff := cmp.Diff(want.String(), got.String()); diff != "" {
					t.Errorf("Handle() mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestEnabled checks that the level decision is slog's.
func TestEnabled(t *testing.T) {
	tests := []struct {
		name  string
		opts  *slog.HandlerOptions
		level slog.Level
		want  bool
	}{
		{"default_info", nil, slog.LevelInfo, true},
		{"default_debug", nil, slog.LevelDebug, false},
		{"warn_info", &slog.HandlerOptions{Level: slog.LevelWarn}, slog.LevelInfo, false},
		{"warn_error", &slog.HandlerOptions{Level: slog.LevelWarn}, slog.LevelError, true},
	}
	for _, f := range formats {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				if got := f.fast(new(bytes.Buffer), tt.opts).Enabled(context.Background(), tt.level); got != tt.want {
					t.Errorf("Enabled(%v) = %v; want %v", tt.level, got, tt.want)
				}
			})
		}
	}
}

// TestConcurrentHandle logs from many goroutines through one handler, and through
// a handler derived from it, into a writer that is not safe for concurrent use;
// every third record takes slog's path. Every line must come out whole, once. Run
// it with -race: a Write from the fast path that is not serialised with one from
// slog's path is a data race on the buffer.
func TestConcurrentHandle(t *testing.T) {
	const goroutines, perGoroutine = 16, 200
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var out bytes.Buffer
			h := f.fast(&out, nil)
			derived := h.WithAttrs([]slog.Attr{slog.String("replica", "b")})
			want := make(map[string]int)
			var wantBuf bytes.Buffer
			std := f.std(&wantBuf, nil)
			stdDerived := std.WithAttrs([]slog.Attr{slog.String("replica", "b")})
			recs := make([][]slog.Record, goroutines)
			for g := range goroutines {
				for i := range perGoroutine {
					attrs := append(requestAttrs(200), slog.Int("g", g), slog.Int("i", i))
					if i%3 == 0 {
						attrs = append(attrs, slog.String("error", "an error, with spaces"))
					}
					rec := record(at, slog.LevelInfo, "request", attrs...)
					recs[g] = append(recs[g], rec)
					wantBuf.Reset()
					sh := std
					if i%5 == 0 {
						sh = stdDerived
					}
					if err := sh.Handle(context.Background(), rec); err != nil {
						t.Fatalf("slog Handle() = %v", err)
					}
					want[wantBuf.String()]++
				}
			}

			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i, rec := range recs[g] {
						hh := h
						if i%5 == 0 {
							hh = derived
						}
						if err := hh.Handle(context.Background(), rec); err != nil {
							t.Errorf("Handle() = %v", err)
						}
					}
				})
			}
			wg.Wait()

			got := make(map[string]int)
			for line := range strings.Lines(out.String()) {
				got[line]++
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
