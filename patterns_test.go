package morimock

import (
	"regexp"
	"testing"
)

// patternCases are the contract's own patterns and the shapes newRunMatcher must take
// or leave to regexp.
var patternCases = []struct {
	expr string
	runs bool // read as a runMatcher
}{
	{`^[0-9]{1,20}$`, true},
	{`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`, true},
	{`^[a-z_]+[0-9]*$`, true},
	{`^ab?c$`, true},
	{`^[A-F0-9]{2,}x?$`, true},
	{`^[0-9]*[0-9]$`, false},   // greedy would take the last digit from the second run
	{`^[0-9]*-?[0-9]$`, false}, // the same past an optional run
	{`^[0-9]+$|^x$`, false},
	{`[0-9]+`, false},       // not anchored
	{`^[0-9]+`, false},      // open at the end
	{`(?m)^[0-9]+$`, false}, // lines, not the text
	{`^(ab)+$`, false},
	{`^.+$`, false},
	{`^[^0-9]+$`, false}, // a class beyond ASCII
	{`^é+$`, false},
	{`^(?i)ab$`, false},
	{`^[0-9]+?$`, false},
	{`^\u0041+$`, true}, // kin-openapi's \u escape
	{`^$`, false},
	{`^[`, false}, // does not parse: regexp's error
}

func TestNewRunMatcher(t *testing.T) {
	for _, tt := range patternCases {
		t.Run(tt.expr, func(t *testing.T) {
			if _, ok := newRunMatcher(tt.expr); ok != tt.runs {
				t.Errorf("newRunMatcher(%q) ok = %v; want %v", tt.expr, ok, tt.runs)
			}
			m, err := compilePattern(tt.expr)
			if _, want := regexp.Compile(goRegexp(tt.expr)); (err == nil) != (want == nil) {
				t.Fatalf("compilePattern(%q) = %v; regexp says %v", tt.expr, err, want)
			}
			if err != nil {
				return
			}
			re := regexp.MustCompile(goRegexp(tt.expr))
			for _, s := range []string{"", "0", "12345678901234567890", "123456789012345678901", "2026-03-12T10:00:00.000Z", "2026-03-12T10:00:00.000Zx", "abc", "ac", "abbc", "a_b12", "AF0", "AF0x", "A", "AAA", "x", "1x", "\xff", "1\n"} {
				if got, want := m.MatchString(s), re.MatchString(s); got != want {
					t.Errorf("MatchString(%q) = %v; regexp says %v", s, got, want)
				}
			}
		})
	}
}

// FuzzPatterns holds every pattern compilePattern reads as runs to regexp's answer.
func FuzzPatterns(f *testing.F) {
	for _, s := range []string{"", "1234567890", "2026-03-12T10:00:00.000Z", "2026-03-12T10:00:00.000", "abc_12", "AF0x", "\xff1"} {
		f.Add(s)
	}
	type pair struct {
		runs runMatcher
		re   *regexp.Regexp
	}
	var pairs []pair
	for _, tt := range patternCases {
		if m, ok := newRunMatcher(tt.expr); ok {
			pairs = append(pairs, pair{m, regexp.MustCompile(goRegexp(tt.expr))})
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range pairs {
			if got, want := p.runs.MatchString(s), p.re.MatchString(s); got != want {
				t.Errorf("%s: MatchString(%q) = %v; regexp says %v", p.re, s, got, want)
			}
		}
	})
}
