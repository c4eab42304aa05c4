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
		"getClock":                    s.stateful(s.handleClock),
		"setClock":                    s.stateful(s.handleClock),
		"resetTenant":                 s.stateful(s.handleReset),
		"listWebhooks":                s.stateful(s.handleListWebhooks),
		"createWebhook":               s.stateful(s.handleCreateWebhook),
		"getWebhook":                  s.stateful(s.handleGetWebhook),
		"updateWebhook":               s.stateful(s.handleUpdateWebhook),
		"deleteWebhook":               s.stateful(s.handleDeleteWebhook),
		"listWebhookEvents":           s.stateful(s.handleListEvents),
		"retryWebhookEvent":           s.stateful(s.handleRetryEvent),
		"retryFailedWebhookEvents":    s.stateful(s.handleRetryFailed),
		"createLegacyWebhook":         s.stateful(s.handleLegacyWebhook),
		"getLegacyWebhook":            s.stateful(s.handleLegacyWebhook),
		"deleteLegacyWebhook":         s.stateful(s.handleLegacyWebhook),
		"readInbox":                   s.stateful(s.handleInboxRead),
		"failInbox":                   s.stateful(s.handleInboxFail),
	}
}

// serveOwnOrder answers GET order from the tenant's own orders, and reports false
// for an id no tenant created (the stateless mock answers it).
func (s *Server) serveOwnOrder(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string, sc Scenario) bool {
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
		handled = s.handleOwnOrder(w, r, c, sc)
	})(w, r, route, params)
	return handled
}

// streamed reports whether the path is one whose body the sandbox streams to storage
// (presigned storage and test uploads): those are served before the contract's router,
// whose request validation would read the whole body into memory. They carry no
// Authorization; the signed URL is the credential, checked by the handlers as
// sandbox.yaml and openapi.yaml describe.
func streamed(p string) bool {
	return strings.HasPrefix(p, files.FilesPath) || strings.HasPrefix(p, files.TestUploadsPath)
}

// handleStreamed serves the streamed paths, after --latency (and, for the test
// uploads, an operation of openapi.yaml, Prefer: delay and code) as every answer of
// the API.
func (s *Server) handleStreamed(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, files.FilesPath) {
		if s.wait(r.Context(), w, Scenario{}) { // --latency only: S3 reads no Prefer
			s.handleFiles(w, r)
		}
		return
	}
	route, _, err := s.spec.FindRoute(r)
	if err != nil { // another method than PUT (or a path under it of more segments): handleTestUpload refuses it
		if s.wait(r.Context(), w, Scenario{}) {
			s.handleTestUpload(w, r, nil)
		}
		return
	}
	if asked, ok := s.scenarioOp(w, r, route); ok {
		s.handleTestUpload(w, r, asked) // the error asked for comes after the token's check
	}
}
