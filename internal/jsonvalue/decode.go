// Package jsonvalue decodes a JSON document into the generic value that
// kin-openapi's schema validator and the rule checker walk: the same value
// encoding/json's Decoder gives with UseNumber, built in one pass over the bytes
// and with far fewer allocations, because decoding response bodies sits on a hot path.
//
// It is a fast path, not a replacement: callers fall back to encoding/json
// whenever Decode returns an error.
package jsonvalue

// maxDepth is how deeply arrays and objects may nest. It is encoding/json's own
// limit, so Decode accepts exactly the documents json.Valid accepts.
const maxDepth = 10000

// How many open containers, pending object members and pending array elements
// Decode holds in its own stack frame before it spills to the heap.
const (
	bufferedContainers = 16
	bufferedMembers    = 32
	bufferedElems      = 32
)

// member is an object member waiting for its object's map to be made.
type member struct {
	key string
	val any
}

// container is an object or array whose closing bracket has not been reached yet.
type container struct {
	base   int // where its members start in members, or its elements in elems
	object bool
}

// Decode parses data, which must hold exactly one JSON value (RFC 8259) with optional
// surrounding whitespace, into the value encoding/json's Decoder with UseNumber gives:
// map[string]any for objects, []any for arrays, string, bool, nil, and json.Number for
// numbers (its text exactly as written).
//
// Strings and numbers that need no unescaping share one copy of data, made once (a
// string per value would be an allocation each), so the caller may reuse data
// afterwards; holding any of them holds that copy. Invalid UTF-8 and unpaired surrogate escapes become U+FFFD and the last of
// duplicate object keys wins, as in encoding/json. Where encoding/json's
// Decoder would ignore anything after the first value, Decode returns an error.
// Errors are of type *SyntaxError.
func Decode(data []byte) (any, error) {
	// Open containers live on an explicit stack rather than the call stack, so
	// a deeply nested document costs a few bytes per level, not a stack frame.
	//
	// An object's members and an array's elements are collected on the shared
	// members and elems stacks until the closing bracket, so that each map is
	// made with its final size and each slice with its final length, then popped.
	// All three stacks and the unescaping buffer start in arrays in this frame:
	// a typical body never allocates for them.
	var (
		stackArr  [bufferedContainers]container
		memberArr [bufferedMembers]member
		elemArr   [bufferedElems]any
		bufArr    [64]byte
	)
	stack := stackArr[:0]
	text := string(data)
	members := memberArr[:0]
	elems := elemArr[:0]
	buf := bufArr[:0]

	i := skipSpace(data, 0)
value:
	for {
		// Parse the value that starts at data[i], or open a container.
		var v any
		if i >= len(data) {
			return nil, errEOF(i)
		}
		switch c := data[i]; c {
		case '{':
			// As in encoding/json, even an empty container counts toward the depth.
			if len(stack) >= maxDepth {
				return nil, errDepth(i)
			}
			if i = skipSpace(data, i+1); i < len(data) && data[i] == '}' {
				v, i = map[string]any{}, i+1
				break
			}
			stack = append(stack, container{base: len(members), object: true})
			var (
				key string
				err error
			)
			if key, i, buf, err = objectKey(data, text, i, buf); err != nil {
				return nil, err
			}
			members = append(members, member{key: key})
			continue value
		case '[':
			if len(stack) >= maxDepth {
				return nil, errDepth(i)
			}
			if i = skipSpace(data, i+1); i < len(data) && data[i] == ']' {
				// Empty, not nil, as encoding/json gives; a zero-length make does not allocate.
				v, i = make([]any, 0), i+1
				break
			}
			stack = append(stack, container{base: len(elems)})
			continue value
		case '"':
			var (
				s   string
				err error
			)
			if s, i, buf, err = str(data, text, i, buf); err != nil {
				return nil, err
			}
			v = s
		case 't':
			var err error
			if v, i, err = literal(data, i, "true", true); err != nil {
				return nil, err
			}
		case 'f':
			var err error
			if v, i, err = literal(data, i, "false", false); err != nil {
				return nil, err
			}
		case 'n':
			var err error
			if v, i, err = literal(data, i, "null", nil); err != nil {
				return nil, err
			}
		default:
			if c != '-' && c-'0' > 9 {
				return nil, errChar(data, i, "looking for beginning of value")
			}
			var err error
			if v, i, err = number(data, text, i); err != nil {
				return nil, err
			}
		}

		// v is complete and ends before data[i]: store it in the innermost open
		// container, and close every container that ends right after it.
		for {
			i = skipSpace(data, i)
			if len(stack) == 0 {
				if i < len(data) {
					return nil, errChar(data, i, "after top-level value")
				}
				return v, nil
			}
			if i >= len(data) {
				return nil, errEOF(i)
			}
			top := stack[len(stack)-1]
			if top.object {
				members[len(members)-1].val = v
				switch data[i] {
				case ',':
					var (
						key string
						err error
					)
					if key, i, buf, err = objectKey(data, text, skipSpace(data, i+1), buf); err != nil {
						return nil, err
					}
					members = append(members, member{key: key})
					continue value
				case '}':
					ms := members[top.base:]
					m := make(map[string]any, len(ms))
					for _, kv := range ms {
						m[kv.key] = kv.val // in document order, so the last duplicate wins
					}
					members = members[:top.base]
					v = m
				default:
					return nil, errChar(data, i, "after object key:value pair")
				}
			} else {
				elems = append(elems, v)
				switch data[i] {
				case ',':
					i = skipSpace(data, i+1)
					continue value
				case ']':
					es := elems[top.base:]
					a := make([]any, len(es))
					copy(a, es)
					elems = elems[:top.base]
					v = a
				default:
					return nil, errChar(data, i, "after array element")
				}
			}
			stack = stack[:len(stack)-1]
			i++
		}
	}
}

// objectKey parses the object key that starts at data[i] and the colon after
// it, and returns the offset of the member's value.
func objectKey(data []byte, text string, i int, buf []byte) (string, int, []byte, error) {
	if i >= len(data) {
		return "", i, buf, errEOF(i)
	}
	if data[i] != '"' {
		return "", i, buf, errChar(data, i, "looking for beginning of object key string")
	}
	key, i, buf, err := str(data, text, i, buf)
	if err != nil {
		return "", i, buf, err
	}
	if i = skipSpace(data, i); i >= len(data) {
		return "", i, buf, errEOF(i)
	}
	if data[i] != ':' {
		return "", i, buf, errChar(data, i, "after object key")
	}
	return key, skipSpace(data, i+1), buf, nil
}

// skipSpace returns the offset of the first byte at or after data[i] that is
// not JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
