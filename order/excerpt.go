package order

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// excerptLen is the most bytes Excerpt and ExcerptValue show.
const excerptLen = 80

// appendExcerpt appends v as JSON, as encoding/json writes it (keys sorted), until
// the result holds more than excerptLen bytes: then it stops, so that Excerpt can cut
// it. A value of any size and depth costs a bounded amount of work beyond sorting the
// keys of the objects it shows.
func appendExcerpt(b []byte, v any) []byte {
	if len(b) > excerptLen {
		return b
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if len(b) > excerptLen {
				return b
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendExcerptString(b, k)
			b = append(b, ':')
			b = appendExcerpt(b, v[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, item := range v {
			if len(b) > excerptLen {
				return b
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendExcerpt(b, item)
		}
		return append(b, ']')
	case string:
		return appendExcerptString(b, v)
	case json.Number:
		return append(b, prefix(string(v), excerptLen+1)...)
	}
	// A scalar: small whatever its value.
	enc, err := json.Marshal(v)
	if err != nil {
		return fmt.Append(b, v)
	}
	return append(b, enc...)
}

// appendExcerptString appends s quoted, from no more of s than an excerpt shows.
func appendExcerptString(b []byte, s string) []byte {
	// excerptLen+utf8.UTFMax bytes cut on a character boundary still hold more
	// than an excerpt shows, so Excerpt marks the cut.
	p := prefix(s, excerptLen+utf8.UTFMax)
	enc, err := json.Marshal(p)
	if err != nil {
		return append(b, '?')
	}
	if len(p) < len(s) {
		enc = enc[:len(enc)-1] // the closing quote: the string goes on
	}
	return append(b, enc...)
}

// prefix is s cut to at most n bytes, on a character boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
