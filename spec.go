// Package morimock holds the orders contract, openapi.yaml, and the one place that
// loads it. The mock server, the contract suite and the tests all read the same
// embedded bytes, so they can never disagree about the contract.
package morimock

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed openapi.yaml
var specYAML []byte

// SpecYAML returns the contract as written in openapi.yaml. Callers must not modify it.
func SpecYAML() []byte { return specYAML }

// Spec is the loaded, validated contract with a router over its operations.
// It is safe for concurrent use.
type Spec struct {
	// Doc is the parsed document. Treat it as read-only.
	Doc    *openapi3.T
	router routers.Router
}

// LoadSpec parses and validates the embedded openapi.yaml and builds its router.
func LoadSpec(ctx context.Context) (*Spec, error) {
	return ParseSpec(ctx, specYAML)
}

// ParseSpec is LoadSpec for other bytes; tests use it to prove a broken contract is refused.
func ParseSpec(ctx context.Context, data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	// The router matches paths on any host: the contract names the production server,
	// but the same routes are served on localhost, in CI and in containers.
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	return &Spec{Doc: doc, router: router}, nil
}

// ErrMethodNotAllowed and ErrPathNotFound are returned by FindRoute.
var (
	ErrMethodNotAllowed = routers.ErrMethodNotAllowed
	ErrPathNotFound     = routers.ErrPathNotFound
)

// FindRoute returns the operation a request addresses and its path parameters.
func (s *Spec) FindRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		return nil, nil, err
	}
	return route, params, nil
}

// AllowedMethods lists the methods the contract declares for path, for an Allow header.
func (s *Spec) AllowedMethods(path string) []string {
	item := s.Doc.Paths.Value(path)
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
			AuthenticationFunc: auth,
			MultiError:         true,
		},
	})
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
			IncludeResponseStatus: true,
			MultiError:            true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("uri", uriFormat{}),
			},
		},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, in)
}

// uriFormat asserts format: uri as RFC 3986 absolute URIs: a scheme and, for http(s),
// a host. kin-openapi leaves "uri" unchecked by default.
type uriFormat struct{}

func (uriFormat) Validate(value string) error {
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
