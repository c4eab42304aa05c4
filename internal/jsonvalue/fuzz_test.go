package jsonvalue

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecode checks Decode against encoding/json: it must succeed exactly when
// json.Valid does (both stop at the same depth), and then give the same value,
// which must not change when the input buffer is reused. More seeds live in
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		orderBody,
		`null`,
		`[true,false,null,{},[],""]`,
		`{"a":1,"a":{"b":[-0,1E+2,1.50,6.02e-23]}}`,
		`"\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \ud800 \udc00x \ud800\ud800\udc00"`,
		"\"a\xffb\xed\xa0\x80c\xe4\xb8\"",
		"{\"k\xfe\\u0041\":\"\xef\xbf\xbd\"}",
		`01`,
		`1.`,
		`-`,
		`"\u12"`,
		"\"\x01\"",
		`{"a":1,}`,
		nested(64, `{"a":[`, "1", "]}"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		got, err := Decode(in)
		for i := range in {
			in[i] = 'X' // as a caller reusing its buffer would
		}
		valid := json.Valid(data)
		if err != nil {
			if valid {
				t.Fatalf("Decode(%q) = %v; json.Valid is true", data, err)
			}
			var serr *SyntaxError
			if !errors.As(err, &serr) || serr.Offset < 0 || serr.Offset > len(data) {
				t.Fatalf("Decode(%q) error %T(%v); want a *SyntaxError with an offset in [0, %d]", data, err, err, len(data))
			}
			return
		}
		if !valid {
			t.Fatalf("Decode(%q) = %v, nil; json.Valid is false", data, got)
		}
		want, err := stdDecode(t, data)
		if err != nil {
			t.Fatalf("encoding/json on valid %q: %v", data, err)
		}
		if diff := diffValue(want, got); diff != "" {
			t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
		}
	})
}
