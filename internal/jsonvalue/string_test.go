package jsonvalue

import (
	"encoding/binary"
	"testing"
)

// TestPlainASCII checks the word-at-a-time test against the byte-at-a-time one
// for every byte value at every position, alone and after a borrowing byte.
func TestPlainASCII(t *testing.T) {
	plain := func(b []byte) bool {
		for _, c := range b {
			if c == '"' || c == '\\' || c < ' ' || c >= 0x80 {
				return false
			}
		}
		return true
	}
	for _, fill := range []byte{' ', 'a', '~', '!', '#', '[', ']'} {
		for pos := range 8 {
			for c := range 256 {
				for _, low := range []int{-1, 0, 0x1f, '"', '\\'} {
					w := []byte{fill, fill, fill, fill, fill, fill, fill, fill}
					w[pos] = byte(c)
					if low >= 0 && pos > 0 {
						w[pos-1] = byte(low)
					}
					if got, want := plainASCII(binary.LittleEndian.Uint64(w)), plain(w); got != want {
						t.Errorf("plainASCII(%q) = %v; want %v", w, got, want)
					}
				}
			}
		}
	}
}
