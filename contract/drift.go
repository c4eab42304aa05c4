package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/morimock/morimock/order"
)

// drift is something an answer does that the contract refuses but that a page of
// the docs shows (facts §8), or a field nobody documents. It is reported as a
// warning under its own check, and it claims the paths where the schema and the
// domain rules would otherwise fail for the same thing.
type drift struct {
	check   string
	finding Finding
	claims  func(path string) bool
}

func atPath(want string) func(string) bool {
	return func(path string) bool { return path == want }
}

// claimed reports whether a drift explains the problem at path.
func claimed(drifts []drift, path string) bool {
	for _, d := range drifts {
		if d.claims(path) {
			return true
		}
	}
	return false
}

// recognizeDrifts finds the documented contradictions and unknown fields in an answer.
func recognizeDrifts(status int, body []byte) []drift {
	switch status {
	case http.StatusOK:
		return orderDrifts(body)
	case http.StatusNotFound:
		if errorCode(body) == "RESOURCE_NOT_FOUND" {
			return []drift{{
				check: CheckDriftNotFoundCode,
				finding: Finding{
					Rule: "error_code", Path: "$.code",
					Message: "404 answers RESOURCE_NOT_FOUND, the code of the published spec's NotFound example",
					Want:    `"ORDER_NOT_FOUND"`, Got: `"RESOURCE_NOT_FOUND"`,
					Fix: "the errors page (" + docErrors + ") names ORDER_NOT_FOUND, which openapi.yaml follows; the get-order page's spec example (" + docGetOrder + ") shows RESOURCE_NOT_FOUND. Settle which one the API sends",
					Doc: docGetOrder,
				},
				claims: atPath("$.code"),
			}}
		}
	case http.StatusTooManyRequests:
		if errorCode(body) == "USAGE_LIMIT_EXCEEDED" {
			return []drift{{
				check: CheckDriftRateLimit,
				finding: Finding{
					Rule: "error_code", Path: "$.code",
					Message: "429 answers USAGE_LIMIT_EXCEEDED, the code the published spec gives the create endpoints",
					Want:    `"RATE_LIMIT_EXCEEDED"`, Got: `"USAGE_LIMIT_EXCEEDED"`,
					Fix: "the authentication page (" + docAuthentication + ") and the errors page name RATE_LIMIT_EXCEEDED for 429, which openapi.yaml follows; the create-order pages (" + docAntiAICreate + ") say USAGE_LIMIT_EXCEEDED",
					Doc: docAuthentication,
				},
				claims: atPath("$.code"),
			}}
		}
	}
	return nil
}

func orderDrifts(body []byte) []drift {
	var env struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil || env.Data == nil {
		return nil
	}
	data := env.Data
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(data[k], &s)
		return s
	}
	var ds []drift
	if d, ok := extractStatusDrift("$.data", str(order.FieldType), str(order.FieldStatus)); ok {
		ds = append(ds, d)
	}
	nested := false
	// Only an aiDetection order can carry the create page's nested result; on another
	// type the object is an unknown field, and a failure.
	if raw, ok := data["aiDetection"]; ok && str(order.FieldType) == string(order.AIDetection) && strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		nested = true
		_, hasP := data[order.FieldProbability]
		_, hasC := data[order.FieldStatusCode]
		ds = append(ds, drift{
			check: CheckDriftNestedAI,
			finding: Finding{
				Rule: "result_shape", Path: "$.data.aiDetection",
				Message: "the AI detection result is nested in an aiDetection object, as the create AI detection order page shows",
				Want:    "flat probability and a string statusCode (likely_real ... likely_ai)", Got: order.Excerpt(raw),
				Fix: "the create AI detection order page (" + docAIDetectCreate + ") nests {probability, statusCode 1-4}; the get-order page (" + docGetOrder + "), the AI detection quickstart (" + docAIDetectStart + ") and openapi.yaml use flat fields",
				Doc: docAIDetectCreate,
			},
			claims: func(path string) bool {
				switch {
				case path == "$.data.aiDetection" || strings.HasPrefix(path, "$.data.aiDetection.") || strings.HasPrefix(path, "$.data.aiDetection["):
					return true
				case path == "$.data."+order.FieldProbability:
					return !hasP
				case path == "$.data."+order.FieldStatusCode:
					return !hasC
				}
				return false
			},
		})
	}
	var unknown []string
	for k := range data {
		if !order.KnownField(k) && !(nested && k == "aiDetection") {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return ds
	}
	// One finding for all of them: a server that sends thousands must not make a
	// report of thousands.
	sort.Strings(unknown)
	isUnknown := make(map[string]bool, len(unknown))
	for _, k := range unknown {
		isUnknown["$.data."+k] = true
	}
	f := Finding{
		Rule: order.RuleUnknownField, Path: "$.data." + unknown[0],
		Message: fmt.Sprintf("the order carries %s, a field that neither openapi.yaml nor any order type knows", unknown[0]),
		Want:    "absent", Got: order.Excerpt(data[unknown[0]]),
		Fix: "if the API now sends it on purpose, add it to openapi.yaml and order.Fields; otherwise stop sending it",
	}
	if len(unknown) > 1 {
		f.Path = "$.data"
		f.Message = fmt.Sprintf("the order carries %d fields that neither openapi.yaml nor any order type knows: %s", len(unknown), listNames(unknown))
		f.Got = "present"
	}
	ds = append(ds, drift{
		check:   CheckUnknownField,
		finding: f,
		claims:  func(path string) bool { return isUnknown[path] },
	})
	return ds
}

// errorCode returns the code of an error body, {"code": "..."}.
func errorCode(body []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &e)
	return clip(e.Code)
}

// extractStatusDrift is contradiction C3 (facts §8) in the order at path: a
// watermarkExtract order whose status is detected or undetected, as the
// watermark-extract quickstart shows.
func extractStatusDrift(path, typ, status string) (drift, bool) {
	if typ != string(order.WatermarkExtract) || (status != "detected" && status != "undetected") {
		return drift{}, false
	}
	return drift{
		check: CheckDriftExtract,
		finding: Finding{
			Rule: "status_values", Path: path + ".status",
			Message: fmt.Sprintf("a watermarkExtract order has status %q, as the watermark-extract quickstart shows", status),
			Want:    "pending, inProgress, complete, failed or expired (the result in statusCode)", Got: fmt.Sprintf("%q", status),
			Fix: "the watermark-extract quickstart (" + docExtractStart + ") shows status detected/undetected; the get-order page (" + docGetOrder + ") and openapi.yaml allow only the five statuses and carry the result in statusCode",
			Doc: docExtractStart,
		},
		claims: atPath(path + ".status"),
	}, true
}

// listDrifts are the drifts of a page of the order list: C3 in any of its items, as
// on a GET of that order (the other drifts of an order are GET's: the list's items
// have a schema of their own).
func listDrifts(body []byte) []drift {
	var page struct {
		Data struct {
			Orders []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
			} `json:"orders"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &page) != nil {
		return nil
	}
	var ds []drift
	for i, it := range page.Data.Orders {
		if d, ok := extractStatusDrift(fmt.Sprintf("$.data.orders[%d]", i), it.Type, it.Status); ok {
			ds = append(ds, d)
		}
	}
	return ds
}
