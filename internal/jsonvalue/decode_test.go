package jsonvalue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// orderBody is a real order response, the body Decode exists for.
const orderBody = `{"data":{"type":"aiDetection","orderId":"1234567890123456792","channel":"api","thumbnailImageUrl":null,"originalImageUrl":"https://bizmori-prod.s3.ap-northeast-2.amazonaws.com/x.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600","status":"complete","orderName":"ai_detect_2026-03-12","fileCount":1,"createdAt":"2026-03-12T10:00:00.000Z","updatedAt":"2026-03-12T10:00:03.120Z","errors":null,"probability":0.25,"statusCode":"uncertain_real","options":{"generateHeatmap":false,"generateOverlay":false,"generateThumbnail":false},"heatmapUrl":null,"overlayUrl":null}}`

// stdDecode decodes data the way callers did before Decode existed, which is
// the behaviour Decode must reproduce.
func stdDecode(tb testing.TB, data []byte) (any, error) {
	tb.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := dec.Decode(&v)
	return v, err
}

// diffValue is cmp.Diff for decoded values. cmp walks each slice element several
// times to find an edit script, which costs time exponential in how deeply arrays
// nest, so arrays are compared as maps from index, which takes linear time.
func diffValue(want, got any) string {
	return cmp.Diff(indexed(want), indexed(got))
}

// array stands for a []any in diffValue; a nil slice becomes a nil array, which
// cmp tells apart from an empty one.
type array map[int]any

// indexed returns a copy of v with every []any replaced by an array.
func indexed(v any) any {
	switch v := v.(type) {
	case []any:
		if v == nil {
			return array(nil)
		}
		a := make(array, len(v))
		for i, e := range v {
			a[i] = indexed(e)
		}
		return a
	case map[string]any:
		if v == nil {
			return v
		}
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = indexed(e)
		}
		return m
	}
	return v
}

// wideObject returns an object of n numbered members, the one at mid holding inner.
func wideObject(n, mid int, inner string) string { return wide(true, n, mid, inner) }

// wideArray returns an array of n numbers, the one at mid replaced by inner.
func wideArray(n, mid int, inner string) string { return wide(false, n, mid, inner) }

func wide(object bool, n, mid int, inner string) string {
	open, close := "[", "]"
	if object {
		open, close = "{", "}"
	}
	var b strings.Builder
	b.WriteString(open)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if object {
			fmt.Fprintf(&b, "%q:", "k"+strconv.Itoa(i))
		}
		if i == mid {
			b.WriteString(inner)
		} else {
			b.WriteString(strconv.Itoa(i))
		}
	}
	b.WriteString(close)
	return b.String()
}

// nested returns depth opening brackets, inner, then the matching closing ones.
func nested(depth int, open, inner, close string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
	}{
		{"order body", orderBody},
		{"null", `null`},
		{"true", `true`},
		{"false", `false`},
		{"surrounding whitespace", " \t\r\n{\"a\" : [ 1 , 2 ] }\n\t \r"},
		{"empty object", `{}`},
		{"empty array", `[]`},
		{"empty string", `""`},
		{"empty containers nested", `{"a":{},"b":[],"c":[{}],"d":[[]]}`},
		{"mixed array", `[1,"a",true,false,null,{"k":[]},[0]]`},
		{"zero", `0`},
		{"minus zero", `-0`},
		{"minus zero fraction", `-0.0`},
		{"integer", `1234567890123456789012345678901234567890`},
		{"negative", `-17`},
		{"fraction kept as written", `1.50`},
		{"exponent upper plus", `1E+2`},
		{"exponent lower minus", `1e-2`},
		{"exponent no sign", `6.02e23`},
		{"exponent leading zeros", `1e007`},
		{"number in array", `[0,-0,1.0e0,-1.5E-10]`},
		{"number before brace", `{"n":12}`},
		{"escapes", `"\" \\ \/ \b \f \n \r \t"`},
		{"unicode escape", `"\u00e9\u4e16\u0000\u001f"`},
		{"unicode escape upper hex", `"\u00E9\uABCD"`},
		{"surrogate pair", `"\ud83d\ude00"`},
		{"surrogate pair upper", `"\uD83D\uDE00"`},
		{"lone high surrogate", `"\ud800"`},
		{"lone low surrogate", `"\udc00"`},
		{"high surrogate then text", `"\ud800abc"`},
		{"high surrogate then bmp escape", `"\ud800\u0041"`},
		{"two high surrogates", `"\ud800\ud800\udc00"`},
		{"reversed pair", `"\udc00\ud800"`},
		{"high surrogate then escape", `"\ud800\n"`},
		{"escaped replacement char", `"\ufffd"`},
		{"utf8 text", `"héllo, 世界 😀"`},
		{"utf8 key", `{"ключ":"значение"}`},
		{"invalid utf8 byte", "\"a\xffb\""},
		{"invalid utf8 in key", "{\"k\xfe\":1}"},
		{"truncated utf8 sequence", "\"\xe4\xb8\""},
		{"utf8 encoded surrogate", "\"\xed\xa0\x80\""},
		{"overlong utf8", "\"\xc0\xaf\""},
		{"invalid utf8 then escape", "\"\xff\\n\xe4\xb8\x96\""},
		{"escape then invalid utf8", "\"\\t\x80\""},
		{"replacement char as utf8", "\"\xef\xbf\xbd\""},
		{"del byte", "\"\x7f\""},
		{"duplicate keys last wins", `{"a":1,"b":2,"a":3}`},
		{"duplicate keys different types", `{"a":{"x":1},"a":[1]}`},
		{"duplicate keys escaped", `{"a":1,"\u0061":2}`},
		{"many keys", `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"aa":27,"ab":28,"ac":29,"ad":30,"ae":31,"af":32,"ag":33,"ah":34}`},
		{"long array", "[" + strings.Repeat("1,", 999) + "1]"},
		// Past what Decode buffers in its frame, members and elements spill to the
		// heap; these rows nest spilled and unspilled containers before and after
		// the spill.
		{"buffer-sized object", wideObject(bufferedMembers, 3, "{}")},
		{"buffer-sized array", wideArray(bufferedElems, 3, "[]")},
		{"spilled object in spilled object", wideObject(bufferedMembers+4, bufferedMembers+2, wideObject(bufferedMembers+4, bufferedMembers+1, `{"a":[1]}`))},
		{"spilled object before outer spill", wideObject(bufferedMembers+4, 2, wideObject(bufferedMembers+4, 0, "1"))},
		{"spilled array in spilled array", wideArray(bufferedElems+9, bufferedElems+3, wideArray(bufferedElems+9, bufferedElems, wideArray(bufferedElems+1, 0, "[]")))},
		{"spilled array before outer spill", wideArray(bufferedElems+9, 1, wideArray(bufferedElems+9, bufferedElems+8, `"x"`))},
		{"spilled mixed", wideArray(bufferedElems+2, bufferedElems+1, wideObject(bufferedMembers+3, bufferedMembers+2, wideArray(bufferedElems+5, 4, wideObject(bufferedMembers+1, bufferedMembers, "[[],{}]"))))},
		{"long plain string", `"` + strings.Repeat("abcdefgh", 1<<13) + `"`},
		{"long utf8 string", `"` + strings.Repeat("世界", 1<<12) + `"`},
		{"long escaped string", `"` + strings.Repeat(`\n\u00e9\"`, 1<<12) + `"`},
		{"long invalid utf8 string", `"` + strings.Repeat("\xff", 1<<12) + `"`},
		{"nested arrays", nested(100, "[", "1", "]")},
		{"nested at container buffer size", nested(bufferedContainers, "[", "{}", "]")},
		{"nested objects", nested(100, `{"a":`, "1", "}")},
		{"max depth", nested(maxDepth, "[", "", "]")},
		{"max depth objects", nested(maxDepth-1, `{"a":`, "[]", "}")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			if !json.Valid(data) {
				t.Fatalf("json.Valid(%q) = false; the row must be valid JSON", tt.in)
			}
			want, err := stdDecode(t, data)
			if err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode(%q) = %v; want no error", tt.in, err)
			}
			if diff := diffValue(want, got); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeValues spells out the subtle results rather than only comparing them
// with encoding/json, so the behaviour is documented here too.
func TestDecodeValues(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want any
	}{
		{"null", `null`, nil},
		{"number text kept", `[-0,1E+2,1.50]`, []any{json.Number("-0"), json.Number("1E+2"), json.Number("1.50")}},
		{"last duplicate wins", `{"a":1,"a":2}`, map[string]any{"a": json.Number("2")}},
		{"solidus escape", `"a\/b"`, "a/b"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"unpaired surrogate", `"\ud83dx"`, "\ufffdx"},
		{"unpaired surrogates each replaced", `"\ud800\ud800"`, "\ufffd\ufffd"},
		{"invalid utf8 replaced per byte", "\"a\xff\xfeb\"", "a\ufffd\ufffdb"},
		{"empty containers are not nil", `[{},[]]`, []any{map[string]any{}, []any{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode(%q) = %v; want no error", tt.in, err)
			}
			if diff := diffValue(tt.want, got); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, tt := range []struct {
		name   string
		in     string
		offset int // where the error must point
	}{
		{"empty", ``, 0},
		{"only whitespace", " \n\t", 3},
		{"byte order mark", "\xef\xbb\xbf{}", 0},
		{"trailing value", `{} {}`, 3},
		{"trailing garbage", `1x`, 1},
		{"trailing comma top level", `1,`, 1},
		{"two numbers", `1 2`, 2},
		{"leading zero", `01`, 1},
		{"negative leading zero", `-01`, 2},
		{"trailing dot", `1.`, 2},
		{"trailing dot in array", `[1.]`, 3},
		{"leading dot", `.5`, 0},
		{"lone minus", `-`, 1},
		{"minus then letter", `-a`, 1},
		{"plus sign", `+1`, 0},
		{"empty exponent", `1e`, 2},
		{"exponent sign only", `1e+`, 3},
		{"exponent letter", `1ex`, 2},
		{"hex number", `0x10`, 1},
		{"infinity", `Infinity`, 0},
		{"nan", `NaN`, 0},
		{"true truncated", `tru`, 3},
		{"true misspelled", `trUe`, 2},
		{"false misspelled", `fals3`, 4},
		{"null misspelled", `nul`, 3},
		{"true with suffix", `truex`, 4},
		{"capital true", `True`, 0},
		{"unterminated string", `"abc`, 4},
		{"unterminated escaped string", `"a\n`, 4},
		{"unterminated utf8 string", "\"\xe4\xb8\x96", 4},
		{"single quotes", `'a'`, 0},
		{"newline in string", "\"a\nb\"", 2},
		{"tab in string", "\"a\tb\"", 2},
		{"nul in string", "\"a\x00\"", 2},
		{"control char after escape", "\"\\n\x01\"", 3},
		{"control char after utf8", "\"\xe4\xb8\x96\x1f\"", 4},
		{"bad escape", `"\x"`, 2},
		{"escaped single quote", `"\'"`, 2},
		{"backslash at end", `"\`, 2},
		{"short unicode escape", `"\u12"`, 5},
		{"bad hex in unicode escape", `"\u12g4"`, 5},
		{"unicode escape at end", `"\u`, 3},
		{"bad hex in second surrogate", `"\ud800\u12x4"`, 11},
		{"uppercase U escape", `"\U0041"`, 2},
		{"unclosed array", `[1,2`, 4},
		{"unclosed object", `{"a":1`, 6},
		{"trailing comma array", `[1,]`, 3},
		{"trailing comma object", `{"a":1,}`, 7},
		{"leading comma array", `[,1]`, 1},
		{"missing comma", `[1 2]`, 3},
		{"missing colon", `{"a" 1}`, 5},
		{"missing value", `{"a":}`, 5},
		{"unquoted key", `{a:1}`, 1},
		{"number key", `{1:1}`, 1},
		{"mismatched brackets", `[}`, 1},
		{"mismatched close", `{"a":[1}`, 7},
		{"extra close", `[]]`, 2},
		{"lone close", `]`, 0},
		{"comment", `{/*c*/}`, 1},
		{"colon after array element", `[1:2]`, 2},
		{"comma in object instead of colon", `{"a",1}`, 4},
		{"too deep arrays", nested(maxDepth+1, "[", "", "]"), maxDepth},
		{"too deep objects", nested(maxDepth, `{"a":`, "[]", "}"), maxDepth * len(`{"a":`)},
		{"too deep unclosed", strings.Repeat("[", maxDepth+1), maxDepth},
		{"deep then broken", nested(50, "[", "x", "]"), 50},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			got, err := Decode(data)
			if err == nil {
				t.Fatalf("Decode(%q) = %v, nil; want an error", tt.in, got)
			}
			if json.Valid(data) {
				t.Errorf("json.Valid(%q) = true; the row must be invalid JSON", tt.in)
			}
			var serr *SyntaxError
			if !errors.As(err, &serr) {
				t.Fatalf("Decode(%q) error %T(%v); want *SyntaxError", tt.in, err, err)
			}
			if serr.Offset != tt.offset {
				t.Errorf("Decode(%q) error offset = %d (%v); want %d", tt.in, serr.Offset, err, tt.offset)
			}
			if got != nil {
				t.Errorf("Decode(%q) value = %v; want nil with an error", tt.in, got)
			}
		})
	}
}

// TestDecodeCopies checks that the result holds no reference into data, which
// callers reuse for the next body.
func TestDecodeCopies(t *testing.T) {
	in := "{\"plain\":\"abc\",\"utf8\":\"世界\",\"escaped\":\"a\\nb\",\"bad\":\"\xff\",\"n\":-1.5e3,\"arr\":[\"x\"]}"
	want, err := stdDecode(t, []byte(in))
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	data := []byte(in)
	got, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(%q) = %v; want no error", in, err)
	}
	for i := range data {
		data[i] = 'X'
	}
	if diff := diffValue(want, got); diff != "" {
		t.Errorf("Decode() mismatch after data was overwritten (-want +got):\n%s", diff)
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := Decode([]byte(`{"a":1x}`))
	const want = "jsonvalue: invalid character 'x' after object key:value pair at byte offset 6"
	if err == nil || err.Error() != want {
		t.Errorf("Decode(%q) error = %v; want %q", `{"a":1x}`, err, want)
	}
}

// TestDiffValue checks that the helper the other tests rely on still sees the
// differences that matter.
func TestDiffValue(t *testing.T) {
	for _, tt := range []struct {
		name      string
		want, got any
	}{
		{"nil and empty array", []any{}, []any(nil)},
		{"nil and empty object", map[string]any{}, map[string]any(nil)},
		{"number and string", json.Number("1"), "1"},
		{"array order", []any{"a", "b"}, []any{"b", "a"}},
		{"array length", []any{"a"}, []any{"a", "a"}},
		{"nested element", []any{map[string]any{"k": []any{true}}}, []any{map[string]any{"k": []any{false}}}},
		{"array and object", []any{"a"}, map[string]any{"0": "a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diffValue(tt.want, tt.got) == "" {
				t.Errorf("diffValue(%#v, %#v) is empty; want a difference", tt.want, tt.got)
			}
		})
	}
}
