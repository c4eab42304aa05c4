package mockserver

import "testing"

func TestRedact(t *testing.T) {
	long := "sk_live_" + "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789"
	tests := []struct {
		name    string
		in      string
		secrets [2]string
		want    string
	}{
		{"none", "scenario seed \"42\" is not a 64-bit integer", [2]string{"sk_aaaaaaa", "sk_bbbbbbbb"}, "scenario seed \"42\" is not a 64-bit integer"},
		{"server token", `scenario seed "sk_server" is not a 64-bit integer`, [2]string{"sk_server", "sk_mine_1"}, `scenario seed "[REDACTED]" is not a 64-bit integer`},
		{"own token", `unknown scenario key "sk_mine_1" in the query`, [2]string{"", "sk_mine_1"}, `unknown scenario key "[REDACTED]" in the query`},
		{"quoted", `no example named "ab\"cdefg\x01"`, [2]string{"ab\"cdefg\x01"}, `no example named "[REDACTED]"`},
		{"path escaped", "/api/v2/orders/abcd%2Fefgh", [2]string{"abcd/efgh"}, "/api/v2/orders/[REDACTED]"},
		{"query escaped", "abc+def%26ghi", [2]string{"", "abc def&ghi"}, "[REDACTED]"},
		{"cut by clip", "scenario seed " + clip(long) + " is not a 64-bit integer", [2]string{long}, `scenario seed "[REDACTED]"... is not a 64-bit integer`},
		{"twice", "sk_xxxxxx and sk_xxxxxx", [2]string{"sk_xxxxxx", "sk_xxxxxx"}, "[REDACTED] and [REDACTED]"},
		{"too short to be a key", "--max-delayed", [2]string{"x", "max"}, "--max-delayed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in, tt.secrets); got != tt.want {
				t.Errorf("redact(%q, %q) = %q; want %q", tt.in, tt.secrets, got, tt.want)
			}
		})
	}
}
