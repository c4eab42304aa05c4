package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The limits of an answer the suite validates. An order is a flat object of a few
// dozen fields and a few KiB, an error a handful of fields; an answer past these
// limits is reported as such and not validated, because the validators' cost grows
// faster than its size: when oneOf fails, kin-openapi formats every error of every
// branch, each with the whole object it is about, so the cost is about members x
// bytes x branches.
const (
	// maxValidated is the longest answer validated, in bytes.
	maxValidated = 32 << 10
	// maxDepth is the deepest nesting of objects and arrays.
	maxDepth = 16
	// maxMembers is the most members of one object.
	maxMembers = 64
	// maxItems is the most items of one array.
	maxItems = 1024
	// maxTokens is the most keys and values in a whole answer.
	maxTokens = 4096
	// maxString is the longest string, key or number, in bytes once decoded.
	maxString = 64 << 10
)

// checkShape returns why body is beyond the shape limits, or nil. It reads tokens,
// so it stops at the first one past a limit and its cost is bounded by the limits,
// not by the body. A body that is not JSON is within limits: the validators say what
// is wrong with it, from a bounded excerpt.
func checkShape(body []byte) error {
	if len(body) > maxValidated {
		return fmt.Errorf("the answer has more than %d KiB, the most the suite validates", maxValidated>>10)
	}
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
