package jsonvalue

import (
	"encoding/binary"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// str parses the string whose opening quote is at data[i]. buf is scratch
// space for unescaping, returned so that its growth is kept for the next string.
func str(data []byte, text string, i int, buf []byte) (string, int, []byte, error) {
	start := i + 1
	// Most strings are plain ASCII: copy them straight out of data. Skip eight
	// such bytes at a time while no byte in the word needs a closer look.
	j := start
	for j+8 <= len(data) && plainASCII(binary.LittleEndian.Uint64(data[j:])) {
		j += 8
	}
	for ; j < len(data); j++ {
		c := data[j]
		if c == '"' {
			return text[start:j], j + 1, buf, nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			return strSlow(data, text, start, j, buf)
		}
	}
	return "", len(data), buf, errEOF(len(data))
}

// plainASCII reports whether none of the eight bytes in w is a quote, a
// backslash, a control character or non-ASCII. Each subtraction below sets a
// byte's high bit when that byte is below the bound (for x^c, when it was c);
// a borrow can only spread upward from a byte that is itself a hit, so the
// answer is exact for the word as a whole.
func plainASCII(w uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	hits := (w - ones*' ') | (q - ones) | (b - ones) | w
	return hits&highs == 0
}

// strSlow finishes the string whose text starts at data[start], from data[j]
// on, where plain ASCII stopped.
func strSlow(data []byte, text string, start, j int, buf []byte) (string, int, []byte, error) {
	// Valid UTF-8 without escapes still needs no rewriting.
	for j < len(data) {
		c := data[j]
		if c == '"' {
			return text[start:j], j + 1, buf, nil
		}
		if c == '\\' {
			break
		}
		if c < ' ' {
			return "", j, buf, errChar(data, j, "in string literal")
		}
		if c < utf8.RuneSelf {
			j++
			continue
		}
		r, size := utf8.DecodeRune(data[j:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		j += size
	}

	// From here the text differs from the input: rewrite it into buf, mirroring
	// encoding/json's unquote.
	buf = append(buf[:0], data[start:j]...)
	for j < len(data) {
		c := data[j]
		switch {
		case c == '"':
			return string(buf), j + 1, buf, nil
		case c == '\\':
			var err error
			if buf, j, err = unescape(buf, data, j); err != nil {
				return "", j, buf, err
			}
		case c < ' ':
			return "", j, buf, errChar(data, j, "in string literal")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			j++
		default:
			// An invalid byte decodes as RuneError of size 1 and is written as
			// U+FFFD, as encoding/json does.
			r, size := utf8.DecodeRune(data[j:])
			buf = utf8.AppendRune(buf, r)
			j += size
		}
	}
	return "", len(data), buf, errEOF(len(data))
}

// unescape appends to buf the text of the escape sequence whose backslash is
// at data[j], and returns the offset just past the sequence.
func unescape(buf, data []byte, j int) ([]byte, int, error) {
	j++
	if j >= len(data) {
		return buf, j, errEOF(j)
	}
	switch c := data[j]; c {
	case '"', '\\', '/':
		return append(buf, c), j + 1, nil
	case 'b':
		return append(buf, '\b'), j + 1, nil
	case 'f':
		return append(buf, '\f'), j + 1, nil
	case 'n':
		return append(buf, '\n'), j + 1, nil
	case 'r':
		return append(buf, '\r'), j + 1, nil
	case 't':
		return append(buf, '\t'), j + 1, nil
	case 'u':
		r, bad := hex4(data, j+1)
		if bad >= 0 {
			if bad >= len(data) {
				return buf, bad, errEOF(bad)
			}
			return buf, bad, errChar(data, bad, "in \\u hexadecimal character escape")
		}
		j += 5
		if utf16.IsSurrogate(r) {
			// Pair it with a following \u escape if that completes it; otherwise
			// it becomes U+FFFD and the next escape stands on its own, as in
			// encoding/json.
			r2 := rune(-1)
			if j+1 < len(data) && data[j] == '\\' && data[j+1] == 'u' {
				if v, bad := hex4(data, j+2); bad < 0 {
					r2 = v
				}
			}
			if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
				return utf8.AppendRune(buf, dec), j + 6, nil
			}
			r = unicode.ReplacementChar
		}
		return utf8.AppendRune(buf, r), j, nil
	default:
		return buf, j, errChar(data, j, "in string escape code")
	}
}

// hex4 reads the four hexadecimal digits at data[i:i+4]. It returns bad < 0 on
// success, otherwise the offset of the first byte that is not a hex digit (len(data)
// if the input ends first).
func hex4(data []byte, i int) (r rune, bad int) {
	for k := i; k < i+4; k++ {
		if k >= len(data) {
			return 0, len(data)
		}
		c := data[k]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, k
		}
		r = r<<4 | rune(c)
	}
	return r, -1
}
