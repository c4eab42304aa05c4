package morimock

import (
	"regexp"
	"regexp/syntax"

	"github.com/getkin/kin-openapi/openapi3"
)

// compilePattern is the regular-expression compiler kin-openapi uses for the spec's
// `pattern` keywords (it compiles each pattern once and keeps it). The contract's
// patterns, such as ^[0-9]{1,20}$ for order ids and the timestamp's, are runs of
// ASCII classes with counts; a run that greedy matching cannot get wrong is matched
// by a simple loop over the bytes instead of a regular-expression engine, for every
// id and timestamp of every request and answer. Any other pattern is compiled as
// kin-openapi compiles it, and FuzzPatterns holds the loop to regexp's answers.
func compilePattern(expr string) (openapi3.RegexMatcher, error) {
	if m, ok := newRunMatcher(expr); ok {
		return m, nil
	}
	return regexp.Compile(goRegexp(expr))
}

// unicodeEscape and goRegexp rewrite \uXXXX, which Go's syntax lacks, to \x{XXXX},
// as kin-openapi does before it compiles a pattern.
var unicodeEscape = regexp.MustCompile(`(?P<replaced_with_slash_x>\\u)(?P<code>[0-9A-F]{4})`)

func goRegexp(expr string) string {
	return unicodeEscape.ReplaceAllString(expr, `\x{${code}}`)
}

// run is one element of a runMatcher: between min and max bytes (max < 0: no
// limit) from an ASCII class.
type run struct {
	class    [128]bool
	min, max int
}

// runMatcher matches ^run run ... run$ greedily, each run taking as many bytes as it
// can. That is the regular expression's answer when each run with a choice of length
// shares no byte with any run that can follow it (so a byte never belongs to two).
type runMatcher []run

func (m runMatcher) MatchString(s string) bool {
	i := 0
	for _, r := range m {
		n := 0
		for i < len(s) && (r.max < 0 || n < r.max) && s[i] < 128 && r.class[s[i]] {
			i++
			n++
		}
		if n < r.min {
			return false
		}
	}
	return i == len(s)
}

// newRunMatcher reads expr as a runMatcher, or reports that it is not one: it must be
// anchored at both ends (without a multi-line flag) and hold only ASCII literals and
// classes, optionally with counts, no run with a choice of length sharing a byte
// with a run that can follow it.
func newRunMatcher(expr string) (runMatcher, bool) {
	re, err := syntax.Parse(goRegexp(expr), syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return nil, false
	}
	subs := re.Sub
	if subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return nil, false
	}
	var m runMatcher
	for _, sub := range subs[1 : len(subs)-1] {
		runs, ok := runsOf(sub)
		if !ok {
			return nil, false
		}
		m = append(m, runs...)
	}
	// A run with a choice of length must share no byte with any run that can come
	// next: the one after it, and past that one if it may be empty, and so on.
	for i, r := range m {
		if r.min == r.max {
			continue
		}
		for _, next := range m[i+1:] {
			if overlaps(&r.class, &next.class) {
				return nil, false
			}
			if next.min > 0 {
				break
			}
		}
	}
	return m, len(m) > 0
}

// runsOf reads one element of the concatenation: a literal (one run per byte), a
// class, or a class or one-byte literal with a count.
func runsOf(re *syntax.Regexp) ([]run, bool) {
	if re.Flags&syntax.FoldCase != 0 {
		return nil, false
	}
	switch re.Op {
	case syntax.OpLiteral:
		runs := make([]run, 0, len(re.Rune))
		for _, c := range re.Rune {
			if c >= 128 {
				return nil, false
			}
			r := run{min: 1, max: 1}
			r.class[c] = true
			runs = append(runs, r)
		}
		return runs, true
	case syntax.OpCharClass:
		r := run{min: 1, max: 1}
		if !fillClass(&r.class, re.Rune) {
			return nil, false
		}
		return []run{r}, true
	case syntax.OpRepeat, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		if re.Flags&syntax.NonGreedy != 0 {
			return nil, false
		}
		inner, ok := runsOf(re.Sub[0])
		if !ok || len(inner) != 1 {
			return nil, false
		}
		r := inner[0]
		switch re.Op {
		case syntax.OpRepeat:
			r.min, r.max = re.Min, re.Max
		case syntax.OpStar:
			r.min, r.max = 0, -1
		case syntax.OpPlus:
			r.min, r.max = 1, -1
		case syntax.OpQuest:
			r.min, r.max = 0, 1
		}
		return []run{r}, true
	}
	return nil, false
}

// fillClass sets class from the rune ranges of a parsed class, if all are ASCII.
func fillClass(class *[128]bool, ranges []rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi >= 128 {
			return false
		}
		for c := lo; c <= hi; c++ {
			class[c] = true
		}
	}
	return true
}

func overlaps(a, b *[128]bool) bool {
	for c := range a {
		if a[c] && b[c] {
			return true
		}
	}
	return false
}
