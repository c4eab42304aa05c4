package order

// Rule names are stable: reports, fixtures (fixtures/invalid/<rule>.json) and users'
// CI configurations refer to them.
const (
	RuleEnvelope           = "envelope"
	RuleFieldType          = "field_type"
	RuleOrderType          = "order_type"
	RuleFieldNotForType    = "field_not_for_type"
	RuleUnknownField       = "unknown_field"
	RuleFieldMissing       = "field_missing"
	RuleOrderID            = "order_id"
	RuleOrderIDEcho        = "order_id_echo"
	RuleOrderStatus        = "order_status"
	RuleTimestamp          = "timestamp_format"
	RuleUpdatedBefore      = "updated_before_created"
	RuleFileCount          = "file_count"
	RuleErrorsWhenFailed   = "errors_when_failed"
	RuleResultMissing      = "result_missing"
	RuleResultTooEarly     = "result_too_early"
	RuleProbabilityRange   = "probability_range"
	RuleProbabilityBand    = "probability_band"
	RuleStatusCodeForType  = "status_code_for_type"
	RuleExtractAgreement   = "watermark_extract_agreement"
	RuleWatermarks         = "watermarks"
	RulePendingURLs        = "pending_urls_null"
	RuleExpiredURLs        = "expired_urls_null"
	RuleExpiredAge         = "expired_age"
	RuleAIOutputsByOptions = "ai_outputs_match_options"
)

// Rule describes one domain rule.
type Rule struct {
	Name        string
	Description string
}

// Rules returns every rule Check applies, with what it asks of an order.
func Rules() []Rule {
	return []Rule{
		{RuleEnvelope, `the body is {"data": {...}} with an order object in data`},
		{RuleFieldType, "each known field has its JSON type (string, number, array, object or null where nullable)"},
		{RuleOrderType, "type is antiAi, watermarkEmbed, watermarkExtract or aiDetection"},
		{RuleFieldNotForType, "no field of another order type is sent, not even as null (e.g. no statusCode on antiAi)"},
		{RuleUnknownField, "no field outside the contract is sent"},
		{RuleFieldMissing, "every field of the order's type is sent (as null when it has no value)"},
		{RuleOrderID, "orderId is a string of 1 to 20 decimal digits"},
		{RuleOrderIDEcho, "orderId is the id that was requested, exactly"},
		{RuleOrderStatus, "status is pending, inProgress, complete, failed or expired"},
		{RuleTimestamp, "createdAt and updatedAt are UTC with milliseconds: 2026-03-12T10:00:00.000Z"},
		{RuleUpdatedBefore, "updatedAt is not before createdAt"},
		{RuleFileCount, "fileCount is at least 1, and exactly 1 for watermarkExtract and aiDetection"},
		{RuleErrorsWhenFailed, "errors is a non-empty message exactly when status is failed, null otherwise"},
		{RuleResultMissing, "a complete watermarkExtract or aiDetection order has its result (statusCode, probability)"},
		{RuleResultTooEarly, "a pending, inProgress or failed order has no result yet"},
		{RuleProbabilityRange, "probability is between 0 and 1"},
		{RuleProbabilityBand, "aiDetection statusCode is the band of probability: likely_real < 0.25 <= uncertain_real < 0.5 <= uncertain_ai < 0.75 <= likely_ai, and both are null together"},
		{RuleStatusCodeForType, "statusCode is detected/undetected on watermarkExtract and one of the four AI bands on aiDetection"},
		{RuleExtractAgreement, "watermarkText is set exactly when statusCode is detected"},
		{RuleWatermarks, "a watermarkEmbed order lists at least one non-empty watermark text"},
		{RulePendingURLs, "a pending order has nothing uploaded: every URL is null"},
		{RuleExpiredURLs, "an expired order's presigned URLs are all null"},
		{RuleExpiredAge, "an expired order was created at least 7 days before the response"},
		{RuleAIOutputsByOptions, "aiDetection thumbnail, heatmap and overlay URLs are set on a complete order exactly when options asked for them, and never when not asked"},
	}
}
