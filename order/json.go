package order

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The encoding is written here rather than left to encoding/json's struct tags, and
// stays so: this is where the contract's "null versus absent, per type" becomes
// bytes. One Order holds all four types; every field of its own type is sent (null
// when it has no value) and no field of another type is (Fields), which no tag can
// say: omitempty only ever leaves a field out, and knows nothing of the type. It
// also writes the fields in the docs' order, into the caller's buffer, for every
// answer the mock sends.

// MarshalJSON encodes the order as the API sends it: the fields of its type, in the
// docs' order, with null for a field without a value.
func (o Order) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil), nil }

// AppendJSON appends the order's JSON encoding to dst. It is the allocation-light
// path the mock server uses for every response.
func (o *Order) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, f := range Fields(o.Type) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, f...)
		dst = append(dst, '"', ':')
		dst = o.appendField(dst, f)
	}
	return append(dst, '}')
}

// AppendResponse appends the 200 body, {"data": order}, to dst.
func (o *Order) AppendResponse(dst []byte) []byte {
	dst = append(dst, `{"data":`...)
	dst = o.AppendJSON(dst)
	return append(dst, '}')
}

func (o *Order) appendField(dst []byte, f string) []byte {
	switch f {
	case FieldType:
		return AppendString(dst, string(o.Type))
	case FieldOrderID:
		return AppendString(dst, o.OrderID)
	case FieldChannel:
		return AppendString(dst, string(o.Channel))
	case FieldThumbnailImageURL:
		return appendNullableString(dst, o.ThumbnailImageURL)
	case FieldOriginalImageURL:
		return appendNullableString(dst, o.OriginalImageURL)
	case FieldStatus:
		return AppendString(dst, string(o.Status))
	case FieldOrderName:
		return AppendString(dst, o.OrderName)
	case FieldFileCount:
		return strconv.AppendInt(dst, int64(o.FileCount), 10)
	case FieldCreatedAt:
		return appendTime(dst, o.CreatedAt)
	case FieldUpdatedAt:
		return appendTime(dst, o.UpdatedAt)
	case FieldErrors:
		return appendNullableString(dst, o.Errors)
	case FieldWatermarks:
		dst = append(dst, '[')
		for i, w := range o.Watermarks {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, w)
		}
		return append(dst, ']')
	case FieldWatermarkText:
		return appendNullableString(dst, o.WatermarkText)
	case FieldProbability:
		if o.Probability == nil {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, *o.Probability, 'f', -1, 64)
	case FieldStatusCode:
		if o.StatusCode == nil {
			return append(dst, "null"...)
		}
		return AppendString(dst, string(*o.StatusCode))
	case FieldOptions:
		if o.Options == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, `{"generateHeatmap":`...)
		dst = strconv.AppendBool(dst, o.Options.GenerateHeatmap)
		dst = append(dst, `,"generateOverlay":`...)
		dst = strconv.AppendBool(dst, o.Options.GenerateOverlay)
		dst = append(dst, `,"generateThumbnail":`...)
		dst = strconv.AppendBool(dst, o.Options.GenerateThumbnail)
		return append(dst, '}')
	case FieldHeatmapURL:
		return appendNullableString(dst, o.HeatmapURL)
	case FieldOverlayURL:
		return appendNullableString(dst, o.OverlayURL)
	}
	return append(dst, "null"...)
}

// appendTime appends t as a JSON string in TimeLayout. Years 0 to 9999 are written
// digit by digit, as time.Format would write them (fractions truncated, not rounded);
// others go through time.Format.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, TimeLayout)
		return append(dst, '"')
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(dst, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

func appendNullableString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return AppendString(dst, *s)
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the ASCII bytes a JSON string holds as they are. It is a
// read-only table: a lookup is cheaper than the three comparisons it replaces.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, and the
// characters JSON or JavaScript cannot hold raw are escaped, as encoding/json does.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if plainASCII[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
