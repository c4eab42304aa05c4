package contract

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/morimock/morimock"
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

// schemaIssues is every failed constraint of a ValidateResponse error, with what the
// suite reports of each.
func schemaIssues(err error) []schemaIssue {
	var out []schemaIssue
	for _, is := range morimock.ResponseIssues(err) {
		if is.Schema == nil {
			out = append(out, schemaIssue{path: is.Path, keyword: "response", reason: is.Reason})
			continue
		}
		out = append(out, fromSchemaError(is.Schema))
	}
	return out
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
	is.path = morimock.JSONPath(ptr)
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
