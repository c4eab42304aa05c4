package order

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExcerptValueMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, 1.5, json.Number("12"), "short",
		map[string]any{"b": 1.0, "a": []any{"x", nil}},
		[]any{map[string]any{"k": "v"}},
		strings.Repeat("é", 100),
		map[string]any{"long": strings.Repeat("x", 200)},
	} {
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ExcerptValue(v), Excerpt(enc); got != want {
			t.Errorf("ExcerptValue(%.40v) = %q; want %q", v, got, want)
		}
	}
}

// TestExcerptValueIsBounded: a deep or long value is excerpted without encoding it
// whole; the allocation count is the oracle, independent of the machine's speed.
func TestExcerptValueIsBounded(t *testing.T) {
	var deep any = []any{}
	for range 100000 {
		deep = []any{deep}
	}
	long := make([]any, 100000)
	for i := range long {
		long[i] = strings.Repeat("x", 100)
	}
	wide := map[string]any{}
	for i := range 1000 {
		wide[strings.Repeat("k", i+1)] = strings.Repeat("v", 1000)
	}
	for name, v := range map[string]any{"deep": deep, "long": long, "huge string": strings.Repeat("x", 4<<20), "wide": wide} {
		var got string
		allocs := testing.AllocsPerRun(1, func() { got = ExcerptValue(v) })
		if len(got) > excerptLen || !utf8.ValidString(got) {
			t.Errorf("ExcerptValue(%s) = %q; want at most %d bytes of UTF-8", name, got, excerptLen)
		}
		if allocs > 1100 {
			t.Errorf("ExcerptValue(%s) made %v allocations; want it bounded by what it shows", name, allocs)
		}
	}
}

func FuzzExcerptValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `"` + strings.Repeat("é", 60) + `"`, `[[[[[]]]]]`, `null`, `12345678901234567890`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return
		}
		if got, want := ExcerptValue(v), Excerpt(enc); got != want {
			t.Errorf("ExcerptValue(%s) = %q; want %q, as encoding/json's excerpt", data, got, want)
		}
	})
}
