package order_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

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

// golden compares got with testdata/name, or rewrites it with -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestMarshalJSONGolden(t *testing.T) {
	for _, typ := range order.Types() {
		t.Run(string(typ), func(t *testing.T) {
			o := sample(typ, order.Complete)
			// Through MarshalJSON, as a caller of encoding/json sees it; HTML escaping
			// off, since the URLs' & would otherwise become \u0026.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(o); err != nil {
				t.Fatalf("json.Encoder.Encode(%s) error = %v", typ, err)
			}
			got := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			direct, _ := o.MarshalJSON()
			if !bytes.Equal(got, direct) {
				t.Errorf("json.Encoder = %s; MarshalJSON = %s; want equal", got, direct)
			}
			if resp := o.AppendResponse(nil); string(resp) != `{"data":`+string(direct)+`}` {
				t.Errorf("AppendResponse() = %s; want {\"data\":%s}", resp, direct)
			}
			// The keys come in the order Fields gives.
			dec := json.NewDecoder(bytes.NewReader(got))
			var keys []string
			dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				var skip json.RawMessage
				dec.Decode(&skip)
			}
			if diff := cmp.Diff(order.Fields(typ), keys); diff != "" {
				t.Errorf("MarshalJSON() keys mismatch (-want +got):\n%s", diff)
			}
			golden(t, string(typ)+".golden.json", append(got, '\n'))
		})
	}
}

// TestMarshalJSONForeignFields proves that fields of other types are left out even
// when the struct holds them.
func TestMarshalJSONForeignFields(t *testing.T) {
	o := sample(order.AntiAI, order.Complete)
	o.StatusCode = ptr(order.LikelyAI)
	o.Watermarks = []string{"x"}
	o.Probability = ptr(0.5)
	got, _ := o.MarshalJSON()
	want, _ := func() ([]byte, error) { o := sample(order.AntiAI, order.Complete); return o.MarshalJSON() }()
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("MarshalJSON() mismatch (-want +got):\n%s", diff)
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
