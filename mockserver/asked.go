package mockserver

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/morimock/morimock"
)

// askable is what Prefer: code=N can answer on one operation of openapi.yaml: each
// error status (400 and up) it declares with a JSON body, with the codes of that
// response's examples, and the statuses a request may name without asking for an
// error (the operation's own 2xx).
type askable struct {
	op      string                      // "POST /api/v2/orders/anti-ai", for messages
	success map[int]bool                // the operation's own 2xx: code= one of them asks for nothing
	errors  map[int]*openapi3.MediaType // each error's JSON body, which has an example code
	headers map[int]http.Header         // each error's required headers that have one value
	errs    string                      // the error statuses it declares, for messages
	// refusal is the code of the 400 that refuses a scenario: INVALID_PARAMETER where
	// the operation's 400 allows it, else VALIDATION_FAILED (the test upload's).
	refusal string
}

// namedCode is one example of an error response: its name and the code its body holds.
type namedCode struct{ name, code string }

// askables reads every operation of openapi.yaml.
func askables(spec *morimock.Spec) (map[*openapi3.Operation]*askable, error) {
	out := map[*openapi3.Operation]*askable{}
	for path, item := range spec.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			a, err := askableOf(method+" "+path, op)
			if err != nil {
				return nil, err
			}
			out[op] = a
		}
	}
	return out, nil
}

func askableOf(name string, op *openapi3.Operation) (*askable, error) {
	a := &askable{op: name, success: map[int]bool{}, errors: map[int]*openapi3.MediaType{}, headers: map[int]http.Header{}, refusal: codeInvalidParameter}
	var statuses []int
	// The headers every answer of the operation carries (the v2 watermark endpoints'
	// Deprecation, Sunset and Link): its success response requires them.
	always := http.Header{}
	for k, ref := range op.Responses.Map() {
		if st, err := strconv.Atoi(k); err == nil && st < 300 && ref.Value != nil {
			requiredHeaders(ref.Value, always)
		}
	}
	for k, ref := range op.Responses.Map() {
		status, err := strconv.Atoi(k)
		if err != nil || ref.Value == nil {
			continue // "default" and ranges name no status a client could ask for
		}
		statuses = append(statuses, status)
		if status < 400 {
			a.success[status] = true
			continue
		}
		resp := ref.Value
		mt := resp.Content.Get("application/json")
		if mt == nil {
			continue
		}
		if !hasExampleCode(mt) {
			return nil, fmt.Errorf("openapi.yaml: %s response %d has no example code", name, status)
		}
		a.errors[status] = mt
		h := always.Clone()
		requiredHeaders(resp, h)
		a.headers[status] = h
		if status == http.StatusBadRequest && !allowsCode(mt, codeInvalidParameter) {
			a.refusal = codeValidationFailed
		}
	}
	sort.Ints(statuses)
	var errs []string
	for _, st := range statuses {
		if _, ok := a.errors[st]; ok {
			errs = append(errs, strconv.Itoa(st))
		}
	}
	a.errs = strings.Join(errs, ", ")
	return a, nil
}

// requiredHeaders adds to h each header resp requires that has a single value allowed.
func requiredHeaders(resp *openapi3.Response, h http.Header) {
	for name, ref := range resp.Headers {
		if ref == nil || ref.Value == nil || !ref.Value.Required {
			continue
		}
		if sc := ref.Value.Schema; sc != nil && sc.Value != nil && len(sc.Value.Enum) == 1 {
			if v, ok := sc.Value.Enum[0].(string); ok {
				h.Set(name, v)
			}
		}
	}
}

// allowsCode reports whether mt's schema lets its code property hold code.
func allowsCode(mt *openapi3.MediaType, code string) bool {
	if mt.Schema == nil || mt.Schema.Value == nil {
		return true
	}
	p := mt.Schema.Value.Properties["code"]
	if p == nil || p.Value == nil || len(p.Value.Enum) == 0 {
		return true
	}
	for _, v := range p.Value.Enum {
		if v == code {
			return true
		}
	}
	return false
}

// codeOf is the code an example's body holds, "" for none.
func codeOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		if code, ok := m["code"].(string); ok {
			return code
		}
	}
	return ""
}

// hasExampleCode reports whether one of mt's examples holds a code, without the
// document order exampleCodes reads (which costs a parse: see Spec.ExampleNames).
func hasExampleCode(mt *openapi3.MediaType) bool {
	if codeOf(mt.Example) != "" {
		return true
	}
	for _, ex := range mt.Examples {
		if ex != nil && ex.Value != nil && codeOf(ex.Value.Value) != "" {
			return true
		}
	}
	return false
}

// exampleCodes reads the codes of mt's examples: a lone `example:` (named ""), or its
// named examples in the order openapi.yaml gives them, the first the default.
func exampleCodes(spec *morimock.Spec, mt *openapi3.MediaType) []namedCode {
	var codes []namedCode
	if code := codeOf(mt.Example); code != "" {
		codes = append(codes, namedCode{"", code})
	}
	for _, name := range spec.ExampleNames(mt) {
		if ex := mt.Examples[name]; ex != nil && ex.Value != nil && codeOf(ex.Value.Value) != "" {
			codes = append(codes, namedCode{name, codeOf(ex.Value.Value)})
		}
	}
	return codes
}

// examples names the examples of codes for a message.
func examples(codes []namedCode) string {
	var names []string
	for _, nc := range codes {
		if nc.name != "" {
			names = append(names, nc.name)
		}
	}
	if len(names) == 0 {
		return "it has one, unnamed"
	}
	return "its examples: " + strings.Join(names, ", ")
}

// askedError reads the error a scenario asks route's operation for: code=N, and
// example=NAME among the examples of that status. It returns the answer to send, or
// why none can be (a status the operation does not declare, an example it does not
// have), or neither: no code, the operation's own success status, or not an
// operation of openapi.yaml (the sandbox's own controls). The answer is sent in place
// of the operation, so an asked error reads and changes no state.
func (s *Server) askedError(r *http.Request, route *routers.Route, sc Scenario) (answer *askedAnswer, refusal string) {
	a := s.askable[route.Operation]
	if sc.Code == 0 || a == nil || a.success[sc.Code] {
		return nil, ""
	}
	mt, declared := a.errors[sc.Code]
	if !declared {
		return nil, fmt.Sprintf("scenario code %d is not declared as an error of %s (its errors: %s)", sc.Code, a.op, a.errs)
	}
	codes := exampleCodes(s.spec, mt) // in document order: read when first asked for
	pick := codes[0]
	if sc.Example != "" {
		found := false
		for _, nc := range codes {
			if nc.name == sc.Example {
				pick, found = nc, true
			}
		}
		if !found {
			return nil, fmt.Sprintf("%s declares no example %s for %d (%s)", a.op, clip(sc.Example), sc.Code, examples(codes))
		}
	}
	e := &apiError{status: sc.Code, code: pick.code, detail: fmt.Sprintf("answered %d %s because the request asked for it (code=%d)", sc.Code, pick.code, sc.Code)}
	switch sc.Code {
	case http.StatusTooManyRequests:
		e.retryAfter = 1
	case http.StatusMethodNotAllowed:
		e.allow = strings.Join(s.spec.MethodsFor(r), ", ") // what a real 405 on this path says
	}
	return &askedAnswer{err: e, header: a.headers[sc.Code]}, ""
}

// askedAnswer is an error a request asked for, with the headers its response requires.
type askedAnswer struct {
	err    *apiError
	header http.Header
}

func (s *Server) sendAsked(w http.ResponseWriter, a *askedAnswer) {
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	s.fail(w, a.err)
}
