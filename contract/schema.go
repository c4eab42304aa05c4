package contract

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/morimock/morimock/order"
)

// schemaIssue is one leaf error of a kin-openapi response validation.
type schemaIssue struct {
	path    string // JSON path, e.g. $.data.fileCount
	keyword string // the schema keyword that failed: type, enum, required, format, ...
	reason  string
	want    string
	got     string
	// property is set when the issue is a property the schema does not allow.
	property string
}

// schemaIssues unpacks a ValidateResponse error into every leaf error it holds,
// each with its JSON path. kin-openapi nests them: a ResponseError around a
// MultiError of SchemaErrors, where a oneOf error holds the errors of the chosen
// branch in its Origin.
func schemaIssues(err error) []schemaIssue {
	var out []schemaIssue
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var me openapi3.MultiError
		if errors.As(err, &me) && !isSchemaError(err) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			var inner *openapi3.SchemaError
			if se.Origin != nil && errors.As(se.Origin, &inner) {
				walk(se.Origin)
				return
			}
			out = append(out, fromSchemaError(se))
			return
		}
		var re *openapi3filter.ResponseError
		if errors.As(err, &re) {
			if re.Err != nil {
				walk(re.Err)
				return
			}
			out = append(out, schemaIssue{path: "$", keyword: "response", reason: re.Reason})
			return
		}
		out = append(out, schemaIssue{path: "$", keyword: "response", reason: err.Error()})
	}
	walk(err)
	return out
}

// isSchemaError reports whether err itself (not something it wraps further down a
// MultiError) is a *SchemaError.
func isSchemaError(err error) bool {
	_, ok := err.(*openapi3.SchemaError)
	return ok
}

func fromSchemaError(se *openapi3.SchemaError) schemaIssue {
	ptr := se.JSONPointer()
	is := schemaIssue{keyword: se.SchemaField, reason: se.Reason}
	if is.reason == "" && se.Origin != nil {
		is.reason = se.Origin.Error()
	}
	if p, ok := unsupportedProperty(se); ok {
		ptr = append(ptr, p)
		is.property = p
		is.keyword = "additionalProperties"
		is.want = "absent"
		is.got = "present"
	} else if se.SchemaField == "discriminator" {
		ptr = append(ptr, "type")
		is.want = "antiAi, watermarkEmbed, watermarkExtract or aiDetection"
		if m, ok := se.Value.(map[string]any); ok {
			is.got = order.ExcerptValue(m["type"])
		}
	} else {
		is.want = schemaWant(se)
		if se.SchemaField != "required" {
			is.got = order.ExcerptValue(se.Value)
		} else {
			is.got = "absent"
		}
	}
	is.path = jsonPath(ptr)
	return is
}

// unsupportedProperty returns the property of an additionalProperties error, which
// kin-openapi reports at the object's path with the name only in its reason.
func unsupportedProperty(se *openapi3.SchemaError) (string, bool) {
	rest, ok := strings.CutPrefix(se.Reason, `property "`)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, `" is unsupported`)
	return name, ok
}

// schemaWant says what the failed keyword asked for.
func schemaWant(se *openapi3.SchemaError) string {
	s := se.Schema
	if s == nil {
		return ""
	}
	switch se.SchemaField {
	case "required":
		return "present"
	case "type", "nullable":
		if s.Type != nil {
			w := strings.Join(s.Type.Slice(), " or ")
			if s.Nullable {
				w += " or null"
			}
			return w
		}
	case "enum":
		vals := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			vals = append(vals, order.ExcerptValue(v))
		}
		return "one of " + strings.Join(vals, ", ")
	case "format":
		return "format " + s.Format
	case "pattern":
		return "matching " + s.Pattern
	case "minimum", "maximum":
		var parts []string
		if s.Min != nil {
			parts = append(parts, ">= "+strconv.FormatFloat(*s.Min, 'g', -1, 64))
		}
		if s.Max != nil {
			parts = append(parts, "<= "+strconv.FormatFloat(*s.Max, 'g', -1, 64))
		}
		return strings.Join(parts, " and ")
	case "minLength", "maxLength":
		w := fmt.Sprintf("length >= %d", s.MinLength)
		if s.MaxLength != nil {
			w += fmt.Sprintf(" and <= %d", *s.MaxLength)
		}
		return w
	case "minItems", "maxItems":
		return fmt.Sprintf("at least %d items", s.MinItems)
	}
	return ""
}

// jsonPath turns a JSON pointer's segments into a JSONPath, e.g. $.data.watermarks[0].
func jsonPath(ptr []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range ptr {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		b.WriteString("." + seg)
	}
	return b.String()
}
