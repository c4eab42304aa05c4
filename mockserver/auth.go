package mockserver

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// authenticate implements the contract's BearerAuth scheme for kin-openapi's request
// validation. It answers the documented 401 codes: no header, a header that is not a
// bearer token, and (when the server has a token) a different token.
func (s *Server) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return &apiError{status: http.StatusUnauthorized, code: codeNotAuthenticated, detail: "the contract names a security scheme the mock does not implement"}
	}
	if e := s.checkToken(in.RequestValidationInput.Request.Header.Values("Authorization")); e != nil {
		return e
	}
	return nil // not a nil *apiError: kin-openapi must see no error at all
}

func (s *Server) checkToken(values []string) *apiError {
	token, e := bearerToken(values)
	if e != nil {
		return e
	}
	if s.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.Token)) != 1 {
		return &apiError{status: http.StatusUnauthorized, code: codeTokenInvalid, detail: "the bearer token is not the one this server was started with (--token)"}
	}
	return nil
}

// bearerToken is the one reader of the Authorization header: the token of its only
// value, "Bearer <token>", or the 401 the contract answers for anything else.
// Authentication and the sandbox's tenant both come from it, so that the token a
// request is let in with is the token its orders are kept under.
func bearerToken(values []string) (string, *apiError) {
	if len(values) == 0 || (len(values) == 1 && strings.TrimSpace(values[0]) == "") {
		return "", &apiError{status: http.StatusUnauthorized, code: codeNotAuthenticated, detail: "no Authorization header; send Authorization: Bearer <API key>"}
	}
	if len(values) > 1 {
		return "", &apiError{status: http.StatusUnauthorized, code: codeTokenInvalidFormat, detail: "more than one Authorization header"}
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", &apiError{status: http.StatusUnauthorized, code: codeTokenInvalidFormat, detail: "the Authorization header is not a bearer token; send Authorization: Bearer <API key>"}
	}
	return token, nil
}
