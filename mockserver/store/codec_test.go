package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/morimock/morimock/order"
)

// fullRecord sets every field of a Record, so a field the codec forgets shows.
func fullRecord() order.Record {
	t := func(s int) *time.Time { v := time.Date(2026, 3, 1, 9, 0, s, 123456789, time.UTC); return &v }
	return order.Record{
		ID: "1865432100000000001", Tenant: "ab12", Type: order.WatermarkEmbed, Name: "wtr_embed_ü", Channel: order.ChannelWeb,
		Test: true, IdempotencyKey: "key-1", CreatedAt: *t(0),
		Files: []order.File{
			{ID: -7, Name: "a.png", Key: "u/a", Format: "PNG", FileType: "IMG", Role: "original", Sequence: 2,
				SourceURL: "https://x.test/a.png", Watermarks: []string{"(c)", ""}, UploadedAt: t(3), Size: 1 << 40, ContentType: "image/png"},
			{ID: 9},
		},
		Options:     &order.Options{GenerateHeatmap: true, GenerateThumbnail: true},
		Strength:    "high",
		ConfirmedAt: t(4), ConfirmKey: "confirm-1", StartedAt: t(5), ProcessFor: -time.Second,
		Outcome:       order.Outcome{Fail: true, ErrorCode: "E", ErrorMessage: "m", Probability: 0.98, Detected: true, WatermarkText: "w"},
		AwaitsOutputs: true, OutputsAt: t(6),
	}
}

// TestCodecReadsVersion2: a record written before the sandbox made files (version 2,
// no AwaitsOutputs or OutputsAt) reads back as an order that ends on ProcessFor.
func TestCodecReadsVersion2(t *testing.T) {
	want := fullRecord()
	want.AwaitsOutputs, want.OutputsAt = false, nil
	b := encodeRecord(&want)
	v2 := append([]byte{codecV2}, b[1:len(b)-2]...) // v3 adds a 0 flag and a nil instant
	got, err := decodeRecord(v2)
	if err != nil {
		t.Fatalf("decodeRecord(version 2) = %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decodeRecord(version 2) mismatch (-want +got):\n%s", d)
	}
}

// TestCodecCoversRecord fails when Record grows a field: encodeRecord and
// decodeRecord (and fullRecord) must learn it, under a new codec version.
func TestCodecCoversRecord(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{{order.Record{}, 18}, {order.File{}, 12}, {order.Options{}, 3}, {order.Outcome{}, 6}} {
		if n := reflect.TypeOf(c.v).NumField(); n != c.want {
			t.Errorf("%T has %d fields; the record codec knows %d", c.v, n, c.want)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, r := range []order.Record{fullRecord(), {ID: "1", Tenant: "t"}, {ID: "1", Tenant: "t", Options: &order.Options{}}} {
		got, err := decodeRecord(encodeRecord(&r))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(r, got); d != "" {
			t.Errorf("decodeRecord(encodeRecord()) mismatch (-want +got):\n%s", d)
		}
	}
}

func TestCodecRefuses(t *testing.T) {
	good := encodeRecord(&order.Record{ID: "1", Tenant: "t"})
	for name, b := range map[string][]byte{
		"empty":             nil,
		"other version":     append([]byte{codecV3 + 1}, good[1:]...),
		"v1 with a v3 tail": append([]byte{codecV1}, good[1:]...),
		"v2 with a v3 tail": append([]byte{codecV2}, good[1:]...),
		"truncated":         good[:len(good)-1],
		"trailing":          append(append([]byte(nil), good...), 0),
		"no tenant":         encodeRecord(&order.Record{ID: "1"}),
		"huge count":        {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := decodeRecord(b); err == nil {
			t.Errorf("decodeRecord(%s) = nil error; want one", name)
		}
	}
}

// FuzzDecodeRecord: no bytes make decodeRecord panic or allocate beyond its input,
// and whatever it accepts encodes back to a record it reads the same.
func FuzzDecodeRecord(f *testing.F) {
	full := fullRecord()
	f.Add(encodeRecord(&full))
	f.Add(encodeRecord(&order.Record{ID: "1", Tenant: "t"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, err := decodeRecord(encodeRecord(&r))
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if d := cmp.Diff(r, again, cmp.Comparer(func(a, b float64) bool { return a == b || a != a && b != b })); d != "" {
			t.Fatalf("re-encoded record differs (-first +again):\n%s", d)
		}
	})
}
