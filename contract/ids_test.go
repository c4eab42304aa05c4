package contract

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadOrderIDs(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		err      string
	}{
		{"one a line", "1\n22\n333\n", []string{"1", "22", "333"}, ""},
		{"comments and blanks", "# staging orders\n\n 1234 # an antiAi order\n\t5678\r\n", []string{"1234", "5678"}, ""},
		{"no final newline", "42", []string{"42"}, ""},
		{"empty", "", nil, ""},
		{"two on a line", "1 2\n", nil, "line 1"},
		{"a path", "ok\n../../webhooks\n", nil, "line 2"},
		{"a query", "1?x=y\n", nil, "line 1"},
		{"too long", strings.Repeat("9", 65), nil, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadOrderIDs(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ReadOrderIDs(%q) error = %v; want one naming %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadOrderIDs(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadOrderIDs(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzReadOrderIDs(f *testing.F) {
	for _, s := range []string{"1\n2\n", "# c\n 3 # d\n", "a b", "../x", "\x00\n", "%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ReadOrderIDs(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, id := range ids {
			if checkOrderID(id) != nil || strings.Contains(id, "#") {
				t.Errorf("ReadOrderIDs(%q) returned %q, which is not one path segment", s, id)
			}
		}
	})
}

func FuzzRecognizeDrifts(f *testing.F) {
	f.Add(200, []byte(`{"data":{"type":"watermarkExtract","status":"detected"}}`))
	f.Add(200, []byte(`{"data":{"type":"aiDetection","aiDetection":{"probability":0.9,"statusCode":1},"x":1}}`))
	f.Add(404, []byte(`{"code":"RESOURCE_NOT_FOUND"}`))
	f.Add(429, []byte(`{"code":"USAGE_LIMIT_EXCEEDED"}`))
	f.Add(200, []byte(`[`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		for _, d := range recognizeDrifts(status, body) {
			if d.check == "" || d.finding.Message == "" || d.claims == nil {
				t.Errorf("recognizeDrifts(%d, %q) = incomplete drift %+v", status, body, d)
			}
			if !d.claims(d.finding.Path) {
				t.Errorf("drift %s does not claim its own path %s", d.check, d.finding.Path)
			}
		}
	})
}
