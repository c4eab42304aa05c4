package contract

import (
	"encoding/json"
	"strings"

	"github.com/morimock/morimock/order"
)

// BasisKind says what a rule rests on.
type BasisKind string

// The two kinds of basis. A documented rule broken is a failure; an inferred one (our
// reading where the docs are silent) is a warning, except against the sandbox or with
// Config.Strict, which keep every rule strict.
const (
	Documented BasisKind = "documented"
	Inferred   BasisKind = "inferred"
)

// Basis is where a rule comes from: the kind, and the page, spec or section of the fact
// sheet (docs/bizmori-api-facts) it cites, or the reading it makes.
type Basis struct {
	Kind   BasisKind `json:"kind"`
	Source string    `json:"source"`
}

// RuleBasis is one rule the suite applies, with its basis: the report lists them all so
// that a reader knows what each failure rests on.
type RuleBasis struct {
	Rule        string `json:"rule"`
	Check       string `json:"check"`
	Description string `json:"description"`
	Basis
}

func doc(source string) Basis   { return Basis{Documented, source} }
func guess(source string) Basis { return Basis{Inferred, source} }

// Sources cited by the rules.
const (
	srcGetOrder   = "get-order page and spec OrderDetail (facts §2.1): " + docGetOrder
	srcStatusCode = "statusCode rules, spec and AI detection quickstart (facts §2.2): " + docGetOrder
	srcEnvelope   = "spec BaseResponse {\"data\": ...} (facts §1)"
	srcErrors     = "errors page (facts §4.3): " + docErrors
	srcLifecycle  = "order lifecycle and quickstarts (facts §6.1)"
	srcTestKeys   = "test API keys page (facts §11): https://docs.bizmori.com/test-api-keys"
	srcIdem       = "authentication page, idempotency (facts §6.3): " + docAuthentication
	srcWebhooks   = "webhooks guide, X-MoriBiz-Signature (facts §5, §11): https://docs.bizmori.com/webhooks"
	srcList       = "spec listOrders: newest first, page/limit, pageInfo (facts §3 row 8)"
	srcSunset     = "spec at 62631d22: v2 watermark sunset 2026-10-09 (facts §11)"
	srcSpec       = "openapi.yaml, following the vendor's spec (facts §3)"
)

// ruleBases is every rule the suite applies and its basis, in report order.
func ruleBases() []RuleBasis {
	dom := func(name string, b Basis) RuleBasis {
		return RuleBasis{Rule: name, Check: CheckDomainRules, Description: ruleDescription(name), Basis: b}
	}
	rb := func(rule, check, desc string, b Basis) RuleBasis {
		return RuleBasis{Rule: rule, Check: check, Description: desc, Basis: b}
	}
	return []RuleBasis{
		dom(order.RuleEnvelope, doc(srcEnvelope+"; a key beside data is only a warning: the spec does not close the envelope")),
		dom(order.RuleFieldType, doc(srcGetOrder)),
		dom(order.RuleOrderType, doc(srcGetOrder)),
		dom(order.RuleFieldNotForType, doc(srcGetOrder+` ("Applies to"; statusCode "not returned for other order types"); another field sent as null is only a warning: whether such fields are left out or null is not stated`)),
		dom(order.RuleUnknownField, guess("the docs list the fields but do not say others never come")),
		dom(order.RuleFieldMissing, guess(`the spec marks no field required (facts §2.1); "every field of the type is always present" is our reading. Fields documented as returned only in some cases (aiDetection thumbnailImageUrl, heatmapUrl, overlayUrl, options) may be absent or null`)),
		dom(order.RuleOrderID, doc("orderId is always a string of decimal digits (facts §7); at most 20 digits is a 64-bit id")),
		dom(order.RuleOrderIDEcho, doc(srcGetOrder)),
		dom(order.RuleOrderStatus, doc(srcGetOrder+" (status enum)")),
		dom(order.RuleTimestamp, guess("the examples show exactly three fractional digits and Z (facts §1, §7); the spec says only date-time")),
		dom(order.RuleUpdatedBefore, guess("an update cannot precede the creation; the docs do not say so")),
		dom(order.RuleFileCount, guess("fileCount 1 for single-file types follows from their create requests (facts §3 rows 5, 6); the docs do not say it of fileCount")),
		dom(order.RuleErrorsWhenFailed, doc(srcGetOrder+` ("error message on failure; null otherwise")`)),
		dom(order.RuleResultMissing, guess("that a complete order already carries its result is our reading of what complete means")),
		dom(order.RuleResultTooEarly, guess("that an unfinished order has no result is our reading of the lifecycle")),
		dom(order.RuleProbabilityRange, doc(srcGetOrder+" (probability 0-1)")),
		dom(order.RuleProbabilityBand, doc(srcStatusCode)),
		dom(order.RuleStatusCodeForType, doc(srcStatusCode)),
		dom(order.RuleExtractAgreement, doc(srcGetOrder+` (watermarkText "null when nothing was detected")`)),
		dom(order.RuleWatermarks, doc("wtr-embed create takes 1 to 10 watermark texts (facts §3 row 4, §11)")),
		dom(order.RulePendingURLs, guess("that a pending order's URLs are null is our reading of what pending means")),
		dom(order.RuleExpiredURLs, doc(srcGetOrder+` (URLs "null when expired"); for heatmapUrl and overlayUrl only a warning: the docs give them no expiry (facts §6.2)`)),
		dom(order.RuleExpiredAge, doc(srcLifecycle+": expired 7 days after creation")),
		dom(order.RuleAIOutputsByOptions, doc(srcGetOrder+` (heatmapUrl, overlayUrl, thumbnailImageUrl "returned when the option is used"); absent or null output is allowed against the live API`)),
		rb("schema_type", CheckResponseSchema, "each value has the type openapi.yaml declares (and null only where nullable)", doc(srcSpec)),
		rb("schema_enum", CheckResponseSchema, "each enum value is one the spec lists", doc(srcSpec)),
		rb("schema_format", CheckResponseSchema, "date-time and uri formats", doc(srcSpec)),
		rb("schema_required", CheckResponseSchema, "the required lists of openapi.yaml", guess("the required lists are our reading: the vendor's spec marks few fields required (no OrderDetail field, facts §2.1), and fields documented as conditional may be absent")),
		rb("schema_additionalProperties", CheckResponseSchema, "no property outside openapi.yaml", guess("the vendor's spec does not close its objects")),
		rb("schema_pattern", CheckResponseSchema, "orderId digits; timestamps with exactly three fractional digits", guess("patterns are our reading of the examples (facts §7)")),
		rb("schema_minLength", CheckResponseSchema, "a failure message is not empty; names within their bounds", guess("the spec gives no minimum length")),
		rb("schema_maximum", CheckResponseSchema, "fileCount at most 100, and 1 for single-file types", guess("1 for single-file types is our reading (facts §3 rows 5, 6)")),
		rb("schema_other", CheckResponseSchema, "every other constraint of openapi.yaml (oneOf, discriminator, minimum, ...)", doc(srcSpec)),
		rb("answer_limits", CheckResponseSchema, "an answer is small enough to validate (the suite's own bound)", guess("the docs set no size; the bound keeps the suite safe from a hostile answer, and what it does not validate it reports")),
		rb("error_code", CheckNotFound, "an unknown order answers 404 ORDER_NOT_FOUND", doc(srcErrors)),
		rb("content_type", CheckContentType, "every answer is JSON", doc("JSON request and response bodies (facts §1)")),
		rb("order_exists", CheckStatusCode, "an order that exists answers 200, a declared status, never 5xx", doc(srcSpec)),
		rb(CheckListOrders, CheckListOrders, "list items match the list schema and GET order; filters, pageInfo, newest first", doc(srcList)),
		rb(CheckDownload, CheckDownload, "download of a complete order answers downloadUrl and expiresIn; the URL answers a GET without credentials", doc("spec downloadOrder (facts §3 row 11, §6.1)")),
		rb(CheckStats, CheckStats, "usage stats answer the documented shape", doc("spec getRecentStats (facts §3 row 9)")),
		rb(CheckWebhooksRead, CheckWebhooksRead, "webhook list and events answer the documented shape", doc("spec webhooks (facts §3 rows 13-15)")),
		rb(CheckLifeCreate, CheckLifeCreate, "create answers 200 with an order id and upload URLs; the v2 watermark creates answer 410 WATERMARK_V2_API_SUNSET from 2026-10-09", doc(srcSpec+"; "+srcSunset)),
		rb(CheckLifeUpload, CheckLifeUpload, "PUT of the bytes to uploadUrl, without Authorization, answers 2xx", doc("quickstarts: presigned PUT without Authorization (facts §1, §11)")),
		rb(CheckLifeConfirm, CheckLifeConfirm, "confirm after upload answers 200 (antiAi, aiDetection)", doc(srcLifecycle)),
		rb(CheckLifeTransitions, CheckLifeTransitions, "every observed status follows order.CanMove: pending -> inProgress -> complete | failed, never backwards", doc(srcLifecycle+"; "+srcTestKeys)),
		rb(CheckLifeOutcome, CheckLifeOutcome, "test-key outcomes by file name: _ai 0.98, _human 0.02, _fail, _detected, _undetected, defaults", doc(srcTestKeys)),
		rb(CheckLifeDownload, CheckLifeDownload, "download where the type allows it; 404 PROCESSED_FILE_NOT_FOUND for test orders; 400 ORDER_TYPE_CANT_DOWNLOAD otherwise", doc(srcTestKeys+"; "+srcErrors)),
		rb(CheckLifeIdempotency, CheckLifeIdempotency, "the same idempotencyKey gives the same order", doc(srcIdem)),
		rb(CheckLifeMisuse, CheckLifeMisuse, "misuse answers its documented code: confirm before upload, twice, for another type; refresh-urls on a non-pending order; download too early", doc(srcErrors+"; "+srcLifecycle)),
		rb(CheckLifeWebhook, CheckLifeWebhook, "a test webhook receives each terminal event, signed with hex HMAC-SHA256 of the raw body", doc(srcWebhooks)),
	}
}

// Rules returns every rule the suite applies with its basis.
func Rules() []RuleBasis { return ruleBases() }

// basisOf returns the basis of a finding's rule; rules the table does not name (the
// suite's own limits, a status the contract does not declare) are documented.
func basisOf(check, rule string) Basis {
	for _, rb := range ruleBases() {
		if rb.Rule == rule {
			return rb.Basis
		}
	}
	if strings.HasPrefix(rule, "schema_") {
		for _, rb := range ruleBases() {
			if rb.Rule == "schema_other" {
				return rb.Basis
			}
		}
	}
	for _, rb := range ruleBases() {
		if rb.Rule == check {
			return rb.Basis
		}
	}
	return doc(srcSpec)
}

// conditionalField reports whether the docs say field is returned only in some cases
// for orders of type t: absent and null both keep the contract then.
func conditionalField(t order.Type, field string) bool {
	if t != order.AIDetection {
		return false
	}
	switch field {
	case order.FieldThumbnailImageURL, order.FieldHeatmapURL, order.FieldOverlayURL, order.FieldOptions:
		return true
	}
	return false
}

// orderTypeOf reads data.type of a body, "" when it has none.
func orderTypeOf(body []byte) order.Type {
	var env struct {
		Data struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	return order.Type(env.Data.Type)
}

// excused reports whether a finding is about a conditional field being absent or null,
// which the docs allow: only the sandbox and Strict hold an API to more.
func excused(t order.Type, f Finding) bool {
	field, ok := strings.CutPrefix(f.Path, "$.data.")
	if !ok || !conditionalField(t, field) {
		return false
	}
	switch f.Rule {
	case order.RuleFieldMissing, "schema_required":
		return true
	case order.RuleAIOutputsByOptions:
		return f.Got == "null" // asked for, but not (yet) returned
	}
	return false
}

// judge gives each finding its basis and, unless the run is strict (Config.Strict or
// the sandbox), drops the ones the docs allow. It returns the findings kept and
// whether every one of them is inferred.
func (r *runner) judge(check string, t order.Type, fs []Finding) ([]Finding, bool) {
	strict := r.strict()
	var kept []Finding
	allInferred := len(fs) > 0
	for _, f := range fs {
		if !strict && excused(t, f) {
			continue
		}
		if f.Basis == nil && checkInfo(check).Severity == SeverityFailure {
			b := basisOf(check, f.Rule)
			switch {
			case f.Rule == "schema_maximum" && f.Path != "$.data.fileCount":
				b = basisOf(check, "schema_other")
			case f.Rule == "schema_required" && !strings.HasPrefix(f.Path, "$.data."):
				// The envelopes are documented: {"data": ...} and {"code": "..."}.
				b = doc(srcEnvelope + "; " + srcErrors)
			}
			if why, open := docsLeaveOpen(check, f); open {
				b = guess(why)
			}
			f.Basis = &b
		}
		if f.Basis == nil {
			kept = append(kept, f)
			allInferred = false
			continue
		}
		if f.Basis.Kind != Inferred {
			allInferred = false
		}
		kept = append(kept, f)
	}
	return kept, allInferred && len(kept) > 0
}

// docsLeaveOpen reports whether a finding under a documented rule is about a case the
// docs leave open, and why: the rule then only warns against a live API.
func docsLeaveOpen(check string, f Finding) (string, bool) {
	field := f.Path[strings.LastIndexByte(f.Path, '.')+1:]
	switch {
	case check == CheckStats && f.Rule == "schema_minItems" && f.Path == "$.data.dailyStats":
		return "facts §3 row 9 says \"usage over the last 7 days\"; that each of the seven days comes, those without orders too, is our reading", true
	case check == CheckStats && f.Rule == "schema_type" && (strings.HasPrefix(f.Path, "$.data.domain[") || strings.HasPrefix(f.Path, "$.data.ticks[")):
		return "facts §3 row 9 gives domain and ticks as the chart's axis, numbers with no type or rule; integers are the sandbox's choice", true
	case f.Rule == order.RuleFieldNotForType && f.Got == "null" && field != order.FieldStatusCode:
		return "facts §2.1: whether a field of another order type is left out or sent as null is not stated (only statusCode is \"not returned\"); leaving it out is our reading", true
	case f.Rule == order.RuleExpiredURLs && (field == order.FieldHeatmapURL || field == order.FieldOverlayURL):
		return "facts §6.2: the docs give no expiry for heatmapUrl and overlayUrl; only the thumbnail and original URLs are \"null when expired\"", true
	case f.Rule == order.RuleEnvelope && f.Path != "$" && f.Path != "$.data":
		return "the spec's BaseResponse {\"data\": ...} does not say that nothing else comes beside data", true
	}
	return "", false
}

// strict reports whether inferred rules fail: with Config.Strict, and against the
// sandbox, which is held to its own reading of the docs.
func (r *runner) strict() bool { return r.cfg.Strict || r.report.Mock }

// excuse drops, unless the run is strict, the findings about a conditional field of an
// order of type t that is absent or null.
func (r *runner) excuse(t order.Type, fs []Finding) []Finding {
	if r.strict() {
		return fs
	}
	kept := fs[:0:0]
	for _, f := range fs {
		if !excused(t, f) {
			kept = append(kept, f)
		}
	}
	return kept
}
