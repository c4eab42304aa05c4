package morimock

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// stringFormats are the string formats every validation of ours uses beside
// kin-openapi's own. The map is shared by every validation and never written:
// kin-openapi only reads it (WithStringFormatValidator would make a map for each).
var stringFormats = newStringFormats()

func newStringFormats() map[string]openapi3.StringFormatValidator {
	formats := map[string]openapi3.StringFormatValidator{"uri": uriFormat{}}
	if kin := openapi3.SchemaStringFormats["date-time"]; kin != nil {
		formats["date-time"] = dateTimeFormat{kin: kin}
	}
	return formats
}

// uriFormat asserts format: uri as RFC 3986 absolute URIs: a scheme and, for http(s),
// a host. kin-openapi leaves "uri" unchecked by default.
type uriFormat struct{}

func (uriFormat) Validate(value string) error {
	if plainHTTPURL(value) {
		return nil // what url.Parse and the checks below would accept, found in one pass
	}
	u, err := url.Parse(value)
	if err != nil {
		return fmt.Errorf("not a URI: %w", err)
	}
	if !u.IsAbs() {
		return errors.New("not an absolute URI")
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return errors.New("http URI without a host")
	}
	return nil
}

// dateTimeFormat is kin-openapi's own date-time check with a shortcut for the one
// shape every timestamp of the contract has, 2026-03-12T10:00:00.000Z. kin-openapi
// matches a regular expression, then checks that the month has the day; for that
// shape the expression's part is done by hand, which costs a fraction of a regular
// expression on every timestamp of every answer. Whatever the shortcut does not
// accept goes to kin-openapi's validator, so every refusal and its message are
// kin-openapi's, and FuzzDateTimeFormat holds the shortcut to accepting nothing
// kin-openapi refuses.
type dateTimeFormat struct {
	kin openapi3.StringFormatValidator
}

func (f dateTimeFormat) Validate(value string) error {
	if utcMillis(value) {
		if _, err := time.Parse(time.DateOnly, value[:len(time.DateOnly)]); err == nil {
			return nil
		}
	}
	return f.kin.Validate(value)
}

// utcMillis reports whether s is YYYY-MM-DDTHH:MM:SS.mmmZ with the month 01-12, the
// day 01-31, the hour 00-23 and the minute and second 00-59: a subset of what
// kin-openapi's date-time expression matches (it also takes a leap second, other
// fractions and offsets).
func utcMillis(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd.dddZ"
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		if c := s[i]; shape[i] == 'd' {
			if c < '0' || c > '9' {
				return false
			}
		} else if c != shape[i] {
			return false
		}
	}
	two := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	month, day, hour, minute, second := two(5), two(8), two(11), two(14), two(17)
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59
}

// plainHTTPURL reports whether s is an http or https URL of the plainest kind, as
// the presigned URLs of every answer are: a host of lowercase letters, digits, dots
// and hyphens (no port, no user), then a path and query of URL characters with
// well-formed %XX escapes, and no fragment. Each such URL passes uriFormat's full
// check (FuzzURIFormat holds it to that); anything else takes the full check.
func plainHTTPURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	host := 0
	for host < len(rest) && rest[host] != '/' && rest[host] != '?' {
		c := rest[host]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
		host++
	}
	if host == 0 {
		return false
	}
	for i := host; i < len(rest); i++ {
		switch c := rest[i]; {
		case urlBytes[c]:
		case c == '%':
			if i+2 >= len(rest) || !isHex(rest[i+1]) || !isHex(rest[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

// urlBytes marks the bytes plainHTTPURL takes as they are in a path or query.
var urlBytes = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?&=:@+!$'()*,;") {
		t[c] = true
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
