package jsonvalue

import "testing"

// BenchmarkDecode compares Decode with the encoding/json Decoder it replaces on a
// real order body.
func BenchmarkDecode(b *testing.B) {
	data := []byte(orderBody)
	b.Run("jsonvalue", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := stdDecode(b, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
