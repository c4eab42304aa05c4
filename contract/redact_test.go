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

// BenchmarkReportFinish scrubs a report of 50 results with 4 findings each, an
// echoed token among them, as Run does before it returns.
func BenchmarkReportFinish(b *testing.B) {
	const token = "sk_live_0123456789abcdef"
	for b.Loop() {
		b.StopTimer()
		rep := &Report{}
		for i := range 50 {
			res := Result{Check: CheckResponseSchema, OrderID: "1234567890", Request: "GET /api/v2/orders/1234567890", Outcome: Failed}
			for range 4 {
				res.Findings = append(res.Findings, Finding{Rule: "schema", Path: "$.data.status", Message: "the value is not one of the enum", Want: "pending", Got: `"echo ` + token + `"`, Fix: "answer a declared status"})
			}
			res.Reason = strings.Repeat("r", i)
			rep.Results = append(rep.Results, res)
		}
		b.StartTimer()
		rep.finish(token)
	}
}
