package contract

import (
	"strings"
	"testing"

	"github.com/morimock/morimock/order"
)

func TestRedact(t *testing.T) {
	const token = "sk_live_0123456789abcdef"
	// An echoed token that order.Excerpt cuts after its 14th byte.
	echoed := order.Excerpt([]byte(`{"pad":"` + strings.Repeat("p", 45) + `","echo":"` + token + `"}`))
	if !strings.HasSuffix(echoed, token[:14]+"...") {
		t.Fatalf("the excerpt %q does not cut the token; fix the test's padding", echoed)
	}
	tests := []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"Bearer " + token, "Bearer [REDACTED]"},
		{token + " and " + token, "[REDACTED] and [REDACTED]"},
		{echoed, strings.TrimSuffix(echoed, token[:14]+"...") + "[REDACTED]..."},
		{"ends with sk_live_012", "ends with [REDACTED]"},
		{"sk_live short", "sk_live short"}, // 7 bytes of it: too short to be the token
	}
	for _, tt := range tests {
		got := redact(tt.in, token)
		if got != tt.want {
			t.Errorf("redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
		for n := minRedacted; n <= len(token); n++ {
			if strings.Contains(got, token[:n]) {
				t.Errorf("redact(%q) = %q; still holds %q", tt.in, got, token[:n])
			}
		}
	}
	if got := redact("sk_x "+token, "sk_x"); got != "sk_x "+token {
		t.Errorf("redact with a short token = %q; want it untouched", got)
	}
}
