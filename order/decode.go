package order

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	segjson "github.com/segmentio/encoding/json"
)

// maxFastDepth is the deepest nesting of arrays and objects that DecodeJSON hands
// to segmentio/encoding. That decoder has no depth limit of its own (a deep enough
// body would overflow the stack) and re-reads each value once per enclosing level,
// so its cost grows with depth times size; within this depth it stays linear in
// the size. Every body of the contract nests five levels at most; anything deeper
// is encoding/json's, which refuses past 10,000 levels.
const maxFastDepth = 8

// DecodeJSON reads data as exactly one JSON value, the way openapi3filter reads a
// JSON body (encoding/json into an any, numbers as json.Number, so that no id or
// probability is rounded), and refuses anything but white space after it. It is the
// one decoding of a body that both the schema validation and the rule checks walk.
//
// It decodes with github.com/segmentio/encoding/json, which gives the same value as
// encoding/json in about half the work, because --validate-responses decodes every
// answer and the serving goal of `bash bench/run.sh` (a quarter of the net/http
// ceiling) needs it. Callgrind, GOGC=200, GOMAXPROCS=1: BenchmarkDecodeJSON 73,600
// instructions a body with encoding/json, 38,000 with this; a validated GET order
// (BenchmarkServeHTTP/validate/quiet in ./mockserver) about 272,000, 233,000.
// FuzzDecodeJSON holds it to encoding/json's value and verdict. Whatever it refuses,
// and whatever nests deeper than maxFastDepth, encoding/json decodes, so the errors
// are encoding/json's.
func DecodeJSON(data []byte) (any, error) {
	if nestsWithin(data, maxFastDepth) {
		var v any
		if rest, err := segjson.Parse(data, &v, segjson.UseNumber); err == nil && len(rest) == 0 {
			return v, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// nestsWithin reports whether no array or object of data opens more than max levels
// deep. It follows strings only as far as needed to skip the brackets inside them;
// on bytes that are not JSON it may answer either way, which is safe: a decoder
// stops at the first byte that is not JSON, and before that byte this count is
// exact.
func nestsWithin(data []byte, max int) bool {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			// To the closing quote: the next one after an even run of backslashes.
			start := i + 1
			for {
				j := bytes.IndexByte(data[i+1:], '"')
				if j < 0 {
					return true
				}
				i += 1 + j
				k := i
				for k > start && data[k-1] == '\\' {
					k--
				}
				if (i-k)%2 == 0 {
					break
				}
			}
		case '[', '{':
			if depth++; depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}
