package order

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// TestNestsWithin: the bound that keeps deep input away from the fast decoder counts
// only the brackets a JSON decoder would open, not those inside strings.
func TestNestsWithin(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want bool
	}{
		{``, 0, true},
		{`1`, 0, true},
		{`[]`, 0, false},
		{`[]`, 1, true},
		{`[[],{},[]]`, 2, true},
		{`[[],{"a":[]}]`, 2, false},
		{`{"a":{"b":[1]}}`, 3, true},
		{`{"a":{"b":[1]}}`, 2, false},
		{`"[[[[{{{{"`, 1, true},
		{`["\"[[[[", "\\", []]`, 2, true},
		{`["\"[[[[", "\\", [[]]]`, 2, false},
		{`{"[":"{","a":"\\\"[["}`, 1, true},
		{`"[[[`, 0, true},   // an unterminated string: the decoder refuses it
		{`]]]][[`, 1, true}, // not JSON: the decoder refuses the first byte
	} {
		if got := nestsWithin([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("nestsWithin(%q, %d) = %v; want %v", tt.in, tt.max, got, tt.want)
		}
	}
}

// FuzzNestsWithin holds the bound to encoding/json's tokens: for every JSON value,
// the deepest nesting they open is exactly the depth nestsWithin counts. Seeds live
// in testdata/fuzz/FuzzNestsWithin.
func FuzzNestsWithin(f *testing.F) {
	f.Add([]byte(`{"a":[{"\\\"[":"]"},[[]]],"b":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		depth, deepest := 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Token() on %q: %v", data, err)
			}
			switch tok {
			case json.Delim('['), json.Delim('{'):
				depth++
				deepest = max(deepest, depth)
			case json.Delim(']'), json.Delim('}'):
				depth--
			}
		}
		if !nestsWithin(data, deepest) || deepest > 0 && nestsWithin(data, deepest-1) {
			t.Errorf("nestsWithin(%q) disagrees with a deepest nesting of %d", data, deepest)
		}
	})
}
