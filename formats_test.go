package morimock

import (
	"testing"
)

func TestURIFormat(t *testing.T) {
	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{"https://bizmori-prod.s3.ap-northeast-2.amazonaws.com/anti-ai/1/thumbnails/1/photo.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA234567ABCDEFGHIJ%2F20261126%2Fap-northeast-2%2Fs3%2Faws4_request&X-Amz-Date=20261126T100000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=0f", true},
		{"http://localhost", true},
		{"https://s3.amazonaws.com/...", true},
		{"https://example.com:8443/a", true},
		{"https://Example.com/a", true},
		{"https://example.com/a#frag", true},
		{"ftp://example.com/a", true},
		{"urn:isbn:0451450523", true},
		{"https://example.com/a%zz", false},
		{"https://example.com/a%2", false},
		{"https:///path", false},
		{"https://", false},
		{"/relative/path", false},
		{"//example.com/a", false},
		{"https://exa mple.com/", false},
		{"https://example.com/\x7f", false},
		{"", false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			if err := (uriFormat{}).Validate(tt.value); (err == nil) != tt.ok {
				t.Errorf("Validate(%q) = %v; want ok %v", tt.value, err, tt.ok)
			}
		})
	}
}
