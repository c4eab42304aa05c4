package morimock

import (
	"errors"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// ResponseIssue is one reason a response failed ValidateResponse: a failed schema
// constraint, or a reason with no schema behind it (the body is not JSON, the status
// is not declared).
type ResponseIssue struct {
	Path   string                // JSONPath of the value, e.g. $.data.fileCount; $ for the whole body
	Schema *openapi3.SchemaError // the failed constraint; nil when there is none
	Reason string                // what is wrong, without kin-openapi's schema and value dumps
}

// ResponseIssues unpacks an error of ValidateResponse into every failed constraint
// it holds. kin-openapi nests them: a ResponseError around a MultiError of
// SchemaErrors, where a oneOf error holds the errors of the chosen branch in its Origin.
func ResponseIssues(err error) []ResponseIssue {
	var out []ResponseIssue
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var me openapi3.MultiError
		if _, isSchema := err.(*openapi3.SchemaError); !isSchema && errors.As(err, &me) {
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
			reason := se.Reason
			if reason == "" && se.Origin != nil {
				reason = se.Origin.Error()
			}
			out = append(out, ResponseIssue{Path: JSONPath(se.JSONPointer()), Schema: se, Reason: reason})
			return
		}
		var re *openapi3filter.ResponseError
		if errors.As(err, &re) {
			if re.Err != nil {
				walk(re.Err)
				return
			}
			out = append(out, ResponseIssue{Path: "$", Reason: re.Reason})
			return
		}
		out = append(out, ResponseIssue{Path: "$", Reason: err.Error()})
	}
	walk(err)
	return out
}

// JSONPath turns a JSON pointer's segments into the JSONPath the reports use, e.g.
// $.data.watermarks[0].
func JSONPath(ptr []string) string {
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
