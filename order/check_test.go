package order_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

const reqID = "1234567890123456789"

type edit func(m map[string]any)

func set(k string, v any) edit { return func(m map[string]any) { m[k] = v } }
func del(k string) edit        { return func(m map[string]any) { delete(m, k) } }
func ts(t time.Time) string    { return t.UTC().Format(order.TimeLayout) }

// band sets an aiDetection result.
func band(p float64, code order.StatusCode) edit {
	return func(m map[string]any) { m["probability"] = p; m["statusCode"] = string(code) }
}

// opts sets aiDetection options.
func opts(heatmap, overlay, thumbnail bool) edit {
	return set("options", map[string]any{"generateHeatmap": heatmap, "generateOverlay": overlay, "generateThumbnail": thumbnail})
}

type checkRow struct {
	name   string
	typ    order.Type
	status order.Status
	edits  []edit
	raw    string              // the data value as raw JSON, instead of a sample
	opts   *order.CheckOptions // default: the requested id and now
	rules  []string            // the set of rules that must fire, sorted; nil for none
	paths  []string            // the set of paths they name, sorted, relative to data ("$...")
}

func (r checkRow) data(tb testing.TB) []byte {
	tb.Helper()
	if r.raw != "" {
		return []byte(r.raw)
	}
	m := sampleMap(tb, r.typ, r.status)
	for _, e := range r.edits {
		e(m)
	}
	return mustJSON(tb, m)
}

func (r checkRow) checkOptions() order.CheckOptions {
	if r.opts != nil {
		return *r.opts
	}
	return order.CheckOptions{OrderID: reqID, Now: now}
}

func ruleSet(vs []order.Violation, prefix string) (rules, paths []string) {
	seenR, seenP := map[string]bool{}, map[string]bool{}
	for _, v := range vs {
		if !seenR[v.Rule] {
			seenR[v.Rule] = true
			rules = append(rules, v.Rule)
		}
		p := v.Path
		if strings.HasPrefix(p, prefix) {
			p = "$" + p[len(prefix):]
		}
		if !seenP[p] {
			seenP[p] = true
			paths = append(paths, p)
		}
	}
	sort.Strings(rules)
	sort.Strings(paths)
	return rules, paths
}

func checkRows() []checkRow {
	var rows []checkRow
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			rows = append(rows, checkRow{name: fmt.Sprintf("valid %s %s", typ, st), typ: typ, status: st})
		}
	}
	ai, ext, emb, anti := order.AIDetection, order.WatermarkExtract, order.WatermarkEmbed, order.AntiAI
	cplt, pend, inpr, fail, expd := order.Complete, order.Pending, order.InProgress, order.Failed, order.Expired
	sevenDaysAgo := now.Add(-order.ExpiresAfter)
	rows = append(rows, []checkRow{
		// Valid boundaries.
		{name: "valid p=0 likely_real", typ: ai, status: cplt, edits: []edit{band(0, order.LikelyReal)}},
		{name: "valid p=0.2499999 likely_real", typ: ai, status: cplt, edits: []edit{band(0.2499999, order.LikelyReal)}},
		{name: "valid p=0.25 uncertain_real", typ: ai, status: cplt, edits: []edit{band(0.25, order.UncertainReal)}},
		{name: "valid p=0.4999999 uncertain_real", typ: ai, status: cplt, edits: []edit{band(0.4999999, order.UncertainReal)}},
		{name: "valid p=0.5 uncertain_ai", typ: ai, status: cplt, edits: []edit{band(0.5, order.UncertainAI)}},
		{name: "valid p=0.7499999 uncertain_ai", typ: ai, status: cplt, edits: []edit{band(0.7499999, order.UncertainAI)}},
		{name: "valid p=0.75 likely_ai", typ: ai, status: cplt, edits: []edit{band(0.75, order.LikelyAI)}},
		{name: "valid p=1 likely_ai", typ: ai, status: cplt, edits: []edit{band(1, order.LikelyAI)}},
		{name: "valid updatedAt equals createdAt", typ: anti, status: cplt, edits: []edit{set("updatedAt", ts(created))}},
		{name: "valid expired exactly 7 days", typ: anti, status: expd, edits: []edit{set("createdAt", ts(sevenDaysAgo)), set("updatedAt", ts(sevenDaysAgo))}},
		{name: "valid extract undetected", typ: ext, status: cplt, edits: []edit{set("statusCode", "undetected"), set("watermarkText", nil)}},
		{name: "valid ai complete no options asked", typ: ai, status: cplt, edits: []edit{opts(false, false, false), set("thumbnailImageUrl", nil), set("heatmapUrl", nil), set("overlayUrl", nil)}},
		{name: "valid ai complete options null", typ: ai, status: cplt, edits: []edit{set("options", nil), set("thumbnailImageUrl", nil), set("heatmapUrl", nil), set("overlayUrl", nil)}},
		{name: "valid ai complete heatmap only", typ: ai, status: cplt, edits: []edit{opts(true, false, false), set("thumbnailImageUrl", nil), set("overlayUrl", nil)}},
		{name: "valid expired ai result stays", typ: ai, status: expd, edits: []edit{band(0.5, order.UncertainAI)}},
		{name: "valid no echo requested", typ: anti, status: cplt, edits: []edit{set("orderId", "42")}, opts: &order.CheckOptions{Now: now}},
		{name: "valid expired young without clock", typ: anti, status: expd, edits: []edit{set("createdAt", ts(now)), set("updatedAt", ts(now))}, opts: &order.CheckOptions{OrderID: reqID}},

		// envelope
		{name: "envelope: data is an array", raw: `[]`, rules: []string{order.RuleEnvelope}, paths: []string{"$"}},
		{name: "envelope: data is null", raw: `null`, rules: []string{order.RuleEnvelope}, paths: []string{"$"}},
		{name: "envelope: data is a string", raw: `"x"`, rules: []string{order.RuleEnvelope}, paths: []string{"$"}},
		{name: "envelope: not JSON", raw: `{"type":`, rules: []string{order.RuleEnvelope}, paths: []string{"$"}},
		// field_type
		{name: "field_type: fileCount string", typ: anti, status: cplt, edits: []edit{set("fileCount", "3")}, rules: []string{order.RuleFieldType}, paths: []string{"$.fileCount"}},
		{name: "field_type: fileCount fraction", typ: anti, status: cplt, edits: []edit{set("fileCount", 1.5)}, rules: []string{order.RuleFieldType}, paths: []string{"$.fileCount"}},
		{name: "field_type: orderId number", typ: anti, status: cplt, edits: []edit{set("orderId", json.Number(reqID))}, rules: []string{order.RuleFieldType}, paths: []string{"$.orderId"}},
		{name: "field_type: watermarks null", typ: emb, status: cplt, edits: []edit{set("watermarks", nil)}, rules: []string{order.RuleFieldType}, paths: []string{"$.watermarks"}},
		{name: "field_type: probability string", typ: ai, status: expd, edits: []edit{set("probability", "0.13")}, rules: []string{order.RuleFieldType}, paths: []string{"$.probability"}},
		{name: "field_type: an option that is not a boolean", typ: ai, status: pend, edits: []edit{set("options", map[string]any{"generateHeatmap": "yes"})}, rules: []string{order.RuleFieldType}, paths: []string{"$.options"}},
		{name: "field_type: createdAt number", typ: anti, status: cplt, edits: []edit{set("createdAt", 1773309600000)}, rules: []string{order.RuleFieldType}, paths: []string{"$.createdAt"}},
		{name: "field_type: type null", typ: anti, status: cplt, edits: []edit{set("type", nil)}, rules: []string{order.RuleFieldType}, paths: []string{"$.type"}},
		// order_type
		{name: "order_type: antiAI", typ: anti, status: cplt, edits: []edit{set("type", "antiAI")}, rules: []string{order.RuleOrderType}, paths: []string{"$.type"}},
		{name: "order_type: absent", typ: anti, status: cplt, edits: []edit{del("type")}, rules: []string{order.RuleOrderType}, paths: []string{"$.type"}},
		// field_not_for_type
		{name: "field_not_for_type: statusCode null on antiAi", typ: anti, status: cplt, edits: []edit{set("statusCode", nil)}, rules: []string{order.RuleFieldNotForType}, paths: []string{"$.statusCode"}},
		{name: "field_not_for_type: watermarks on extract", typ: ext, status: cplt, edits: []edit{set("watermarks", []string{"MORI-WTR-001"})}, rules: []string{order.RuleFieldNotForType}, paths: []string{"$.watermarks"}},
		{name: "field_not_for_type: originalImageUrl on embed", typ: emb, status: pend, edits: []edit{set("originalImageUrl", nil)}, rules: []string{order.RuleFieldNotForType}, paths: []string{"$.originalImageUrl"}},
		// unknown_field
		{name: "unknown_field: extra", typ: anti, status: cplt, edits: []edit{set("extra", 1)}, rules: []string{order.RuleUnknownField}, paths: []string{"$.extra"}},
		{name: "unknown_field: nested aiDetection", typ: ai, status: pend, edits: []edit{set("aiDetection", map[string]any{"probability": 0.97, "statusCode": 1})}, rules: []string{order.RuleUnknownField}, paths: []string{"$.aiDetection"}},
		// field_missing
		{name: "field_missing: errors", typ: anti, status: cplt, edits: []edit{del("errors")}, rules: []string{order.RuleFieldMissing}, paths: []string{"$.errors"}},
		{name: "field_missing: options on ai", typ: ai, status: pend, edits: []edit{del("options")}, rules: []string{order.RuleFieldMissing}, paths: []string{"$.options"}},
		// order_id
		{name: "order_id: letters", typ: anti, status: cplt, edits: []edit{set("orderId", "12a")}, rules: []string{order.RuleOrderID}, paths: []string{"$.orderId"}},
		{name: "order_id: empty", typ: anti, status: cplt, edits: []edit{set("orderId", "")}, rules: []string{order.RuleOrderID}, paths: []string{"$.orderId"}},
		{name: "order_id: 21 digits", typ: anti, status: cplt, edits: []edit{set("orderId", "123456789012345678901")}, rules: []string{order.RuleOrderID}, paths: []string{"$.orderId"}},
		// order_id_echo
		{name: "order_id_echo: other id", typ: anti, status: cplt, edits: []edit{set("orderId", "1234567890123456788")}, rules: []string{order.RuleOrderIDEcho}, paths: []string{"$.orderId"}},
		{name: "order_id_echo: leading zero", typ: anti, status: cplt, edits: []edit{set("orderId", "01234567890123456789")}, rules: []string{order.RuleOrderIDEcho}, paths: []string{"$.orderId"}},
		// order_status
		{name: "order_status: detected", typ: ext, status: cplt, edits: []edit{set("status", "detected")}, rules: []string{order.RuleOrderStatus}, paths: []string{"$.status"}},
		{name: "order_status: Complete", typ: anti, status: cplt, edits: []edit{set("status", "Complete")}, rules: []string{order.RuleOrderStatus}, paths: []string{"$.status"}},
		// timestamp_format
		{name: "timestamp_format: no millis", typ: anti, status: cplt, edits: []edit{set("createdAt", "2026-03-12T10:00:00Z")}, rules: []string{order.RuleTimestamp}, paths: []string{"$.createdAt"}},
		{name: "timestamp_format: offset", typ: anti, status: cplt, edits: []edit{set("updatedAt", "2026-03-12T19:05:00.000+09:00")}, rules: []string{order.RuleTimestamp}, paths: []string{"$.updatedAt"}},
		{name: "timestamp_format: space", typ: anti, status: cplt, edits: []edit{set("updatedAt", "2026-03-12 10:05:00.000Z")}, rules: []string{order.RuleTimestamp}, paths: []string{"$.updatedAt"}},
		{name: "timestamp_format: micros", typ: anti, status: cplt, edits: []edit{set("updatedAt", "2026-03-12T10:05:00.000000Z")}, rules: []string{order.RuleTimestamp}, paths: []string{"$.updatedAt"}},
		// updated_before_created
		{name: "updated_before_created: 1ms", typ: anti, status: cplt, edits: []edit{set("updatedAt", ts(created.Add(-time.Millisecond)))}, rules: []string{order.RuleUpdatedBefore}, paths: []string{"$.updatedAt"}},
		// file_count
		{name: "file_count: 0", typ: anti, status: cplt, edits: []edit{set("fileCount", 0)}, rules: []string{order.RuleFileCount}, paths: []string{"$.fileCount"}},
		{name: "file_count: 2 on aiDetection", typ: ai, status: cplt, edits: []edit{set("fileCount", 2)}, rules: []string{order.RuleFileCount}, paths: []string{"$.fileCount"}},
		{name: "file_count: 2 on watermarkExtract", typ: ext, status: cplt, edits: []edit{set("fileCount", 2)}, rules: []string{order.RuleFileCount}, paths: []string{"$.fileCount"}},
		// errors_when_failed
		{name: "errors_when_failed: failed null", typ: anti, status: fail, edits: []edit{set("errors", nil)}, rules: []string{order.RuleErrorsWhenFailed}, paths: []string{"$.errors"}},
		{name: "errors_when_failed: failed blank", typ: anti, status: fail, edits: []edit{set("errors", " ")}, rules: []string{order.RuleErrorsWhenFailed}, paths: []string{"$.errors"}},
		{name: "errors_when_failed: complete with message", typ: anti, status: cplt, edits: []edit{set("errors", "boom")}, rules: []string{order.RuleErrorsWhenFailed}, paths: []string{"$.errors"}},
		// result_missing
		{name: "result_missing: extract", typ: ext, status: cplt, edits: []edit{set("statusCode", nil), set("watermarkText", nil)}, rules: []string{order.RuleResultMissing}, paths: []string{"$.statusCode"}},
		{name: "result_missing: ai", typ: ai, status: cplt, edits: []edit{set("statusCode", nil), set("probability", nil)}, rules: []string{order.RuleResultMissing}, paths: []string{"$.statusCode"}},
		// result_too_early
		{name: "result_too_early: pending extract", typ: ext, status: pend, edits: []edit{set("statusCode", "undetected")}, rules: []string{order.RuleResultTooEarly}, paths: []string{"$.statusCode"}},
		{name: "result_too_early: inProgress ai", typ: ai, status: inpr, edits: []edit{band(0.3, order.UncertainReal)}, rules: []string{order.RuleResultTooEarly}, paths: []string{"$.statusCode"}},
		{name: "result_too_early: failed extract", typ: ext, status: fail, edits: []edit{set("statusCode", "detected"), set("watermarkText", "MORI-WTR-001")}, rules: []string{order.RuleResultTooEarly}, paths: []string{"$.statusCode"}},
		// probability_range
		{name: "probability_range: 1.5", typ: ai, status: cplt, edits: []edit{band(1.5, order.LikelyAI)}, rules: []string{order.RuleProbabilityRange}, paths: []string{"$.probability"}},
		{name: "probability_range: -0.1", typ: ai, status: cplt, edits: []edit{band(-0.1, order.LikelyReal)}, rules: []string{order.RuleProbabilityRange}, paths: []string{"$.probability"}},
		// probability_band, at each boundary with the band below
		{name: "probability_band: 0.25 likely_real", typ: ai, status: cplt, edits: []edit{band(0.25, order.LikelyReal)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		{name: "probability_band: 0.5 uncertain_real", typ: ai, status: cplt, edits: []edit{band(0.5, order.UncertainReal)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		{name: "probability_band: 0.75 uncertain_ai", typ: ai, status: cplt, edits: []edit{band(0.75, order.UncertainAI)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		{name: "probability_band: 0.2499999 uncertain_real", typ: ai, status: cplt, edits: []edit{band(0.2499999, order.UncertainReal)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		{name: "probability_band: 0.92 likely_real", typ: ai, status: cplt, edits: []edit{band(0.92, order.LikelyReal)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		{name: "probability_band: statusCode without probability", typ: ai, status: cplt, edits: []edit{set("probability", nil)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		{name: "probability_band: probability without statusCode", typ: ai, status: expd, edits: []edit{set("statusCode", nil)}, rules: []string{order.RuleProbabilityBand}, paths: []string{"$.statusCode"}},
		// status_code_for_type
		{name: "status_code_for_type: AI code on extract", typ: ext, status: cplt, edits: []edit{set("statusCode", "likely_ai"), set("watermarkText", nil)}, rules: []string{order.RuleStatusCodeForType}, paths: []string{"$.statusCode"}},
		{name: "status_code_for_type: detected on ai", typ: ai, status: cplt, edits: []edit{set("statusCode", "detected")}, rules: []string{order.RuleStatusCodeForType}, paths: []string{"$.statusCode"}},
		{name: "status_code_for_type: integer code on ai is a type error", typ: ai, status: cplt, edits: []edit{set("statusCode", 1)}, rules: []string{order.RuleFieldType}, paths: []string{"$.statusCode"}},
		// watermark_extract_agreement
		{name: "watermark_extract_agreement: detected without text", typ: ext, status: cplt, edits: []edit{set("watermarkText", nil)}, rules: []string{order.RuleExtractAgreement}, paths: []string{"$.watermarkText"}},
		{name: "watermark_extract_agreement: undetected with text", typ: ext, status: cplt, edits: []edit{set("statusCode", "undetected")}, rules: []string{order.RuleExtractAgreement}, paths: []string{"$.watermarkText"}},
		{name: "watermark_extract_agreement: detected blank text", typ: ext, status: cplt, edits: []edit{set("watermarkText", " ")}, rules: []string{order.RuleExtractAgreement}, paths: []string{"$.watermarkText"}},
		// watermarks
		{name: "watermarks: empty list", typ: emb, status: cplt, edits: []edit{set("watermarks", []string{})}, rules: []string{order.RuleWatermarks}, paths: []string{"$.watermarks"}},
		{name: "watermarks: empty text", typ: emb, status: cplt, edits: []edit{set("watermarks", []string{"MORI-WTR-001", ""})}, rules: []string{order.RuleWatermarks}, paths: []string{"$.watermarks[1]"}},
		// pending_urls_null
		{name: "pending_urls_null: thumbnail", typ: anti, status: pend, edits: []edit{set("thumbnailImageUrl", *url("t.jpg"))}, rules: []string{order.RulePendingURLs}, paths: []string{"$.thumbnailImageUrl"}},
		{name: "pending_urls_null: ai original and heatmap", typ: ai, status: pend, edits: []edit{set("originalImageUrl", *url("o.jpg")), set("heatmapUrl", *url("h.png"))}, rules: []string{order.RulePendingURLs}, paths: []string{"$.heatmapUrl", "$.originalImageUrl"}},
		// expired_urls_null
		{name: "expired_urls_null: ai original", typ: ai, status: expd, edits: []edit{set("originalImageUrl", *url("o.jpg"))}, rules: []string{order.RuleExpiredURLs}, paths: []string{"$.originalImageUrl"}},
		{name: "expired_urls_null: embed thumbnail", typ: emb, status: expd, edits: []edit{set("thumbnailImageUrl", *url("t.jpg"))}, rules: []string{order.RuleExpiredURLs}, paths: []string{"$.thumbnailImageUrl"}},
		// expired_age
		{name: "expired_age: 7 days minus 1ms", typ: anti, status: expd, edits: []edit{set("createdAt", ts(sevenDaysAgo.Add(time.Millisecond))), set("updatedAt", ts(sevenDaysAgo.Add(time.Millisecond)))}, rules: []string{order.RuleExpiredAge}, paths: []string{"$.createdAt"}},
		{name: "expired_age: created now", typ: anti, status: expd, edits: []edit{set("createdAt", ts(now)), set("updatedAt", ts(now))}, rules: []string{order.RuleExpiredAge}, paths: []string{"$.createdAt"}},
		// ai_outputs_match_options
		{name: "ai_outputs_match_options: asked heatmap missing", typ: ai, status: cplt, edits: []edit{set("heatmapUrl", nil)}, rules: []string{order.RuleAIOutputsByOptions}, paths: []string{"$.heatmapUrl"}},
		{name: "ai_outputs_match_options: overlay not asked", typ: ai, status: cplt, edits: []edit{opts(true, false, true)}, rules: []string{order.RuleAIOutputsByOptions}, paths: []string{"$.overlayUrl"}},
		{name: "ai_outputs_match_options: heatmap before complete", typ: ai, status: inpr, edits: []edit{set("heatmapUrl", *url("h.png"))}, rules: []string{order.RuleAIOutputsByOptions}, paths: []string{"$.heatmapUrl"}},
		{name: "ai_outputs_match_options: thumbnail not asked on failed", typ: ai, status: fail, edits: []edit{opts(false, false, false), set("thumbnailImageUrl", *url("t.jpg"))}, rules: []string{order.RuleAIOutputsByOptions}, paths: []string{"$.thumbnailImageUrl"}},
		{name: "ai_outputs_match_options: options null but urls", typ: ai, status: cplt, edits: []edit{set("options", nil)}, rules: []string{order.RuleAIOutputsByOptions}, paths: []string{"$.heatmapUrl", "$.overlayUrl", "$.thumbnailImageUrl"}},
	}...)
	return rows
}

func TestCheckJSON(t *testing.T) {
	covered := map[string]bool{}
	for _, tt := range checkRows() {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			rules, paths := ruleSet(order.CheckJSON(data, tt.checkOptions()), "$")
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("CheckJSON(%s) rules mismatch (-want +got):\n%s\n%v", data, diff, order.CheckJSON(data, tt.checkOptions()))
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("CheckJSON(%s) paths mismatch (-want +got):\n%s", data, diff)
			}
			if len(tt.rules) == 1 && len(rules) == 1 && rules[0] == tt.rules[0] {
				covered[rules[0]] = true
			}

			// The same order as a 200 body reports the same rules, under $.data.
			body := append(append([]byte(`{"data":`), data...), '}')
			rules, paths = ruleSet(order.CheckResponse(body, tt.checkOptions()), "$.data")
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("CheckResponse(%s) rules mismatch (-want +got):\n%s", body, diff)
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("CheckResponse(%s) paths mismatch (-want +got):\n%s", body, diff)
			}
		})
	}
	// Every rule has a row in which it alone fires.
	for _, r := range order.Rules() {
		if !covered[r.Name] {
			t.Errorf("no CheckJSON row where only %q fires", r.Name)
		}
	}
}

func TestCheckResponseEnvelope(t *testing.T) {
	valid := string(mustJSON(t, sampleMap(t, order.AntiAI, order.Complete)))
	tests := []struct {
		name  string
		body  string
		rules []string
		paths []string
	}{
		{"valid", `{"data":` + valid + `}`, nil, nil},
		{"not JSON", `<html>`, []string{order.RuleEnvelope}, []string{"$"}},
		{"empty", ``, []string{order.RuleEnvelope}, []string{"$"}},
		{"null", `null`, []string{order.RuleEnvelope}, []string{"$"}},
		{"array", `[` + valid + `]`, []string{order.RuleEnvelope}, []string{"$"}},
		{"no envelope", valid, []string{order.RuleEnvelope}, []string{"$.createdAt", "$.data", "$.errors", "$.fileCount", "$.orderId", "$.orderName", "$.status", "$.thumbnailImageUrl", "$.type", "$.updatedAt", "$.channel"}},
		{"no data", `{}`, []string{order.RuleEnvelope}, []string{"$.data"}},
		{"data null", `{"data":null}`, []string{order.RuleEnvelope}, []string{"$.data"}},
		{"extra key", `{"data":` + valid + `,"meta":{}}`, []string{order.RuleEnvelope}, []string{"$.meta"}},
		{"error body", `{"code":"ORDER_NOT_FOUND"}`, []string{order.RuleEnvelope}, []string{"$.code", "$.data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := order.CheckResponse([]byte(tt.body), order.CheckOptions{OrderID: reqID, Now: now})
			rules, paths := ruleSet(vs, "$")
			sort.Strings(tt.paths)
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("CheckResponse(%q) rules mismatch (-want +got):\n%s", tt.body, diff)
			}
			if diff := cmp.Diff(tt.paths, paths); diff != "" {
				t.Errorf("CheckResponse(%q) paths mismatch (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// TestCheck runs the struct entry point over every sample; it must agree with the
// encoding the mock sends.
func TestCheck(t *testing.T) {
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			t.Run(fmt.Sprintf("%s %s", typ, st), func(t *testing.T) {
				o := sample(typ, st)
				if vs := order.Check(&o, order.CheckOptions{OrderID: reqID, Now: now}); len(vs) > 0 {
					t.Errorf("Check(%s %s) = %v; want none", typ, st, vs)
				}
			})
		}
	}
	o := sample(order.AIDetection, order.Complete)
	o.Probability = ptr(0.5)
	vs := order.Check(&o, order.CheckOptions{})
	rules, _ := ruleSet(vs, "$")
	if diff := cmp.Diff([]string{order.RuleProbabilityBand}, rules); diff != "" {
		t.Errorf("Check(p=0.5, likely_ai) rules mismatch (-want +got):\n%s", diff)
	}
}

func TestViolationString(t *testing.T) {
	v := order.Violation{Rule: order.RuleProbabilityBand, Path: "$.data.statusCode", Message: "probability 0.5 falls in the uncertain_ai band", Want: `"uncertain_ai"`, Got: `"likely_ai"`}
	want := `probability_band at $.data.statusCode: probability 0.5 falls in the uncertain_ai band (want "uncertain_ai", got "likely_ai")`
	if got := v.String(); got != want {
		t.Errorf("Violation.String() = %q; want %q", got, want)
	}
}
