package order

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Day is the "d" of ParseDuration: 24 hours, on a clock without daylight saving.
const Day = 24 * time.Hour

// ParseDuration parses a clock move: a Go duration ("90s", "1h30m", "-2.5h") that may
// also count days with "d" ("7d", "1d12h", "-0.5d"). A number without a unit is
// refused, except "0", as in time.ParseDuration.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	fail := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("invalid duration %q: %s", orig, why)
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return fail("empty (want e.g. 90s, 1h30m or 7d)")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		num := s[:i]
		j := i
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == '-' || s[j] == '+') {
			j++
		}
		unit := s[i:j]
		s = s[j:]
		if num == "" || num == "." {
			return fail("a number must come before each unit")
		}
		if unit == "" {
			return fail(fmt.Sprintf("missing unit after %s (want ns, us, ms, s, m, h or d)", num))
		}
		var part time.Duration
		if unit == "d" {
			h, err := time.ParseDuration(num + "h")
			if err != nil || h > math.MaxInt64/24 {
				return fail(num + "d is not a number or is out of range")
			}
			part = h * 24
		} else {
			p, err := time.ParseDuration(num + unit)
			switch {
			case err != nil && strings.Contains(err.Error(), "unknown unit"):
				return fail(fmt.Sprintf("unknown unit %q (want ns, us, ms, s, m, h or d)", unit))
			case err != nil:
				return fail(num + unit + " is not a number or is out of range")
			}
			part = p
		}
		if total > math.MaxInt64-part {
			return fail("out of range (at most about 106751d)")
		}
		total += part
	}
	if neg {
		total = -total
	}
	return total, nil
}
