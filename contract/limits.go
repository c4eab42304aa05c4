package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The shape limits of an answer the suite validates. An order is a flat object of a
// few dozen fields, an error a handful; an answer past these limits is reported as
// such and not validated, because the validators' cost grows faster than its size
// (kin-openapi keeps the whole object in each error about one of its fields).
const (
	// maxDepth is the deepest nesting of objects and arrays.
	maxDepth = 16
	// maxMembers is the most members of one object.
	maxMembers = 256
	// maxItems is the most items of one array.
	maxItems = 1024
	// maxTokens is the most keys and values in a whole answer.
	maxTokens = 16384
	// maxString is the longest string, key or number, in bytes once decoded.
	maxString = 64 << 10
)

// checkShape returns why body is beyond the shape limits, or nil. It reads tokens,
// so it stops at the first one past a limit and its cost is bounded by the limits,
// not by the body. A body that is not JSON is within limits: the validators say what
// is wrong with it, from a bounded excerpt.
func checkShape(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// open holds, per open object or array, its kind and how many tokens it holds so
	// far: keys and values for an object, items for an array.
	type container struct {
		object bool
		tokens int
	}
	var open []container
	tokens := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or not JSON
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			open = open[:len(open)-1]
			continue
		}
		tokens++
		if tokens > maxTokens {
			return fmt.Errorf("the answer holds more than %d keys and values", maxTokens)
		}
		switch t := tok.(type) {
		case string:
			if len(t) > maxString {
				return fmt.Errorf("the answer holds a string of more than %d KiB", maxString>>10)
			}
		case json.Number:
			if len(t) > maxString {
				return fmt.Errorf("the answer holds a number of more than %d KiB", maxString>>10)
			}
		}
		if n := len(open); n > 0 {
			c := &open[n-1]
			c.tokens++
			if c.object && c.tokens > 2*maxMembers {
				return fmt.Errorf("the answer has an object of more than %d members", maxMembers)
			}
			if !c.object && c.tokens > maxItems {
				return fmt.Errorf("the answer has an array of more than %d items", maxItems)
			}
		}
		if d, ok := tok.(json.Delim); ok {
			if len(open) == maxDepth {
				return fmt.Errorf("the answer nests objects and arrays deeper than %d levels", maxDepth)
			}
			open = append(open, container{object: d == '{'})
		}
	}
}
