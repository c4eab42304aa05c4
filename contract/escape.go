package contract

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// printable returns s with every byte a terminal or an XML 1.0 file must not receive
// written as a Go escape (\x1b, \u202e, \n): control bytes, invalid UTF-8 and runes
// that are not printable. Reports hold what servers sent, and a server's ESC
// sequences must not rewrite the terminal of the person reading them.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case !strconv.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
