package contract

import "github.com/morimock/morimock"

// Severity says what a broken check does to the run: a failure fails it, a warning
// is reported and, unless Config.Strict, lets it pass.
type Severity string

// The two severities.
const (
	SeverityFailure Severity = "failure"
	SeverityWarning Severity = "warning"
)

// Outcome is how one check went for one order or request.
type Outcome string

// The four outcomes.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Warned  Outcome = "warned"
	Skipped Outcome = "skipped"
)

// Check names are stable: reports, JUnit files and users' CI configurations refer
// to them.
const (
	CheckStatusCode        = "status_code_conformance"
	CheckContentType       = "content_type_conformance"
	CheckResponseSchema    = morimock.RuleResponseSchema
	CheckDomainRules       = "domain_rules"
	CheckMockScenario      = "mock_scenario"
	CheckAuthMissingToken  = "auth_missing_token"
	CheckAuthMalformed     = "auth_malformed_token"
	CheckNotFound          = "not_found"
	CheckWrongMethod       = "wrong_method"
	CheckUnknownField      = "unknown_field"
	CheckDriftExtract      = "drift_extract_status"
	CheckDriftNestedAI     = "drift_nested_ai_detection"
	CheckDriftNotFoundCode = "drift_not_found_code"
	CheckDriftRateLimit    = "drift_rate_limit_code"

	// The read surface beside GET order.
	CheckListOrders   = "list_orders"
	CheckDownload     = "download"
	CheckStats        = "usage_stats"
	CheckWebhooksRead = "webhooks_read"

	// The lifecycle (--lifecycle), one result per step and order flow.
	CheckLifeCreate      = "lifecycle_create"
	CheckLifeUpload      = "lifecycle_upload"
	CheckLifeConfirm     = "lifecycle_confirm"
	CheckLifeTransitions = "lifecycle_transitions"
	CheckLifeOutcome     = "lifecycle_outcome"
	CheckLifeDownload    = "lifecycle_download"
	CheckLifeIdempotency = "lifecycle_idempotency"
	CheckLifeMisuse      = "lifecycle_misuse"
	CheckLifeWebhook     = "lifecycle_webhook"
)

// CheckInfo describes one check.
type CheckInfo struct {
	Name        string   `json:"name"`
	Severity    Severity `json:"severity"`
	Description string   `json:"description"`
}

// Checks returns every check the suite runs, in report order.
func Checks() []CheckInfo {
	return []CheckInfo{
		{CheckStatusCode, SeverityFailure, "an order that exists answers 200; every status is one openapi.yaml declares for GET /api/v2/orders/{orderId}; never a 5xx"},
		{CheckContentType, SeverityFailure, "every answer is application/json"},
		{CheckResponseSchema, SeverityFailure, "every body matches openapi.yaml (kin-openapi, formats including uri asserted, every error reported)"},
		{CheckDomainRules, SeverityFailure, "every order keeps the rules of the order package (probability bands, fields per type, lifecycle, ...)"},
		{CheckMockScenario, SeverityFailure, "the mock answers the type and status a Prefer scenario asked for (mock only)"},
		{CheckAuthMissingToken, SeverityFailure, "no Authorization header answers 401 with a documented code"},
		{CheckAuthMalformed, SeverityFailure, "a malformed Authorization header (not Bearer) answers 401 with a documented code"},
		{CheckNotFound, SeverityFailure, "an id that names no order answers 404 ORDER_NOT_FOUND"},
		{CheckWrongMethod, SeverityFailure, "POST and DELETE on an order answer 404 or 405, never 2xx or 5xx (sent to the mock or loopback only)"},
		{CheckListOrders, SeverityFailure, "GET /api/v2/orders: items valid and equal to GET order for the same id, filters and pageInfo consistent, newest first"},
		{CheckDownload, SeverityFailure, "GET /api/v2/orders/{id}/download of a complete order answers a downloadUrl that answers a GET without credentials"},
		{CheckStats, SeverityFailure, "GET /api/v2/orders/stats/recent answers the documented shape"},
		{CheckWebhooksRead, SeverityFailure, "GET /api/v2/orders/webhooks and a webhook's events answer the documented shape (skipped where the server has no webhooks)"},
		{CheckLifeCreate, SeverityFailure, "--lifecycle: each create answers the contract (410 WATERMARK_V2_API_SUNSET for v2 watermark creates from 2026-10-09)"},
		{CheckLifeUpload, SeverityFailure, "--lifecycle: the bytes PUT to uploadUrl, without the token, are accepted"},
		{CheckLifeConfirm, SeverityFailure, "--lifecycle: confirm after upload answers the contract"},
		{CheckLifeTransitions, SeverityFailure, "--lifecycle: every status seen follows order.CanMove and the order ends complete or failed"},
		{CheckLifeOutcome, SeverityFailure, "--lifecycle: the test-key outcome of the file name (_ai, _human, _fail, _detected, _undetected, defaults)"},
		{CheckLifeDownload, SeverityFailure, "--lifecycle: download where the type allows it, its documented error where not"},
		{CheckLifeIdempotency, SeverityFailure, "--lifecycle: the same idempotencyKey gives the same order"},
		{CheckLifeMisuse, SeverityFailure, "--lifecycle: confirm before upload, twice, for another type; refresh-urls on a non-pending order; download too early: each its documented error"},
		{CheckLifeWebhook, SeverityFailure, "--lifecycle with --webhook-listen: a temporary webhook receives each terminal event, correctly signed"},
		{CheckUnknownField, SeverityWarning, "no field that neither openapi.yaml nor any order type knows"},
		{CheckDriftExtract, SeverityWarning, "watermarkExtract status detected/undetected, as the watermark-extract quickstart shows"},
		{CheckDriftNestedAI, SeverityWarning, "a nested aiDetection result object, as the create AI detection order page shows"},
		{CheckDriftNotFoundCode, SeverityWarning, "404 RESOURCE_NOT_FOUND, as the published spec's example shows"},
		{CheckDriftRateLimit, SeverityWarning, "429 USAGE_LIMIT_EXCEEDED, as the published spec's create endpoints show"},
	}
}

// checkInfo returns the description of the named check.
func checkInfo(name string) CheckInfo {
	for _, c := range Checks() {
		if c.Name == name {
			return c
		}
	}
	return CheckInfo{Name: name, Severity: SeverityFailure}
}

// Documentation pages that drift warnings name (facts §8).
const (
	docGetOrder       = "https://docs.bizmori.com/api-reference/orders/get-order"
	docExtractStart   = "https://docs.bizmori.com/quickstart/watermark-extract"
	docAIDetectCreate = "https://docs.bizmori.com/api-reference/ai-detection/create-order"
	docAIDetectStart  = "https://docs.bizmori.com/quickstart/ai-detection"
	docErrors         = "https://docs.bizmori.com/errors"
	docAuthentication = "https://docs.bizmori.com/authentication"
	docAntiAICreate   = "https://docs.bizmori.com/api-reference/anti-ai/create-order"
)
