package morimock

import (
	"net/url"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
)

func TestDateTimeFormat(t *testing.T) {
	kin := openapi3.SchemaStringFormats["date-time"]
	if kin == nil {
		t.Fatal("kin-openapi no longer defines date-time: stringFormats would leave it to the default")
	}
	f := stringFormats["date-time"]
	for _, tt := range []struct {
		value    string
		ok       bool
		shortcut bool // the shape the shortcut takes (its date is still checked)
	}{
		{"2026-03-12T10:00:00.000Z", true, true},
		{"2024-02-29T23:59:59.999Z", true, true},
		{"0000-01-01T00:00:00.000Z", true, true},
		{"2026-02-29T10:00:00.000Z", false, true}, // the shape, but no such day
		{"2026-04-31T10:00:00.000Z", false, true},
		{"2026-13-12T10:00:00.000Z", false, false},
		{"2026-00-12T10:00:00.000Z", false, false},
		{"2026-03-00T10:00:00.000Z", false, false},
		{"2026-03-12T24:00:00.000Z", false, false},
		{"2026-03-12T10:60:00.000Z", false, false},
		{"2026-03-12T23:59:60.000Z", true, false}, // a leap second: kin-openapi's to accept
		{"2026-03-12T10:00:00Z", true, false},
		{"2026-03-12T10:00:00.5+09:00", true, false},
		{"2026-03-12t10:00:00.000z", false, false},
		{"2026-03-12T10:00:00.000", false, false},
		{"", false, false},
		{"２０２６-03-12T10:00:00.000Z", false, false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			got := f.Validate(tt.value)
			if (got == nil) != tt.ok {
				t.Errorf("Validate(%q) = %v; want ok %v", tt.value, got, tt.ok)
			}
			if diff := cmp.Diff(errString(kin.Validate(tt.value)), errString(got)); diff != "" {
				t.Errorf("Validate(%q) mismatch with kin-openapi's (-want +got):\n%s", tt.value, diff)
			}
			if s := utcMillis(tt.value); s != tt.shortcut {
				t.Errorf("utcMillis(%q) = %v; want %v", tt.value, s, tt.shortcut)
			}
		})
	}
}

// FuzzDateTimeFormat: for any string, the date-time check answers exactly what
// kin-openapi's own answers, error text included.
func FuzzDateTimeFormat(f *testing.F) {
	for _, s := range []string{"2026-03-12T10:00:00.000Z", "2026-02-29T10:00:00.000Z", "2026-03-12T23:59:60.000Z", "2026-03-12T10:00:00+09:00", "9999-12-31T23:59:59.999Z"} {
		f.Add(s)
	}
	kin := openapi3.SchemaStringFormats["date-time"]
	ours := stringFormats["date-time"]
	f.Fuzz(func(t *testing.T, s string) {
		if diff := cmp.Diff(errString(kin.Validate(s)), errString(ours.Validate(s))); diff != "" {
			t.Errorf("Validate(%q) mismatch with kin-openapi's (-want +got):\n%s", s, diff)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestURIFormat(t *testing.T) {
	f := stringFormats["uri"]
	for _, tt := range []struct {
		value    string
		ok       bool
		shortcut bool
	}{
		{"https://bizmori-prod.s3.ap-northeast-2.amazonaws.com/anti-ai/1/thumbnails/1/photo.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA234567ABCDEFGHIJ%2F20261126%2Fap-northeast-2%2Fs3%2Faws4_request&X-Amz-Date=20261126T100000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=0f", true, true},
		{"http://localhost", true, true},
		{"https://s3.amazonaws.com/...", true, true},
		{"https://example.com:8443/a", true, false},
		{"https://Example.com/a", true, false},
		{"https://example.com/a#frag", true, false},
		{"https://example.com/a%zz", false, false},
		{"https://example.com/a%2", false, false},
		{"https:///path", false, false},
		{"https://", false, false},
		{"ftp://example.com/a", true, false},
		{"/relative/path", false, false},
		{"https://exa mple.com/", false, false},
		{"https://example.com/\x7f", false, false},
		{"", false, false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			if err := f.Validate(tt.value); (err == nil) != tt.ok {
				t.Errorf("Validate(%q) = %v; want ok %v", tt.value, err, tt.ok)
			}
			if got := plainHTTPURL(tt.value); got != tt.shortcut {
				t.Errorf("plainHTTPURL(%q) = %v; want %v", tt.value, got, tt.shortcut)
			}
		})
	}
}

// FuzzURIFormat: every URL the shortcut takes passes the full check.
func FuzzURIFormat(f *testing.F) {
	for _, s := range []string{"https://a.b/c?d=e%2Ff", "http://x", "https://x:1/", "https://x/%", "https://x/#y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainHTTPURL(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" {
			t.Errorf("plainHTTPURL(%q) = true; url.Parse gives %+v, %v", s, u, err)
		}
	})
}
