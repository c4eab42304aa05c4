package fastlog

import (
	"log/slog"
	"strconv"
	"time"
)

// appendText appends r as slog's TextHandler writes it with no ReplaceAttr, no
// AddSource and no preformatted attributes or groups:
//
//	time=2006-01-02T15:04:05.000Z07:00 level=INFO msg=request key=value ...\n
//
// It reports false when r holds anything it does not write exactly as slog does.
func appendText(b []byte, r slog.Record) ([]byte, bool) {
	if r.Time.IsZero() || !textSafe(r.Message) {
		return b, false // slog leaves out a zero time; an empty message is quoted
	}
	b = append(b, "time="...)
	b, ok := appendDateTime(b, r.Time)
	if !ok {
		return b, false
	}
	// slog truncates to the millisecond and always writes three digits.
	b = append3(b, r.Time.Nanosecond()/1e6)
	if b, ok = appendZone(b, r.Time); !ok {
		return b, false
	}
	b = append(b, " level="...)
	b = append(b, levelString(r.Level)...)
	b = append(b, " msg="...)
	b = append(b, r.Message...)
	r.Attrs(func(a slog.Attr) bool {
		if !textSafe(a.Key) {
			ok = false
			return false
		}
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		v := a.Value
		switch v.Kind() {
		case slog.KindString:
			s := v.String()
			if !textSafe(s) {
				ok = false
				return false
			}
			b = append(b, s...)
		case slog.KindDuration:
			// slog writes Duration.String unquoted, "µs" included; String is
			// inlined, so its result stays on the stack.
			b = append(b, v.Duration().String()...)
		default:
			b, ok = appendScalar(b, v)
			return ok
		}
		return true
	})
	if !ok {
		return b, false
	}
	return append(b, '\n'), true
}

// appendJSON appends r as slog's JSONHandler writes it with no ReplaceAttr, no
// AddSource and no preformatted attributes or groups:
//
//	{"time":"2006-01-02T15:04:05.999999999Z07:00","level":"INFO","msg":"request","key":value,...}\n
//
// It reports false when r holds anything it does not write exactly as slog does.
func appendJSON(b []byte, r slog.Record) ([]byte, bool) {
	if r.Time.IsZero() || !jsonSafe(r.Message) {
		return b, false
	}
	b = append(b, `{"time":"`...)
	b, ok := appendDateTime(b, r.Time)
	if !ok {
		return b, false // slog also writes an !ERROR value for such years
	}
	b = appendNanos(b, r.Time.Nanosecond())
	if b, ok = appendZone(b, r.Time); !ok {
		return b, false
	}
	b = append(b, `","level":"`...)
	b = append(b, levelString(r.Level)...)
	b = append(b, `","msg":"`...)
	b = append(b, r.Message...)
	b = append(b, '"')
	r.Attrs(func(a slog.Attr) bool {
		// An empty key is legal JSON, but an Attr with an empty key and a zero
		// value is one slog leaves out.
		if a.Key == "" || !jsonSafe(a.Key) {
			ok = false
			return false
		}
		b = append(b, `,"`...)
		b = append(b, a.Key...)
		b = append(b, `":`...)
		v := a.Value
		switch v.Kind() {
		case slog.KindString:
			s := v.String()
			if !jsonSafe(s) {
				ok = false
				return false
			}
			b = append(b, '"')
			b = append(b, s...)
			b = append(b, '"')
		case slog.KindDuration:
			// slog writes what encoding/json does: the nanoseconds.
			b = strconv.AppendInt(b, int64(v.Duration()), 10)
		default:
			b, ok = appendScalar(b, v)
			return ok
		}
		return true
	})
	if !ok {
		return b, false
	}
	return append(b, "}\n"...), true
}

// appendScalar appends an Int64, Uint64 or Bool value, which slog writes alike in
// text and JSON, and reports false for any other kind.
func appendScalar(b []byte, v slog.Value) ([]byte, bool) {
	switch v.Kind() {
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	}
	return b, false
}

// textSafe reports whether slog's TextHandler writes s as it is, unquoted. slog
// quotes the empty string, space, '=', '"', control characters, and some non-ASCII
// runes; this accepts only non-empty ASCII strings free of the first four and of
// control characters. (A backslash and DEL are written bare by slog too.)
func textSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > 0x7f || c == '"' || c == '=' {
			return false
		}
	}
	return true
}

// jsonSafe reports whether slog's JSONHandler writes s between quotes as it is.
// slog escapes '"', backslash and control characters, and rewrites invalid UTF-8
// and U+2028/U+2029; it does not escape HTML's '<', '>' and '&'. This accepts only
// ASCII strings free of the first three.
func jsonSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// levelString is slog.Level.String without its allocation for the four named
// levels; any other level is written as slog writes it.
func levelString(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return "DEBUG"
	case slog.LevelInfo:
		return "INFO"
	case slog.LevelWarn:
		return "WARN"
	case slog.LevelError:
		return "ERROR"
	}
	return l.String()
}

// appendDateTime appends "2006-01-02T15:04:05" in t's location, as time's RFC 3339
// formatter does. It reports false for a year outside 0..9999, which that
// formatter writes with a sign or more than four digits (and slog's JSON handler
// flags with an error).
func appendDateTime(b []byte, t time.Time) ([]byte, bool) {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return b, false
	}
	hour, min, sec := t.Clock()
	b = append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	return b, true
}

// append3 appends ".nnn" for 0 <= n < 1000.
func append3(b []byte, n int) []byte {
	return append(b, '.', byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

// appendNanos appends the fraction of a second as time.RFC3339Nano does: nine
// digits less their trailing zeros, and nothing at all for a whole second.
func appendNanos(b []byte, ns int) []byte {
	if ns == 0 {
		return b
	}
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// appendZone appends the zone as time's RFC 3339 formatter does: "Z" for a zero
// offset, otherwise the sign and hours:minutes of the offset truncated to whole
// minutes (so an offset of -30s is "+00:00"). It reports false for an offset of
// 100 hours or more, which that formatter writes with more hour digits.
func appendZone(b []byte, t time.Time) ([]byte, bool) {
	_, offset := t.Zone()
	if offset == 0 {
		return append(b, 'Z'), true
	}
	zone := offset / 60
	sign := byte('+')
	if zone < 0 {
		sign = '-'
		zone = -zone
	}
	hours, mins := zone/60, zone%60
	if hours >= 100 {
		return b, false
	}
	return append(b, sign, byte('0'+hours/10), byte('0'+hours%10), ':', byte('0'+mins/10), byte('0'+mins%10)), true
}
