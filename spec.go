// Package morimock holds the orders contract, openapi.yaml, the sandbox's own
// endpoints, sandbox.yaml, and the one place that loads them. The mock server, the
// contract suite and the tests all read the same embedded bytes, so they can never
// disagree about the contract.
package morimock

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/morimock/morimock/order"
)

//go:embed openapi.yaml
var specYAML []byte

//go:embed sandbox.yaml
var sandboxYAML []byte

// SpecYAML returns the contract as written in openapi.yaml. Callers must not modify it.
func SpecYAML() []byte { return specYAML }

// SandboxYAML returns the sandbox's own endpoints as written in sandbox.yaml. Callers
// must not modify it.
func SandboxYAML() []byte { return sandboxYAML }

// SandboxPrefix starts every path of sandbox.yaml and no path of openapi.yaml, so a
// request's path alone says which of the two documents it addresses.
const SandboxPrefix = "/_morimock/"

// Spec is the loaded, validated contract with a router over its operations and over
// the sandbox's own. It is safe for concurrent use.
//
// The two documents stay apart (openapi.yaml is the vendor's contract, which the
// contract suite judges any API by; sandbox.yaml is what only the sandbox serves), but
// one Spec routes both: FindRoute returns a route whose Spec is the document that
// declares it, so validation, security and error responses come from that document.
type Spec struct {
	// Doc is the parsed openapi.yaml. Treat it as read-only.
	Doc *openapi3.T
	// Sandbox is the parsed sandbox.yaml. Treat it as read-only.
	Sandbox *openapi3.T

	router, sandboxRouter routers.Router
	// raw is openapi.yaml's bytes, for examplesOnce: the names of the examples of
	// each response body of Doc in the order the document gives them (see
	// ExampleNames), read when first asked for.
	raw          []byte
	examplesOnce sync.Once
	examples     map[*openapi3.MediaType][]string
}

// LoadSpec parses and validates the embedded openapi.yaml and sandbox.yaml and builds
// their routers.
func LoadSpec(ctx context.Context) (*Spec, error) {
	return ParseSpec(ctx, specYAML)
}

// ParseSpec is LoadSpec for other bytes of openapi.yaml (with the embedded
// sandbox.yaml); tests use it to prove a broken contract is refused.
func ParseSpec(ctx context.Context, data []byte) (*Spec, error) {
	doc, router, err := parseDoc(ctx, "openapi.yaml", data)
	if err != nil {
		return nil, err
	}
	sandbox, sandboxRouter, err := parseDoc(ctx, "sandbox.yaml", sandboxYAML)
	if err != nil {
		return nil, err
	}
	for path := range doc.Paths.Map() {
		if strings.HasPrefix(path, SandboxPrefix) {
			return nil, fmt.Errorf("openapi.yaml: path %s is in the sandbox's space %s", path, SandboxPrefix)
		}
	}
	for path := range sandbox.Paths.Map() {
		if !strings.HasPrefix(path, SandboxPrefix) {
			return nil, fmt.Errorf("sandbox.yaml: path %s does not start with %s", path, SandboxPrefix)
		}
	}
	return &Spec{Doc: doc, Sandbox: sandbox, router: router, sandboxRouter: sandboxRouter, raw: data}, nil
}

// ExampleNames returns the names of mt's examples, a response body of an operation
// of openapi.yaml, in the order the document gives them: the first is what the
// contract shows first (kin-openapi keeps examples in a map).
//
// The order takes a second parse of openapi.yaml that records where each element is
// (kin-openapi's IncludeOrigin: 35 ms, more than the parse the server runs on), so it
// is read the first time it is asked for, not at start.
func (s *Spec) ExampleNames(mt *openapi3.MediaType) []string {
	s.examplesOnce.Do(func() {
		s.examples, _ = exampleOrder(context.Background(), s.raw, s.Doc) // parsed before: no error left
	})
	if names, ok := s.examples[mt]; ok {
		return names
	}
	return slices.Sorted(maps.Keys(mt.Examples)) // not one of Doc's, or no order to be had
}

// exampleOrder maps each response body of doc that has named examples to their
// names in document order, read from a second parse of data.
func exampleOrder(ctx context.Context, data []byte, doc *openapi3.T) (map[*openapi3.MediaType][]string, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IncludeOrigin = true
	located, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	line := func(ex *openapi3.ExampleRef) int {
		if ex == nil || ex.Value == nil || ex.Value.Origin == nil || ex.Value.Origin.Key == nil {
			return 0
		}
		return ex.Value.Origin.Key.Line
	}
	out := map[*openapi3.MediaType][]string{}
	for path, item := range doc.Paths.Map() {
		litem := located.Paths.Value(path)
		for method, op := range item.Operations() {
			if litem == nil || litem.GetOperation(method) == nil {
				continue
			}
			lop := litem.GetOperation(method)
			for code, ref := range op.Responses.Map() {
				lref := lop.Responses.Value(code)
				if ref.Value == nil || lref == nil || lref.Value == nil {
					continue
				}
				for ct, mt := range ref.Value.Content {
					lmt := lref.Value.Content.Get(ct)
					if lmt == nil || len(mt.Examples) == 0 {
						continue
					}
					names := slices.SortedFunc(maps.Keys(mt.Examples), func(a, b string) int {
						return cmp.Or(cmp.Compare(line(lmt.Examples[a]), line(lmt.Examples[b])), cmp.Compare(a, b))
					})
					out[mt] = names
				}
			}
		}
	}
	return out, nil
}

// parseDoc loads, validates and routes one document; name says which in errors.
func parseDoc(ctx context.Context, name string, data []byte) (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", name, err)
	}
	// kin-openapi leaves format: uri unchecked; the document carries our check, so
	// every validation that asks the document for its options asserts it.
	doc.SetStringFormatValidator("uri", uriFormat{})
	if err := doc.Validate(ctx); err != nil {
		return nil, nil, fmt.Errorf("validate %s: %w", name, err)
	}
	router, err := newDepthRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("route %s: %w", name, err)
	}
	return doc, router, nil
}

// depthRouter is kin-openapi's gorillamux router, split by path depth (the number of
// slashes in a path template) and method. gorillamux tries every route's regular
// expression in turn; with every v2 endpoint in the contract that was a third of the
// CPU of a GET order (bench/run.sh, pprof), while a request can only match a template
// of its own depth and method. gorillamux answers for the first template (in its
// order) whose path matches, whatever the method; so a request that could match two
// templates (a segment is a literal of one where the other has a parameter, as
// GET /api/v2/orders/anti-ai against {orderId}), and a request its method's router
// does not match, ask the router of its depth with every method: 404 and 405 stay
// gorillamux's answers, and so does the choice between templates.
type depthRouter struct {
	byMethod map[string]routers.Router // "GET 4" -> that depth's GET operations
	byDepth  map[int]routers.Router    // every operation of a depth
	// shadow[depth][i] holds the literals of segment i that some template of that
	// depth has where another has a parameter.
	shadow map[int]map[int]map[string]bool
	// segments holds, per method and depth, the templates byMethod routes there, when
	// every segment of each is a literal or a whole {parameter}; see findBySegments.
	segments map[methodDepth][]segmentTemplate
}

type methodDepth struct {
	method string
	depth  int
}

// segmentTemplate is one path template split at its slashes: param[i] names the
// parameter of segment i, or is empty where lit[i] is a literal. route is what
// byMethod's router answers for it, so the fast path hands out the same Spec,
// PathItem and Operation.
type segmentTemplate struct {
	lit, param []string
	route      routers.Route
}

func newDepthRouter(doc *openapi3.T) (*depthRouter, error) {
	all := map[int][]openapi3.NewPathsOption{}
	one := map[string][]openapi3.NewPathsOption{}
	for path, item := range doc.Paths.Map() {
		d := strings.Count(path, "/")
		all[d] = append(all[d], openapi3.WithPath(path, item))
		for method, op := range item.Operations() {
			only := *item // the path's parameters and servers, this one operation
			for m := range item.Operations() {
				only.SetOperation(m, nil)
			}
			only.SetOperation(method, op)
			key := method + " " + strconv.Itoa(d)
			one[key] = append(one[key], openapi3.WithPath(path, &only))
		}
	}
	r := &depthRouter{byMethod: map[string]routers.Router{}, byDepth: map[int]routers.Router{}, shadow: shadows(doc)}
	for d, paths := range all {
		router, err := routerOf(doc, paths)
		if err != nil {
			return nil, err
		}
		r.byDepth[d] = router
	}
	for key, paths := range one {
		router, err := routerOf(doc, paths)
		if err != nil {
			return nil, err
		}
		r.byMethod[key] = router
	}
	r.segments = segmentTemplates(doc, r.byMethod)
	return r, nil
}

// segmentTemplates splits the templates of each method and depth for
// findBySegments. A method and depth is left out (so gorillamux routes it) when one
// of its templates has a segment that is neither a literal nor a whole {parameter}
// (gorilla/mux also matches /files/{name}.json and {id:[0-9]+}), or when its router
// does not answer a template's own probe with that template.
func segmentTemplates(doc *openapi3.T, byMethod map[string]routers.Router) map[methodDepth][]segmentTemplate {
	out := map[methodDepth][]segmentTemplate{}
	skip := map[methodDepth]bool{}
	for path, item := range doc.Paths.Map() {
		d := strings.Count(path, "/")
		for method := range item.Operations() {
			key := methodDepth{method, d}
			segs := strings.Split(path, "/")
			t := segmentTemplate{lit: make([]string, len(segs)), param: make([]string, len(segs))}
			probe := make([]string, len(segs))
			for i, seg := range segs {
				name, isParam := strings.CutPrefix(seg, "{")
				name, closed := strings.CutSuffix(name, "}")
				switch {
				case isParam && closed && name != "" && !strings.ContainsAny(name, "{}:"):
					t.param[i], probe[i] = name, "1"
				case strings.ContainsAny(seg, "{}"):
					skip[key] = true
				default:
					t.lit[i], probe[i] = seg, seg
				}
			}
			router := byMethod[method+" "+strconv.Itoa(d)]
			req := &http.Request{Method: method, URL: &url.URL{Path: strings.Join(probe, "/")}, Header: http.Header{}}
			route, _, err := router.FindRoute(req)
			if skip[key] || err != nil || route.Path != path {
				skip[key] = true
				continue
			}
			t.route = *route
			out[key] = append(out[key], t)
		}
	}
	for key := range skip {
		delete(out, key)
	}
	return out
}

// findBySegments is gorillamux's answer for a request that matches exactly one
// template of its method and depth, found by comparing segments instead of trying
// each template's regular expression: gorilla/mux matches a literal segment byte for
// byte against the escaped path and a {parameter} as one or more bytes other than a
// slash, and hands back the parameters as sent. gorilla/mux's regular expressions
// were a fifth of the instructions of a whole GET order: callgrind (GOGC=200,
// GOMAXPROCS=1, 10000x less 2000x) counts 59,500 a request with them and 46,800 with
// this on BenchmarkServeHTTP/quiet, 209,000 and 198,900 on validate/quiet.
// ok is false when no template or more than one matches: gorillamux decides those.
// TestFindRouteAgreesWithGorillamux and FuzzFindRoute hold it to gorillamux.
func (r *depthRouter) findBySegments(method, path string, d int) (*routers.Route, map[string]string, bool) {
	var found *segmentTemplate
	var params map[string]string
	templates := r.segments[methodDepth{method, d}]
	for k := range templates {
		t := &templates[k]
		rest, match := path, true
		for i := range t.lit {
			seg, after, _ := strings.Cut(rest, "/")
			rest = after
			if t.param[i] == "" && seg != t.lit[i] || t.param[i] != "" && seg == "" {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if found != nil {
			return nil, nil, false
		}
		found = t
	}
	if found == nil {
		return nil, nil, false
	}
	rest := path
	for i := range found.lit {
		seg, after, _ := strings.Cut(rest, "/")
		rest = after
		if found.param[i] != "" {
			if params == nil {
				params = make(map[string]string, 1)
			}
			params[found.param[i]] = seg
		}
	}
	if params == nil {
		params = map[string]string{}
	}
	route := found.route
	return &route, params, true
}

// shadows finds, per depth and segment, the literals that a template with a parameter
// there could also match.
func shadows(doc *openapi3.T) map[int]map[int]map[string]bool {
	segs := map[int][][]string{}
	for path := range doc.Paths.Map() {
		d := strings.Count(path, "/")
		segs[d] = append(segs[d], strings.Split(path, "/"))
	}
	out := map[int]map[int]map[string]bool{}
	for d, paths := range segs {
		for i := 0; i <= d; i++ {
			param := false
			for _, p := range paths {
				param = param || strings.HasPrefix(p[i], "{")
			}
			if !param {
				continue
			}
			for _, p := range paths {
				if !strings.HasPrefix(p[i], "{") {
					if out[d] == nil {
						out[d] = map[int]map[string]bool{}
					}
					if out[d][i] == nil {
						out[d][i] = map[string]bool{}
					}
					out[d][i][p[i]] = true
				}
			}
		}
	}
	return out
}

// shadowed reports whether path could match two templates of its depth.
func (r *depthRouter) shadowed(d int, path string) bool {
	lits := r.shadow[d]
	if len(lits) == 0 {
		return false
	}
	for i := 0; ; i++ {
		seg, rest, more := strings.Cut(path, "/")
		if lits[i][seg] {
			return true
		}
		if !more {
			return false
		}
		path = rest
	}
}

// routerOf routes paths of doc on any host: the contract names the production server,
// but the same routes are served on localhost, in CI and in containers.
func routerOf(doc *openapi3.T, paths []openapi3.NewPathsOption) (routers.Router, error) {
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: "/"}}
	routed.Paths = openapi3.NewPaths(paths...)
	return gorillamux.NewRouter(&routed)
}

// FindRoute implements routers.Router.
func (r *depthRouter) FindRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	path := req.URL.EscapedPath()
	d := strings.Count(path, "/")
	shadowed := r.shadowed(d, path)
	if !shadowed {
		if route, params, ok := r.findBySegments(req.Method, path, d); ok {
			return route, params, nil
		}
	}
	if router, ok := r.byMethod[req.Method+" "+strconv.Itoa(d)]; ok && !shadowed {
		if route, params, err := router.FindRoute(req); err == nil {
			return route, params, nil
		}
	}
	router, ok := r.byDepth[d]
	if !ok {
		return nil, nil, routers.ErrPathNotFound
	}
	return router.FindRoute(req)
}

// ErrMethodNotAllowed and ErrPathNotFound are returned by FindRoute.
var (
	ErrMethodNotAllowed = routers.ErrMethodNotAllowed
	ErrPathNotFound     = routers.ErrPathNotFound
)

// FindRoute returns the operation a request addresses and its path parameters,
// decoded: the router matches the encoded path (so %2F stays inside one parameter),
// and /api/v2/orders/%35 names order 5. A value that is not valid percent-encoding is
// returned as sent.
func (s *Spec) FindRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	router := s.router
	if strings.HasPrefix(r.URL.Path, SandboxPrefix) {
		router = s.sandboxRouter
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range params {
		if strings.IndexByte(v, '%') < 0 {
			continue
		}
		if decoded, err := url.PathUnescape(v); err == nil {
			params[k] = decoded
		}
	}
	return route, params, nil
}

// AllowedMethods lists the methods openapi.yaml or sandbox.yaml declares for path (a
// route's path template), for an Allow header.
func (s *Spec) AllowedMethods(path string) []string {
	item := s.Doc.Paths.Value(path)
	if item == nil {
		item = s.Sandbox.Paths.Value(path)
	}
	if item == nil {
		return nil
	}
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if item.GetOperation(m) != nil {
			methods = append(methods, m)
		}
	}
	return methods
}

// MethodsFor lists the methods that either document declares for the path of r, for
// the Allow header of a 405: the route of a method that is not allowed is not known,
// so each method is tried on the same path.
func (s *Spec) MethodsFor(r *http.Request) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, _, err := s.FindRoute(probe); err == nil {
			methods = append(methods, m)
		}
	}
	return methods
}

// ValidateRequest checks a routed request against the contract. auth decides the
// security requirement; it must not be nil, so that no request passes unauthenticated
// by accident.
func (s *Spec) ValidateRequest(ctx context.Context, r *http.Request, route *routers.Route, params map[string]string, auth openapi3filter.AuthenticationFunc) error {
	if auth == nil {
		return errors.New("validate request: no authentication function")
	}
	return openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:      auth,
			MultiError:              true,
			SchemaValidationOptions: schemaOptions(route),
			// kin-openapi reads a body whole to validate it; a file upload is streamed
			// by its handler instead, which also enforces its size limit.
			ExcludeRequestBody: StreamsBody(route.Operation),
		},
	})
}

// StreamsBody reports whether op takes raw bytes (every media type of its request body
// is a binary string): a file upload, whose body is never read whole to be validated.
func StreamsBody(op *openapi3.Operation) bool {
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil || len(op.RequestBody.Value.Content) == 0 {
		return false
	}
	for _, mt := range op.RequestBody.Value.Content {
		if mt.Schema == nil || mt.Schema.Value == nil || !mt.Schema.Value.Type.Is("string") || mt.Schema.Value.Format != "binary" {
			return false
		}
	}
	return true
}

// ValidateResponse checks a response to a routed request against the contract: the
// status must be declared, the content type and body must match, and every schema
// error is reported (formats, uri included, are asserted).
func (s *Spec) ValidateResponse(ctx context.Context, r *http.Request, route *routers.Route, params map[string]string, status int, header http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			MultiError:              true,
			SchemaValidationOptions: schemaOptions(route),
		},
	}
	// A body that is not JSON (S3's XML error document on the storage paths, a stored
	// file) has no decoder in kin-openapi: its status and headers are checked, and its
	// content type must be one the response declares; its bytes are not a schema's.
	if ct := header.Get("Content-Type"); ct != "" && !isJSONMediaType(ct) {
		if resp := route.Operation.Responses.Status(status); resp != nil && resp.Value != nil && len(resp.Value.Content) > 0 && resp.Value.Content.Get(ct) == nil {
			return fmt.Errorf("response %d: content type %q is not one the contract declares", status, ct)
		}
		in.Options.ExcludeResponseBody = true
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, in)
}

// isJSONMediaType reports whether ct is application/json or a +json type.
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// ResponseValidator is ValidateResponse for the answers with one status to one
// operation, for a server that checks every answer it sends: what does not depend
// on the answer (the declared response, its JSON schema, the schema options) is
// looked up once, when it is made.
//
// For a JSON answer to a response that declares no headers and no writeOnly
// property, it decodes the body as kin-openapi does and visits the schema once, as a
// plain value rather than "as a response". The two agree there: "as a response"
// changes only how writeOnly properties are treated (and default values, which
// response validation never injects). Every other answer goes through
// ValidateResponse itself.
//
// This fork of kin-openapi's response path stays, where the other speed shims went,
// because of oneOf: the order schema is a oneOf over the four order types, and
// validating "as a response" makes kin-openapi deep-copy the whole body and visit the
// matching branch twice, on every answer --validate-responses checks. It also hands
// the decoded body back (ValidateDecoded), so the domain rules need not decode it
// again. TestResponseValidatorAgreesWithValidateResponse and FuzzResponseValidator
// hold it to ValidateResponse's verdicts and errors.
type ResponseValidator struct {
	spec   *Spec
	route  *routers.Route
	status int
	json   *openapi3.MediaType // non-nil when the fast path applies to application/json
	opts   []openapi3.SchemaValidationOption
}

// ResponseValidator returns a validator for answers with status to route.
func (s *Spec) ResponseValidator(route *routers.Route, status int) *ResponseValidator {
	// The schema options of ValidateResponse: every error, the document's formats.
	opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, schemaOptions(route)...)
	if route.Spec != nil && route.Spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	v := &ResponseValidator{spec: s, route: route, status: status, opts: opts}
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil || len(ref.Value.Headers) > 0 {
		return v
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || declaresWriteOnly(mt.Schema, map[*openapi3.Schema]bool{}) {
		return v
	}
	if mt.Schema.Value.Type.Is("string") && mt.Schema.Value.Format == "binary" {
		return v // kin-openapi reads such a body as a file, not as JSON
	}
	v.json = mt
	return v
}

// declaresWriteOnly reports whether a writeOnly property can be reached from ref.
func declaresWriteOnly(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) bool {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return false
	}
	sc := ref.Value
	seen[sc] = true
	if sc.WriteOnly {
		return true
	}
	for _, group := range []openapi3.SchemaRefs{sc.OneOf, sc.AnyOf, sc.AllOf} {
		for _, sub := range group {
			if declaresWriteOnly(sub, seen) {
				return true
			}
		}
	}
	for _, p := range sc.Properties {
		if declaresWriteOnly(p, seen) {
			return true
		}
	}
	if declaresWriteOnly(sc.Not, seen) || declaresWriteOnly(sc.Items, seen) {
		return true
	}
	return sc.AdditionalProperties.Schema != nil && declaresWriteOnly(sc.AdditionalProperties.Schema, seen)
}

// Validate checks one answer, as ValidateResponse(ctx, r, route, params, status, header, body).
func (v *ResponseValidator) Validate(ctx context.Context, r *http.Request, params map[string]string, header http.Header, body []byte) error {
	_, err := v.ValidateDecoded(ctx, r, params, header, body)
	return err
}

// ValidateDecoded is Validate that also returns the body as it decoded it for the
// schema (numbers as json.Number), so a caller can check more rules without decoding
// it again. The value is nil when the answer took ValidateResponse's path.
func (v *ResponseValidator) ValidateDecoded(ctx context.Context, r *http.Request, params map[string]string, header http.Header, body []byte) (any, error) {
	if v.json == nil || r.Method == http.MethodHead || header.Get("Content-Type") != "application/json" {
		return nil, v.spec.ValidateResponse(ctx, r, v.route, params, v.status, header, body)
	}
	fail := func(reason string, err error) error {
		return &openapi3filter.ResponseError{
			Input: &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: v.route},
				Status:                 v.status,
				Header:                 header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
			},
			Reason: reason,
			Err:    err,
		}
	}
	// The value openapi3filter's JSON body decoder gives, numbers as json.Number. A
	// body that is not exactly one JSON value (never one of ours) takes
	// ValidateResponse's own path, for kin-openapi's verdict and error.
	value, err := order.DecodeJSON(body)
	if err != nil {
		return nil, v.spec.ValidateResponse(ctx, r, v.route, params, v.status, header, body)
	}
	if err := v.json.Schema.Value.VisitJSON(value, v.opts...); err != nil {
		reason := "response body doesn't match schema"
		id := strings.TrimSpace(v.json.Schema.Ref)
		if id == "" {
			id = strings.TrimSpace(v.json.Schema.Value.Title)
		}
		if id != "" {
			reason += " " + id
		}
		return nil, fail(reason, err)
	}
	return value, nil
}

// schemaOptions are the schema options of the document that declares route: each
// document (openapi.yaml, sandbox.yaml) carries the format checks it was loaded with.
func schemaOptions(route *routers.Route) []openapi3.SchemaValidationOption {
	if route == nil || route.Spec == nil {
		return nil
	}
	return route.Spec.GetSchemaValidationOptions()
}
