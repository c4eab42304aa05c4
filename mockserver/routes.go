package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/morimock/morimock"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// routes is every route in one place: the mock's own two, and whatever openapi.yaml
// and sandbox.yaml declare, behind the middleware every answer passes through. No ServeMux: it would
// redirect unclean paths (/a/../b) with a 307 and answer CONNECT in plain text, neither
// of which the contract declares; every path but the two is the contract's to answer.
func (s *Server) routes() http.Handler {
	api := s.handleAPI()
	return s.accessLog(s.commonHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		own := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case own && r.URL.Path == "/healthz":
			s.handleHealthz(w, r)
		case own && r.URL.Path == "/openapi.yaml":
			s.handleSpec(w, r)
		case streamed(r.URL.Path):
			s.handleStreamed(w, r)
		case isInboxPost(r):
			s.handleInboxPost(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})))
}

// handleHealthz answers 200 when the server can serve. With a shared store (Redis)
// it asks the store first and answers 503 "not ready" while it is unreachable, so
// that a load balancer or orchestrator sends traffic only to replicas that can serve
// it (a replica starts before its Redis, and waits for it).
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(HeaderSource, "mock")
	if shared, ok := s.cfg.Store.(store.Shared); ok {
		ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
		defer cancel()
		if err := shared.Ping(ctx); err != nil {
			w.Header().Set(HeaderError, "the shared store (Redis) is unavailable")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"not ready","reason":"the shared store (Redis) is unavailable"}`))
			return
		}
		// Ready: make sure the sandbox (and with it this replica's deliverer) runs.
		if _, err := s.sandbox(ctx); err != nil {
			s.log.Warn("build the sandbox", "err", err)
		}
	}
	w.Write([]byte(`{"status":"ok"}`))
}

// healthzTimeout bounds /healthz's question to the store: health checks have short
// timeouts of their own.
const healthzTimeout = 2 * time.Second

func (s *Server) handleSpec(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set(HeaderSource, "mock")
	w.Write(morimock.SpecYAML())
}

// Header values every 200 carries, built once: X-Morimock-Source says where the body
// came from.
var (
	contentJSON     = []string{"application/json"}
	sourceExample   = []string{"example"}
	sourceFixture   = []string{"fixture"}
	sourceGenerated = []string{"generated"}
)

// bufPool recycles response buffers; an order body is well under 4 KiB.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// handleAPI serves the operations of openapi.yaml and sandbox.yaml: it routes, checks
// the request against the document that declares the operation, applies the rate
// limit, and hands the request to the operation's handler by operationId.
func (s *Server) handleAPI() http.Handler {
	api := s.serveAPI()
	if !s.cfg.ValidateResponses {
		return api
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hold := &errorHold{ResponseWriter: w}
		api.ServeHTTP(hold, r)
		s.release(hold, r)
	})
}

// serveAPI is handleAPI without the check of error answers.
func (s *Server) serveAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPreflight(r) {
			s.preflight(w)
			return
		}
		route, params, err := s.spec.FindRoute(r)
		switch {
		case errors.Is(err, morimock.ErrMethodNotAllowed):
			allow := "GET"
			if methods := s.spec.MethodsFor(r); len(methods) > 0 {
				allow = strings.Join(methods, ", ")
			}
			s.fail(w, &apiError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, allow: allow, detail: fmt.Sprintf("%s is not allowed here; this path answers %s", clip(r.Method), allow)})
			return
		case err != nil:
			s.fail(w, &apiError{status: http.StatusNotFound, code: codeResourceNotFound, detail: "no such path in openapi.yaml or sandbox.yaml (GET /openapi.yaml shows the contract)"})
			return
		}
		rawQuery := r.URL.RawQuery // as sent: validation re-encodes it with the defaults
		if r.Body != nil && r.Body != http.NoBody && !morimock.StreamsBody(route.Operation) {
			// kin-openapi reads a JSON body whole to validate it: bound it first, so
			// that no request can make the sandbox hold more than MaxJSONBody. A
			// request without a body (net/http's NoBody: every GET) stays as it is,
			// so kin-openapi's security check skips reading and re-wrapping it, a
			// tenth of the time of a plain GET order.
			r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
		}
		if err := s.spec.ValidateRequest(r.Context(), r, route, params, s.authenticate); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				s.fail(w, ae)
				return
			}
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				// Every operation with a JSON body declares 400 VALIDATION_FAILED; the
				// vendor's contract declares no 413 there, so none is invented.
				s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: fmt.Sprintf("the body is over %d bytes, the most a request of this API can need", MaxJSONBody)})
				return
			}
			if timedOut(err) || cutShort(err) {
				// The body did not arrive whole: the client's doing, not the contract's.
				s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "the request body did not arrive whole (it ended before its Content-Length, or stopped coming within the server's read timeout)"})
				return
			}
			detail := "the request does not match " + documentOf(route) + ": " + validationDetail(err)
			if isStorage(route) {
				s.failS3(w, http.StatusBadRequest, "AuthorizationQueryParametersError", detail)
				return
			}
			s.fail(w, &apiError{status: http.StatusBadRequest, code: validationCode(err), detail: detail})
			return
		}
		if rawQuery != "" && takesQuery(route) {
			// url.Values leaves out a pair it cannot decode (keyword=%ZZ), and a filter
			// the client asked for would be dropped without a word. Only where the
			// operation reads its query (and so declares a 400); after the
			// authentication, whose 401 comes first.
			if _, err := url.ParseQuery(rawQuery); err != nil {
				s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "the query string is not valid: " + clip(err.Error())})
				return
			}
		}
		// The storage paths stand for S3, not for the vendor's API, so the API's rate
		// limit does not count them (sandbox.yaml declares no 429 there).
		if s.limiter != nil && !isStorage(route) {
			if ok, wait := s.limiter.take(time.Now()); !ok {
				s.fail(w, &apiError{status: http.StatusTooManyRequests, code: codeRateLimitExceeded, retryAfter: wait, detail: fmt.Sprintf("over the rate limit of %d requests per minute (--rate-limit)", s.cfg.RateLimit)})
				return
			}
		}
		if route.Operation.OperationID != opGetOrder && !s.otherScenario(w, r, route) {
			return
		}
		if op := s.ops[route.Operation.OperationID]; op != nil {
			op(w, r, route, params)
			return
		}
		switch id := route.Operation.OperationID; id {
		case opGetOrder:
			s.handleGetOrder(w, r, route, params)
		default:
			// The stateful operations land from another branch; until then each answers
			// plainly that this build lacks it, never a made-up success.
			s.fail(w, &apiError{status: http.StatusNotFound, code: codeResourceNotFound, detail: fmt.Sprintf("%s (%s %s) is not implemented in this build", id, route.Method, route.Path)})
		}
	})
}

// MaxJSONBody bounds a JSON request body. The largest body the contract allows (100
// files of 10 watermarks of 1000 characters, names and URLs) is about 1.2 MB in
// plain ASCII; 4 MiB leaves room for escaped or multi-byte text.
const MaxJSONBody = 4 << 20

// opGetOrder is the operationId of GET /api/v2/orders/{orderId}.
const opGetOrder = "getOrder"

// isStorage reports whether route is one of the sandbox's S3-style storage paths,
// which answer errors as S3 does.
func isStorage(route *routers.Route) bool {
	return strings.HasPrefix(route.Path, morimock.SandboxPrefix+"files/")
}

// documentOf names the file that declares route, for error details.
func documentOf(route *routers.Route) string {
	if strings.HasPrefix(route.Path, morimock.SandboxPrefix) {
		return "sandbox.yaml"
	}
	return "openapi.yaml"
}

// otherScenario applies --latency, and Prefer: delay and code, to an operation other
// than GET order (which applies them itself, see handleGetOrder), and reports whether
// the request goes on. The sandbox's own controls answer at once; the storage URLs
// and the test uploads are served apart (handleStreamed).
func (s *Server) otherScenario(w http.ResponseWriter, r *http.Request, route *routers.Route) bool {
	if strings.HasPrefix(route.Path, morimock.SandboxPrefix) {
		return true
	}
	asked, ok := s.scenarioOp(w, r, route)
	if ok && asked != nil {
		s.sendAsked(w, asked)
		return false
	}
	return ok
}

// scenarioOp reads the scenario of a request to route's operation and waits its
// delay: it returns the error the request asks for (code, example; nil for none),
// for the caller to send in place of the operation once the request is
// authenticated, and whether the request goes on. The keys that make up an order
// (type, status, seed, an example without an error code) are GET order's, and
// elsewhere answer 400 rather than be dropped without a word. That 400 needs the
// operation to declare one: the legacy webhook GET and DELETE do not, and read delay
// and the errors they declare only.
func (s *Server) scenarioOp(w http.ResponseWriter, r *http.Request, route *routers.Route) (*askedAnswer, bool) {
	refuses := route.Operation.Responses.Status(http.StatusBadRequest) != nil
	refuse := func(detail string) (*askedAnswer, bool) {
		s.refuseScenario(w, route, detail)
		return nil, false
	}
	sc, err := scenarioOf(r)
	switch {
	case err != nil && !refuses:
		sc = Scenario{}
	case err != nil:
		return refuse(err.Error())
	case sc.shapesOrder() && refuses:
		return refuse(fmt.Sprintf("the scenario keys type, status, seed and example (without an error code) shape GET %s only; %s %s takes delay, and code for the errors it declares", morimock.OrderPath, route.Method, route.Path))
	}
	asked, refusal := s.askedError(r, route, sc)
	if refusal != "" && refuses {
		return refuse(refusal)
	}
	return asked, s.wait(r.Context(), w, sc)
}

// refuseScenario answers 400 to a scenario route's operation cannot follow, with the
// code its contract allows there (see askable.refusal).
func (s *Server) refuseScenario(w http.ResponseWriter, route *routers.Route, detail string) {
	code := codeInvalidParameter
	if a := s.askable[route.Operation]; a != nil {
		code = a.refusal
	}
	s.fail(w, &apiError{status: http.StatusBadRequest, code: code, detail: detail})
}

// scenarioOf reads the scenario a request asks for, in its Prefer header and its __
// query parameters.
func scenarioOf(r *http.Request) (Scenario, error) {
	var query url.Values // most requests have none: skip parsing an empty query into a map
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	return ParseScenario(r.Header.Values("Prefer"), query)
}

// handleGetOrder answers GET order: a tenant's own order from the sandbox (after any
// Prefer: delay; other scenarios are refused for it), 403/404 for another tenant's,
// and for an id no tenant created, the request's scenario (Prefer), a fixture or the
// seeded generator.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string) {
	sc, err := scenarioOf(r)
	if err != nil {
		s.refuseScenario(w, route, err.Error())
		return
	}
	asked, refusal := s.askedError(r, route, sc)
	if refusal != "" {
		s.refuseScenario(w, route, refusal)
		return
	}
	if !s.wait(r.Context(), w, sc) {
		return // the client went away, or too many wait already
	}
	if asked != nil { // an error asked for: for any id, the key's own orders too
		s.sendAsked(w, asked)
		return
	}
	// The tenant's own order (or why the id is not yours, or --unknown-orders=404)
	// comes before any scenario: a scenario only ever makes up an order no one has.
	if s.serveOwnOrder(w, r, route, params, sc) {
		return
	}
	s.serveOrder(w, r, params, sc)
}

func (s *Server) serveOrder(w http.ResponseWriter, r *http.Request, params map[string]string, sc Scenario) {
	id := params["orderId"]
	if s.cfg.ErrorRate > 0 && s.dice.float() < s.cfg.ErrorRate {
		s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, detail: "injected failure (--error-rate)"})
		return
	}
	if !order.ValidID(id) {
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeOrderNotFound, detail: "order ids are 1 to 20 decimal digits"})
		return
	}
	bp := bufPool.Get().(*[]byte)
	body := (*bp)[:0]
	defer func() { *bp = body[:0]; bufPool.Put(bp) }()

	now := s.now()
	var source []string
	switch fx, isFixture := s.fixtures[id]; {
	case sc.Example != "":
		ex, ok := s.examples[sc.Example]
		if !ok {
			s.fail(w, &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, detail: fmt.Sprintf("no example named %s (have %s)", clip(sc.Example), s.exampleNames())})
			return
		}
		body, source = ex.appendFor(body, id), sourceExample
	case isFixture && sc.Type == "" && sc.Status == "":
		body, source = append(body, fx...), sourceFixture
	default:
		t, st := ComboFor(id)
		if sc.Type != "" {
			t = sc.Type
		}
		if sc.Status != "" {
			st = sc.Status
		}
		seed := s.cfg.Seed
		if sc.HasSeed {
			seed = sc.Seed
		}
		o := Generate(seed, id, t, st, now)
		body, source = o.AppendResponse(body), sourceGenerated
	}
	h := w.Header()
	h["Content-Type"] = contentJSON // shared, never edited in place: see commonHeaders
	h[HeaderSource] = source
	if s.cfg.ValidateResponses {
		if err := s.validate(r, params, h, body, now); err != nil {
			s.log.Error("response failed validation", "id", id, "source", source[0], "err", err)
			s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, detail: "the mock's own answer broke the contract (--validate-responses): " + clip(err.Error())})
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// validate checks a 200 body to the order operation against openapi.yaml and the
// domain rules, reading the body once for both where the validator can.
func (s *Server) validate(r *http.Request, params map[string]string, h http.Header, body []byte, now time.Time) error {
	decoded, err := s.orderOK.ValidateDecoded(r.Context(), r, params, h, body)
	if err != nil {
		return err
	}
	opts := order.CheckOptions{OrderID: params["orderId"], Now: now}
	var vs []order.Violation
	if decoded != nil {
		vs = order.CheckResponseValue(decoded, opts)
	} else {
		vs = order.CheckResponse(body, opts) // the validator took kin-openapi's own path
	}
	if len(vs) > 0 {
		return fmt.Errorf("%d rule(s) broken, first: %s", len(vs), vs[0])
	}
	return nil
}

func (s *Server) fail(w http.ResponseWriter, e *apiError) {
	w.Header().Set(HeaderSource, "error")
	writeError(w, e)
}

// takesQuery reports whether route's operation reads query parameters and declares a
// 400 to refuse a bad one.
func takesQuery(route *routers.Route) bool {
	if route.Operation == nil || route.Operation.Responses.Status(http.StatusBadRequest) == nil {
		return false
	}
	params := route.Operation.Parameters
	if route.PathItem != nil {
		params = append(slices.Clip(params), route.PathItem.Parameters...)
	}
	for _, p := range params {
		if p.Value != nil && p.Value.In == "query" {
			return true
		}
	}
	return false
}
