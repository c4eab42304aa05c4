package mockserver

import (
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/routers"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/order"
)

// routeFunc serves one routed, authenticated and validated operation.
type routeFunc func(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string)

// operations maps the contract's operationIds to the sandbox's handlers. getOrder is
// not among them: it serves a tenant's own orders and falls back to the stateless
// mock (serveOrder) for every other id.
func (s *Server) operations() map[string]routeFunc {
	return map[string]routeFunc{
		"createAntiAiOrder":           s.stateful(s.handleCreate(createAntiAI)),
		"createAntiAiOrderWithUrls":   s.stateful(s.handleCreate(createAntiAIWithURLs)),
		"createWatermarkEmbedOrder":   s.stateful(s.handleCreate(createEmbed)),
		"createWatermarkExtractOrder": s.stateful(s.handleCreate(createExtract)),
		"createAiDetectionOrder":      s.stateful(s.handleCreate(createAIDetection)),
		"confirmAntiAiOrder":          s.stateful(s.handleConfirm(order.AntiAI)),
		"confirmAiDetectionOrder":     s.stateful(s.handleConfirm(order.AIDetection)),
		"listOrders":                  s.stateful(s.handleListOrders),
		"getRecentStats":              s.stateful(s.handleRecentStats),
		"downloadOrder":               s.stateful(s.handleDownload),
		"refreshUploadUrls":           s.stateful(s.handleRefreshURLs),
	}
}

// serveOwnOrder answers GET order from the tenant's own orders, and reports false
// for an id no tenant created (the stateless mock answers it).
func (s *Server) serveOwnOrder(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string) bool {
	if s.cfg.Store == nil && !s.sbOpen.Load() {
		// Nothing was ever created here: answer as the stateless mock, without
		// opening a store for a server that may never need one.
		if s.cfg.StrictUnknownOrders {
			s.fail(w, &apiError{status: http.StatusNotFound, code: codeOrderNotFound, detail: "no order " + clip(params["orderId"]) + " was created with this API key (--unknown-orders=404)"})
			return true
		}
		return false
	}
	handled := true
	s.stateful(func(w http.ResponseWriter, r *http.Request, c *call) {
		handled = s.handleGetOrder(w, r, c)
	})(w, r, route, params)
	return handled
}

// sandboxPath reports whether the path is one the sandbox serves before the
// contract's router: presigned storage and test uploads (streamed, no
// Authorization), and its own controls.
func sandboxPath(p string) bool {
	return strings.HasPrefix(p, files.FilesPath) || strings.HasPrefix(p, files.TestUploadsPath) || strings.HasPrefix(p, "/_morimock/")
}

// handleSandbox serves the sandbox's own paths.
func (s *Server) handleSandbox(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, files.FilesPath):
		s.handleFiles(w, r)
	case strings.HasPrefix(p, files.TestUploadsPath):
		s.handleTestUpload(w, r)
	case p == "/_morimock/clock" && (r.Method == http.MethodGet || r.Method == http.MethodPost),
		p == "/_morimock/reset" && r.Method == http.MethodPost:
		if e := s.checkToken(r.Header.Values("Authorization")); e != nil {
			s.fail(w, e)
			return
		}
		op := s.handleClock
		if p == "/_morimock/reset" {
			op = s.handleReset
		}
		s.stateful(op)(w, r, nil, nil)
	case p == "/_morimock/clock" || p == "/_morimock/reset":
		allow := "GET, POST"
		if p == "/_morimock/reset" {
			allow = "POST"
		}
		s.fail(w, &apiError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, allow: allow, detail: clip(r.Method) + " is not allowed here"})
	default:
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeResourceNotFound, detail: "no such sandbox path; it has /_morimock/clock and /_morimock/reset"})
	}
}
