package order_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

// replaceInvalid is s with each byte of invalid UTF-8 replaced by U+FFFD, as
// encoding/json and AppendString do.
func replaceInvalid(s string) string {
	var b strings.Builder
	for _, r := range s { // range yields RuneError, width 1, for each invalid byte
		b.WriteRune(r)
	}
	return b.String()
}

// checkAppendString asserts that AppendString(s) is one valid JSON string that
// decodes to s (with invalid UTF-8 replaced), and that it appends to dst.
func checkAppendString(tb testing.TB, s string) {
	tb.Helper()
	prefix := []byte("prefix:")
	out := order.AppendString(append([]byte(nil), prefix...), s)
	if !bytes.HasPrefix(out, prefix) {
		tb.Fatalf("AppendString(%q, %q) = %q; lost the prefix", prefix, s, out)
	}
	enc := out[len(prefix):]
	if !json.Valid(enc) {
		tb.Fatalf("AppendString(%q) = %s; not valid JSON", s, enc)
	}
	if !utf8.Valid(enc) {
		tb.Fatalf("AppendString(%q) = %q; not valid UTF-8", s, enc)
	}
	var got string
	if err := json.Unmarshal(enc, &got); err != nil {
		tb.Fatalf("AppendString(%q) = %s; json.Unmarshal error = %v", s, enc, err)
	}
	if want := replaceInvalid(s); got != want {
		tb.Fatalf("decode(AppendString(%q)) = %q; want %q", s, got, want)
	}
	// encoding/json reads it exactly as it reads its own encoding.
	std, _ := json.Marshal(s)
	var stdGot string
	if err := json.Unmarshal(std, &stdGot); err != nil || stdGot != got {
		tb.Fatalf("AppendString(%q) decodes to %q; encoding/json round-trips to %q (err %v)", s, got, stdGot, err)
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "MORI-WTR-001", `"MORI-WTR-001"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"newline tab cr", "a\nb\tc\rd", `"a\nb\tc\rd"`},
		{"control chars", "\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"del is raw", "\x7f", "\"\x7f\""},
		{"html is raw", "<a&b>", `"<a&b>"`},
		{"hangul", "주문 상세 조회", `"주문 상세 조회"`},
		{"emoji", "🔒", `"🔒"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"truncated rune", "\xe2\x82", `"\ufffd\ufffd"`},
		{"surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"real U+FFFD", "\ufffd", "\"\ufffd\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(order.AppendString(nil, tt.in)); got != tt.want {
				t.Errorf("AppendString(%q) = %s; want %s", tt.in, got, tt.want)
			}
			checkAppendString(t, tt.in)
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "anti_ai_2026-03-12", `"\`, "\x00\n\u2028\u2029", "a\xffb", "\xed\xa0\x80", "주문", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAppendString(t, s)
	})
}

// wireTime is the oracle's timestamp: UTC with milliseconds, as the docs write it.
func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type wireOptions struct {
	GenerateHeatmap   bool `json:"generateHeatmap"`
	GenerateOverlay   bool `json:"generateOverlay"`
	GenerateThumbnail bool `json:"generateThumbnail"`
}

// The oracle's field groups. encoding/json writes an embedded struct's fields where it
// is embedded, so each type's struct below lists its fields in the docs' order.
type (
	wireHead struct {
		Type              order.Type    `json:"type"`
		OrderID           string        `json:"orderId"`
		Channel           order.Channel `json:"channel"`
		ThumbnailImageURL *string       `json:"thumbnailImageUrl"`
	}
	wireBody struct {
		Status    order.Status `json:"status"`
		OrderName string       `json:"orderName"`
		FileCount int          `json:"fileCount"`
		CreatedAt string       `json:"createdAt"`
		UpdatedAt string       `json:"updatedAt"`
		Errors    *string      `json:"errors"`
	}
)

// oracle encodes o with encoding/json through a tagged struct for its type, written
// from the docs' field lists (openapi.yaml), independently of order.Fields and
// AppendJSON. It is what AppendJSON must produce byte for byte.
func oracle(tb testing.TB, o order.Order) []byte {
	tb.Helper()
	head := wireHead{o.Type, o.OrderID, o.Channel, o.ThumbnailImageURL}
	body := wireBody{o.Status, o.OrderName, o.FileCount, wireTime(o.CreatedAt), wireTime(o.UpdatedAt), o.Errors}
	var v any
	switch o.Type {
	case order.AntiAI:
		v = struct {
			wireHead
			wireBody
		}{head, body}
	case order.WatermarkEmbed:
		watermarks := o.Watermarks
		if watermarks == nil {
			watermarks = []string{} // the docs: always an array
		}
		v = struct {
			wireHead
			wireBody
			Watermarks []string `json:"watermarks"`
		}{head, body, watermarks}
	case order.WatermarkExtract:
		v = struct {
			wireHead
			wireBody
			StatusCode    *order.StatusCode `json:"statusCode"`
			WatermarkText *string           `json:"watermarkText"`
		}{head, body, o.StatusCode, o.WatermarkText}
	case order.AIDetection:
		var opts *wireOptions
		if o.Options != nil {
			opts = &wireOptions{o.Options.GenerateHeatmap, o.Options.GenerateOverlay, o.Options.GenerateThumbnail}
		}
		v = struct {
			wireHead
			OriginalImageURL *string `json:"originalImageUrl"`
			wireBody
			Probability *float64          `json:"probability"`
			StatusCode  *order.StatusCode `json:"statusCode"`
			Options     *wireOptions      `json:"options"`
			HeatmapURL  *string           `json:"heatmapUrl"`
			OverlayURL  *string           `json:"overlayUrl"`
		}{head, o.OriginalImageURL, body, o.Probability, o.StatusCode, opts, o.HeatmapURL, o.OverlayURL}
	default:
		tb.Fatalf("oracle: unknown type %q", o.Type)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // AppendString, like the API, leaves <, > and & raw
	if err := enc.Encode(v); err != nil {
		tb.Fatalf("oracle: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestAppendJSONMatchesEncodingJSON holds the hand-written encoder to encoding/json
// over every type and status, and over values that need escaping.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	var orders []order.Order
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			orders = append(orders, sample(typ, st))
		}
		odd := sample(typ, order.Failed)
		odd.OrderName = "주문 <a&b> \"q\" \\ \x00\n\u2028 \xff🔒"
		odd.Errors = ptr("line one\nline two\t\u2029")
		odd.CreatedAt = time.Date(2026, 3, 12, 19, 0, 0, 123456789, time.FixedZone("KST", 9*3600))
		odd.UpdatedAt = odd.CreatedAt.Add(time.Millisecond)
		orders = append(orders, odd)
	}
	edge := sample(order.AIDetection, order.Complete)
	edge.Options = nil
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1, 0.123456789, 0.1 + 0.2} {
		edge.Probability = ptr(p)
		orders = append(orders, edge)
	}
	embedNone := sample(order.WatermarkEmbed, order.Pending)
	embedNone.Watermarks = nil
	orders = append(orders, embedNone)
	for _, o := range orders {
		want := oracle(t, o)
		if got := o.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON(%s %s) mismatch (-want +got):\n%s", o.Type, o.Status, cmp.Diff(string(want), string(got)))
		}
		if got := o.AppendResponse([]byte("x")); string(got) != "x"+`{"data":`+string(want)+"}" {
			t.Errorf("AppendResponse(%s %s) = %s; want x{\"data\":%s}", o.Type, o.Status, got, want)
		}
		// Through encoding/json, as a caller of MarshalJSON sees it.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(o); err != nil {
			t.Fatalf("json.Encoder.Encode(%s) error = %v", o.Type, err)
		}
		if got := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); string(got) != string(want) {
			t.Errorf("json.Encoder.Encode(%s %s) mismatch (-want +got):\n%s", o.Type, o.Status, cmp.Diff(string(want), string(got)))
		}
	}
}

func FuzzCheckJSON(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzCheckJSON; one more from the samples here.
	o := sample(order.AIDetection, order.Complete)
	f.Add(o.AppendJSON(nil))
	known := map[string]bool{}
	for _, r := range order.Rules() {
		known[r.Name] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []order.CheckOptions{{}, {OrderID: reqID, Now: now}} {
			for _, vs := range [][]order.Violation{order.CheckJSON(data, opts), order.CheckResponse(data, opts)} {
				for _, v := range vs {
					if !known[v.Rule] {
						t.Errorf("violation %v names a rule that Rules() lacks", v)
					}
					if !strings.HasPrefix(v.Path, "$") {
						t.Errorf("violation %v has a path not rooted at $", v)
					}
					_ = v.String()
				}
			}
		}
	})
}
