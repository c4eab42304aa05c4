package order_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

func TestDecodeJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want any // nil with ok false: an error
		ok   bool
	}{
		{"object", `{"data":{"orderId":"12","fileCount":1}}`, map[string]any{"data": map[string]any{"orderId": "12", "fileCount": json.Number("1")}}, true},
		{"numbers kept as written", `[12345678901234567890, 0.12345678901234567, 1E+2, -0]`, []any{json.Number("12345678901234567890"), json.Number("0.12345678901234567"), json.Number("1E+2"), json.Number("-0")}, true},
		{"white space around", " \n\t{}\r\n ", map[string]any{}, true},
		{"duplicate keys: the last wins", `{"a":1,"a":2}`, map[string]any{"a": json.Number("2")}, true},
		{"escapes and invalid UTF-8", "\"\\u0041\xff\"", "A\ufffd", true},
		{"null", `null`, nil, true},
		{"empty", ``, nil, false},
		{"truncated", `{"data":`, nil, false},
		{"trailing bytes", `{}}`, nil, false},
		{"a second value", `{} {}`, nil, false},
		{"trailing comma", `{"a":1,}`, nil, false},
		{"leading zero", `01`, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := order.DecodeJSON([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("DecodeJSON(%q) error = %v; want ok %v", tt.in, err, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeJSON(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// FuzzDecodeJSON holds DecodeJSON to encoding/json, the decoder openapi3filter
// uses: for every input the same verdict as json.Valid, and the same value as
// encoding/json's Decoder with UseNumber gives (numbers as json.Number, the last of
// duplicate keys, invalid UTF-8 and lone surrogates as U+FFFD). Seeds live in
// testdata/fuzz/FuzzDecodeJSON; the deep ones check that nesting past what
// DecodeJSON hands to its fast decoder still decodes, and quickly.
func FuzzDecodeJSON(f *testing.F) {
	o := sample(order.AIDetection, order.Complete)
	f.Add(o.AppendResponse(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := order.DecodeJSON(data)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("DecodeJSON(%q) error = %v; json.Valid = %v", data, err, valid)
		}
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json refuses %q, which json.Valid accepts: %v", data, err)
		}
		// Compared as Go syntax, which shows every type and byte and is linear in
		// the depth; cmp.Diff on the values themselves takes time exponential in
		// the nesting of the deep seeds.
		if diff := cmp.Diff(fmt.Sprintf("%#v", want), fmt.Sprintf("%#v", got)); diff != "" {
			t.Errorf("DecodeJSON(%q) mismatch with encoding/json (-want +got):\n%s", data, diff)
		}
	})
}
