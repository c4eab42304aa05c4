package contract

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckShape: any bytes, no panic; a body within the limits that is valid JSON
// is accepted.
func FuzzCheckShape(f *testing.F) {
	for _, s := range []string{validAntiAI, `{"data":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}`, `{"a":`, `[1,2,3]`, `"x"`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkShape(body)
		if err != nil && len(body) <= 64 && json.Valid(body) && bytes.Count(body, []byte("["))+bytes.Count(body, []byte("{")) <= maxDepth {
			t.Errorf("checkShape(%q) = %v; want a small body accepted", body, err)
		}
	})
}

// FuzzPrintable: the result holds no byte a terminal or XML 1.0 must not receive.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"plain", terminalAttack, "\x00\x01\xff\xfe", "é\u202e\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := printable(s)
		if !utf8.ValidString(got) {
			t.Errorf("printable(%q) = %q; want valid UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("printable(%q) = %q; holds %U", s, got, r)
			}
		}
	})
}

// FuzzWriteJUnit: whatever a server makes a finding hold, the JUnit report is
// well-formed XML.
func FuzzWriteJUnit(f *testing.F) {
	for _, s := range []string{"ok", terminalAttack, "]]>", "<a>&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rep := &Report{Target: s, Results: []Result{{Check: CheckNotFound, Outcome: Failed, Request: s, Findings: []Finding{{Message: s, Got: s}}}, {Check: CheckNotFound, Outcome: Skipped, Reason: s}}}
		rep.finish("")
		var b bytes.Buffer
		if err := rep.WriteJUnit(&b); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&b)
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("WriteJUnit with %q: not well-formed: %v", s, err)
			}
		}
	})
}

// FuzzRedact: no form of the token survives, whatever surrounds it.
func FuzzRedact(f *testing.F) {
	f.Add("before ", " after")
	f.Add("Basic ", "")
	f.Fuzz(func(t *testing.T, pre, post string) {
		const token = "sk_live_FUZZ_0123456789"
		for _, form := range tokenForms(token) {
			got := redact(pre+form+post, token)
			if strings.Contains(got, form) {
				t.Errorf("redact(%q) = %q; still holds %q", pre+form+post, got, form)
			}
		}
	})
}
