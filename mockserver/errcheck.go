package mockserver

import (
	"errors"
	"net/http"

	"github.com/morimock/morimock"
)

// errorHold holds an error answer (a status of 400 or more) back under
// --validate-responses until it has been checked against the contract, as the 200
// paths check theirs before writing. Other answers pass straight through: the 200s
// are checked where they are made, and file bodies are streamed.
type errorHold struct {
	http.ResponseWriter
	status int
	held   bool
	body   []byte
}

func (e *errorHold) WriteHeader(code int) {
	if e.status == 0 {
		e.status = code
		if code >= 400 {
			e.held = true
			return
		}
	}
	if !e.held {
		e.ResponseWriter.WriteHeader(code)
	}
}

func (e *errorHold) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	if e.held {
		e.body = append(e.body, b...)
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushes).
func (e *errorHold) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// release checks the held error answer against the operation of r, or for a 405
// against an operation the path does take, and sends it, or a 500 in its place with
// a log line when it breaks the contract. A path neither document has (404
// RESOURCE_NOT_FOUND) has no operation to check against and is sent as it is.
func (s *Server) release(e *errorHold, r *http.Request) {
	if !e.held {
		return
	}
	route, params, err := s.spec.FindRoute(r)
	if errors.Is(err, morimock.ErrMethodNotAllowed) {
		if methods := s.spec.MethodsFor(r); len(methods) > 0 {
			probe := r.Clone(r.Context())
			probe.Method = methods[0]
			route, params, err = s.spec.FindRoute(probe)
		}
	}
	w := e.ResponseWriter
	if err == nil {
		if verr := s.spec.ValidateResponse(r.Context(), r, route, params, e.status, w.Header(), e.body); verr != nil {
			s.log.Error("response failed validation", "operation", route.Operation.OperationID, "status", e.status, "err", verr)
			h := w.Header()
			for _, k := range []string{"Allow", "Retry-After", "Content-Length", HeaderError} {
				h.Del(k)
			}
			s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, detail: "the mock's own error answer broke the contract (--validate-responses): " + clip(verr.Error())})
			return
		}
	}
	w.WriteHeader(e.status)
	w.Write(e.body)
}
