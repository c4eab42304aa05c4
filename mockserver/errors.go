package mockserver

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/morimock/morimock"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
)

// apiError is every answer that is not an order: its HTTP status, the error code the
// body carries, and a detail for a person. It is turned into a response in exactly
// one place, writeError.
type apiError struct {
	status int
	code   string
	// detail explains the error in the X-Morimock-Error header and the access log. It
	// never holds a token; text a client sent is quoted with clip.
	detail string
	// retryAfter, in seconds, is sent as Retry-After when positive.
	retryAfter int
	// allow is sent as Allow on 405.
	allow string
}

// Error codes the mock answers with. The ones the contract declares come from the
// API's errors page; RESOURCE_NOT_FOUND and METHOD_NOT_ALLOWED answer paths and
// methods outside the contract.
const (
	codeNotAuthenticated   = "AUTH_NOT_AUTHENTICATED"
	codeTokenInvalid       = "AUTH_TOKEN_INVALID"
	codeTokenInvalidFormat = "AUTH_TOKEN_INVALID_FORMAT"
	codeValidationFailed   = "VALIDATION_FAILED"
	codeInvalidParameter   = "INVALID_PARAMETER"
	codeOrderNotFound      = "ORDER_NOT_FOUND"
	codeRateLimitExceeded  = "RATE_LIMIT_EXCEEDED"
	codeInternal           = "SERVER_INTERNAL_ERROR"
	codeResourceNotFound   = "RESOURCE_NOT_FOUND"
	codeMethodNotAllowed   = "METHOD_NOT_ALLOWED"

	// The stateful sandbox's codes, from the errors page and the v2 spec.
	codeOrderNotOwner         = "ORDER_NOT_OWNER"
	codeOrderNotPending       = "ORDER_NOT_PENDING"
	codeOrderExpired          = "ORDER_EXPIRED"
	codeOrderNotCompleted     = "ORDER_NOT_COMPLETED"
	codeFileNotUploaded       = "ORDER_FILE_NOT_UPLOADED"
	codeAlreadyConfirmed      = "ORDER_ALREADY_CONFIRMED"
	codeTypeNotMatch          = "ORDER_TYPE_NOT_MATCH"
	codeTypeCantDownload      = "ORDER_TYPE_CANT_DOWNLOAD"
	codeProcessedFileNotFound = "PROCESSED_FILE_NOT_FOUND"
	codeTestUploadTooLarge    = "TEST_UPLOAD_TOO_LARGE"
	codeWatermarkSunset       = "WATERMARK_V2_API_SUNSET"
	codeTokenExpired          = "AUTH_TOKEN_EXPIRED"
)

// HeaderError carries the detail of an error answer: the contract's error body holds
// only a code, so the explanation travels in a header.
const HeaderError = morimock.HeaderError

func (e *apiError) Error() string { return e.code + ": " + e.detail }

func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.detail != "" {
		h.Set(HeaderError, e.detail)
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.allow != "" {
		h.Set("Allow", e.allow)
	}
	w.WriteHeader(e.status)
	body := make([]byte, 0, 48)
	body = append(body, `{"code":"`...)
	body = append(body, e.code...)
	body = append(body, `"}`...)
	w.Write(body)
}

// codeIdempotencyKeyInvalid answers a malformed idempotency key; the contract marks the
// key's schema with errorCodeExtension so that this rule is written only there.
const codeIdempotencyKeyInvalid = "VALIDATION_IDEMPOTENCY_KEY_INVALID"

// errorCodeExtension, on a schema of the contract, names the 400 code a value that
// breaks that schema answers instead of VALIDATION_FAILED.
const errorCodeExtension = "x-morimock-error-code"

// validationCode is the code of a 400 for a request that kin-openapi refused: the code
// named by errorCodeExtension on a schema the request broke (the idempotency key's,
// VALIDATION_IDEMPOTENCY_KEY_INVALID), else VALIDATION_FAILED. A missing required field
// breaks its parent object's schema, so a missing key is VALIDATION_FAILED.
func validationCode(err error) string {
	code := codeValidationFailed
	visitSchemaErrors(err, func(se *openapi3.SchemaError) {
		if se.Schema == nil {
			return
		}
		if c, ok := se.Schema.Extensions[errorCodeExtension].(string); ok && c != "" {
			code = c
		}
	})
	return code
}

// visitSchemaErrors calls f for every schema error inside err: kin-openapi nests them
// in MultiErrors, RequestErrors and each other's Origin.
func visitSchemaErrors(err error, f func(*openapi3.SchemaError)) {
	switch e := err.(type) {
	case nil:
	case openapi3.MultiError:
		for _, x := range e {
			visitSchemaErrors(x, f)
		}
	case *openapi3.SchemaError:
		f(e)
		visitSchemaErrors(e.Origin, f)
	case *openapi3filter.RequestError:
		visitSchemaErrors(e.Err, f)
	default:
		visitSchemaErrors(errors.Unwrap(err), f)
	}
}

// failS3 answers an error of the storage paths as S3 does: an XML Error document with
// a code and message, the detail in X-Morimock-Error as for every error.
func (s *Server) failS3(w http.ResponseWriter, status int, code, detail string) {
	h := w.Header()
	h.Set(HeaderSource, "error")
	h.Set("Content-Type", "application/xml")
	h.Set(HeaderError, detail)
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(xml.Header + "<Error><Code>")
	xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(detail))
	b.WriteString("</Message><RequestId>morimock</RequestId></Error>")
	w.Write([]byte(b.String()))
}

// validationDetail says what a refused request broke, for X-Morimock-Error: each
// schema error's place in the request and kin-openapi's reason, without the schema
// dumps of err.Error(), bounded in length and quoted for a header.
func validationDetail(err error) string {
	var parts []string
	var walk func(err error, in string)
	walk = func(err error, in string) {
		switch e := err.(type) {
		case nil:
		case openapi3.MultiError:
			for _, x := range e {
				walk(x, in)
			}
		case *openapi3filter.RequestError:
			if e.Parameter != nil {
				in = e.Parameter.In + " parameter " + e.Parameter.Name
			} else if e.RequestBody != nil {
				in = "body"
			}
			if e.Err == nil {
				parts = append(parts, in+": "+e.Reason)
				return
			}
			walk(e.Err, in)
		case *openapi3.SchemaError:
			if branches := oneOfBranches(e); branches != nil {
				// Each branch of a oneOf failed: say what the closest ones lack,
				// not what a body that picked another branch would have lacked.
				var best [][]string
				for _, b := range branches {
					saved := parts
					parts = nil
					walk(b, in)
					switch {
					case len(best) == 0 || len(parts) < len(best[0]):
						best = [][]string{parts}
					case len(parts) == len(best[0]):
						best = append(best, parts)
					}
					parts = saved
				}
				for _, b := range best {
					parts = append(parts, b...)
				}
				return
			}
			if e.Origin != nil {
				walk(e.Origin, in) // the nested error says it better
				return
			}
			where := in
			if p := strings.Join(e.JSONPointer(), "."); p != "" {
				where += " ." + p
			}
			parts = append(parts, strings.TrimSpace(where)+": "+e.Reason)
		default:
			if u := errors.Unwrap(err); u != nil {
				walk(u, in)
				return
			}
			parts = append(parts, strings.TrimSpace(in+" "+err.Error()))
		}
	}
	walk(err, "")
	msg := strings.Join(parts, "; ")
	if len(msg) > 300 {
		msg = msg[:297] + "..."
	}
	return strconv.QuoteToASCII(msg)
}

// oneOfBranches are the errors of each branch of a oneOf that no branch matched, or
// nil for any other error.
func oneOfBranches(e *openapi3.SchemaError) []error {
	if e.SchemaField != "oneOf" {
		return nil
	}
	for x := e.Origin; x != nil; x = errors.Unwrap(x) {
		if me, ok := x.(openapi3.MultiError); ok && len(me) > 1 {
			return me
		}
	}
	return nil
}

// internalS3 is internal for the storage paths (/_morimock/files/), which stand for
// S3 and answer every error as its XML document, a 500 too (sandbox.yaml's S3Error):
// a client's S3 library reads the code from there, never from JSON.
func (s *Server) internalS3(w http.ResponseWriter, err error) {
	w.Header().Set(HeaderSource, "error")
	if errors.Is(err, store.ErrUnavailable) {
		s.log.Warn("shared store unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		w.Header().Set(HeaderError, "the sandbox's shared store (Redis) is unavailable; retry shortly")
		files.WriteS3Error(w, http.StatusInternalServerError, codeS3Internal, "We encountered an internal error. Please try again.", "")
		return
	}
	s.log.Error("sandbox failure", "err", err)
	w.Header().Set(HeaderError, "the sandbox failed; see its log")
	files.WriteS3Error(w, http.StatusInternalServerError, codeS3Internal, "We encountered an internal error. Please try again.", "")
}

// codeS3Internal is S3's code for a 500.
const codeS3Internal = "InternalError"
