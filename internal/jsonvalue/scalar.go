package jsonvalue

import "encoding/json"

// number parses the number that starts at data[i] and keeps its text.
// The grammar is RFC 8259's: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(data []byte, text string, i int) (any, int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return nil, i, errEOF(i)
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i = digits(data, i+1)
	default:
		return nil, i, errChar(data, i, "in numeric literal")
	}
	if i < len(data) && data[i] == '.' {
		if i++; i >= len(data) {
			return nil, i, errEOF(i)
		}
		if c := data[i]; c < '0' || c > '9' {
			return nil, i, errChar(data, i, "after decimal point in numeric literal")
		}
		i = digits(data, i+1)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) {
			return nil, i, errEOF(i)
		}
		if c := data[i]; c < '0' || c > '9' {
			return nil, i, errChar(data, i, "in exponent of numeric literal")
		}
		i = digits(data, i+1)
	}
	// A byte that cannot follow a number, as in "01" or "1x", is left for the
	// caller, which expects a separator there.
	return json.Number(text[start:i]), i, nil
}

// digits returns the offset of the first byte at or after data[i] that is not a digit.
func digits(data []byte, i int) int {
	for i < len(data) && data[i]-'0' <= 9 {
		i++
	}
	return i
}

// literal parses true, false or null, whose first byte is at data[i], into v.
func literal(data []byte, i int, lit string, v any) (any, int, error) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return v, i + len(lit), nil
	}
	off, err := errLiteral(data, i, lit)
	return nil, off, err
}

// errLiteral reports the first byte from data[i] on that departs from lit.
func errLiteral(data []byte, i int, lit string) (int, error) {
	k := i
	for k < len(data) && k-i < len(lit) && data[k] == lit[k-i] {
		k++
	}
	if k >= len(data) {
		return k, errEOF(k)
	}
	if k-i >= len(lit) {
		k = i // literal only calls this on a mismatch; never index past lit
	}
	return k, errChar(data, k, "in literal "+lit+" (expecting "+quoteChar(lit[k-i])+")")
}
