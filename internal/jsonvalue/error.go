package jsonvalue

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// SyntaxError says why data is not exactly one JSON value, and where.
type SyntaxError struct {
	Msg    string // what is wrong, such as "invalid character 'x' in numeric literal"
	Offset int    // byte offset in data at which the problem was found
}

// Error returns the message and the byte offset.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jsonvalue: %s at byte offset %d", e.Msg, e.Offset)
}

// errEOF reports that data ended at off in the middle of a value.
func errEOF(off int) error {
	return &SyntaxError{Msg: "unexpected end of JSON input", Offset: off}
}

// errDepth reports the bracket at off that opens one container too many.
func errDepth(off int) error {
	return &SyntaxError{Msg: "exceeded max depth of " + strconv.Itoa(maxDepth), Offset: off}
}

// errChar reports the unexpected byte at data[off]; context says what was being parsed.
func errChar(data []byte, off int, context string) error {
	return &SyntaxError{Msg: "invalid character " + quoteChar(data[off]) + " " + context, Offset: off}
}

// quoteChar formats c for an error message: 'x', '\n', or a byte value for non-ASCII.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c >= utf8.RuneSelf:
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return strconv.QuoteRune(rune(c))
}
