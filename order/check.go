package order

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Violation is one broken rule in one order.
type Violation struct {
	Rule    string `json:"rule"`           // a Rule name, stable
	Path    string `json:"path"`           // JSON path of the offending value, e.g. $.data.statusCode
	Message string `json:"message"`        // what is wrong, for a person
	Want    string `json:"want,omitempty"` // what the rule expects
	Got     string `json:"got,omitempty"`  // what the order holds
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s at %s: %s", v.Rule, v.Path, v.Message)
	if v.Want != "" || v.Got != "" {
		s += fmt.Sprintf(" (want %s, got %s)", v.Want, v.Got)
	}
	return s
}

// CheckOptions gives Check what the order alone does not hold.
type CheckOptions struct {
	// OrderID is the id that was requested; the order must echo it. Empty skips that rule.
	OrderID string
	// Now is when the response was made (its Date header, say): an expired order
	// must be at least ExpiresAfter older. Zero skips that rule.
	Now time.Time
}

// Check returns every rule the order breaks; none means it keeps them all.
func Check(o *Order, opts CheckOptions) []Violation {
	return CheckJSON(o.AppendJSON(nil), opts)
}

// CheckResponse checks a 200 body, {"data": order}.
func CheckResponse(body []byte, opts CheckOptions) []Violation {
	v, err := DecodeJSON(body)
	if err != nil {
		return []Violation{{Rule: RuleEnvelope, Path: "$", Message: "the body is not JSON", Want: `{"data": {...}}`, Got: Excerpt(body)}}
	}
	return CheckResponseValue(v, opts)
}

// CheckResponseValue is CheckResponse for a body already decoded by encoding/json
// into an any (with or without UseNumber), so that a caller that has decoded it once,
// to validate it against the schema, need not decode it again.
func CheckResponseValue(body any, opts CheckOptions) []Violation {
	env, ok := body.(map[string]any)
	if !ok {
		return []Violation{{Rule: RuleEnvelope, Path: "$", Message: "the body is not a JSON object", Want: `{"data": {...}}`, Got: ExcerptValue(body)}}
	}
	var vs []Violation
	for k := range env {
		if k != "data" {
			vs = append(vs, Violation{Rule: RuleEnvelope, Path: "$." + k, Message: fmt.Sprintf("the envelope holds %q besides data", k)})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Path < vs[j].Path })
	data, ok := env["data"]
	if !ok {
		return append(vs, Violation{Rule: RuleEnvelope, Path: "$.data", Message: "the body has no data", Want: "an order object"})
	}
	return append(vs, check(data, "$.data", opts)...)
}

// CheckJSON checks one order object, the value of `data`.
func CheckJSON(data []byte, opts CheckOptions) []Violation {
	v, err := DecodeJSON(data)
	if err != nil {
		return []Violation{{Rule: RuleEnvelope, Path: "$", Message: "the order is not JSON", Want: "an object", Got: Excerpt(data)}}
	}
	return check(v, "$", opts)
}

// wire is an order as it came over the wire: which fields were present, and which
// of those held a value of the right JSON type.
type wire struct {
	prefix string
	raw    map[string]any  // the order as decoded: which fields were sent
	bad    map[string]bool // made when the first field turns out bad
	o      Order
	vs     []Violation
}

// present reports whether field was sent, whatever its value.
func (w *wire) present(field string) bool {
	_, ok := w.raw[field]
	return ok
}

func (w *wire) markBad(field string) {
	if w.bad == nil {
		w.bad = map[string]bool{}
	}
	w.bad[field] = true
}

func (w *wire) add(rule, field, msg, want, got string) {
	path := w.prefix
	if field != "" {
		path += "." + field
	}
	w.vs = append(w.vs, Violation{Rule: rule, Path: path, Message: msg, Want: want, Got: got})
}

// usable reports whether field was sent with a value of its type.
func (w *wire) usable(field string) bool { return w.present(field) && !w.bad[field] }

func check(data any, prefix string, opts CheckOptions) []Violation {
	raw, ok := data.(map[string]any)
	w := &wire{prefix: prefix, raw: raw}
	if !ok {
		w.add(RuleEnvelope, "", "the order is not a JSON object", "an object", ExcerptValue(data))
		return w.vs
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.decode(k, raw[k])
	}

	o := &w.o
	typeKnown := false
	switch {
	case !w.present(FieldType):
		w.add(RuleOrderType, FieldType, "the order has no type", "antiAi, watermarkEmbed, watermarkExtract or aiDetection", "nothing")
	case w.usable(FieldType):
		if _, err := ParseType(string(o.Type)); err != nil {
			w.add(RuleOrderType, FieldType, "the order type is unknown", "antiAi, watermarkEmbed, watermarkExtract or aiDetection", quote(string(o.Type)))
		} else {
			typeKnown = true
		}
	}
	if typeKnown {
		w.checkFieldSet(keys)
	}
	w.checkCommon(opts)
	statusKnown := false
	if w.usable(FieldStatus) {
		if _, err := ParseStatus(string(o.Status)); err != nil {
			w.add(RuleOrderStatus, FieldStatus, "the status is not one of the five", "pending, inProgress, complete, failed or expired", quote(string(o.Status)))
			statusKnown = w.readExtractStatus()
		} else {
			statusKnown = true
		}
	}
	if typeKnown {
		w.checkResult(statusKnown)
	}
	if statusKnown {
		w.checkLifecycle(typeKnown, opts)
	}
	return w.vs
}

// readExtractStatus reads the watermark-extract quickstart's statuses, detected and
// undetected, as complete, so that a report of that known drift does not hide the
// rest of the order from the rules; the status must then agree with statusCode.
func (w *wire) readExtractStatus() bool {
	o := &w.o
	if o.Status != Status(Detected) && o.Status != Status(Undetected) {
		return false
	}
	if w.usable(FieldStatusCode) && (o.StatusCode == nil || string(*o.StatusCode) != string(o.Status)) {
		got := "null"
		if o.StatusCode != nil {
			got = quote(string(*o.StatusCode))
		}
		w.add(RuleExtractAgreement, FieldStatusCode, fmt.Sprintf("status says %s but statusCode does not", o.Status), quote(string(o.Status)), got)
	}
	o.Status = Complete
	return true
}

// decode reads one decoded field into w.o, noting a value of the wrong JSON type.
func (w *wire) decode(k string, v any) {
	o := &w.o
	var ok bool
	want := ""
	switch k {
	case FieldType:
		ok, want = str(v, (*string)(&o.Type)), "a string"
	case FieldOrderID:
		ok, want = str(v, &o.OrderID), "a string of digits"
	case FieldChannel:
		ok, want = str(v, (*string)(&o.Channel)), "a string"
	case FieldStatus:
		ok, want = str(v, (*string)(&o.Status)), "a string"
	case FieldOrderName:
		ok, want = str(v, &o.OrderName), "a string"
	case FieldFileCount:
		ok, want = integer(v, &o.FileCount), "an integer"
	case FieldCreatedAt, FieldUpdatedAt:
		var s string
		if ok, want = str(v, &s), "a timestamp string"; ok {
			t, err := parseTimestamp(s)
			if err != nil {
				w.add(RuleTimestamp, k, err.Error(), "UTC with milliseconds, e.g. 2026-03-12T10:00:00.000Z", quote(s))
				w.markBad(k)
				return
			}
			if k == FieldCreatedAt {
				o.CreatedAt = t
			} else {
				o.UpdatedAt = t
			}
		}
	case FieldThumbnailImageURL:
		ok, want = nullableStr(v, &o.ThumbnailImageURL), "a URL or null"
	case FieldOriginalImageURL:
		ok, want = nullableStr(v, &o.OriginalImageURL), "a URL or null"
	case FieldHeatmapURL:
		ok, want = nullableStr(v, &o.HeatmapURL), "a URL or null"
	case FieldOverlayURL:
		ok, want = nullableStr(v, &o.OverlayURL), "a URL or null"
	case FieldErrors:
		ok, want = nullableStr(v, &o.Errors), "a message or null"
	case FieldWatermarkText:
		ok, want = nullableStr(v, &o.WatermarkText), "a string or null"
	case FieldStatusCode:
		var code *string
		if ok, want = nullableStr(v, &code), "a string or null"; ok && code != nil {
			sc := StatusCode(*code)
			o.StatusCode = &sc
		}
	case FieldProbability:
		want = "a number or null"
		if ok = v == nil; !ok {
			var p float64
			if ok = number(v, &p); ok {
				o.Probability = &p
			}
		}
	case FieldWatermarks:
		want = "an array of strings"
		list, isList := v.([]any)
		ok = isList
		for _, item := range list {
			var t string
			if !str(item, &t) {
				ok = false
				break
			}
			o.Watermarks = append(o.Watermarks, t)
		}
	case FieldOptions:
		// The docs show the three options and say they are those given at creation
		// (facts §2.1), not that all three always come back: one left out counts as
		// false, the default of the create request. Which keys come is the schema's
		// to check (required, additionalProperties), on the sandbox's own answers.
		want = "an object whose generateHeatmap, generateOverlay and generateThumbnail are booleans, or null"
		if ok = v == nil; !ok {
			m, isMap := v.(map[string]any)
			flag := func(k string) (bool, bool) {
				x, sent := m[k]
				b, isBool := x.(bool)
				return b, !sent || isBool
			}
			h, hOK := flag("generateHeatmap")
			ov, oOK := flag("generateOverlay")
			th, tOK := flag("generateThumbnail")
			if ok = isMap && hOK && oOK && tOK; ok {
				o.Options = &Options{GenerateHeatmap: h, GenerateOverlay: ov, GenerateThumbnail: th}
			}
		}
	default:
		return // unknown fields are reported by checkFieldSet
	}
	if !ok {
		w.add(RuleFieldType, k, fmt.Sprintf("%s has the wrong JSON type", k), want, ExcerptValue(v))
		w.markBad(k)
	}
}

func str(v any, dst *string) bool {
	s, ok := v.(string)
	if ok {
		*dst = s
	}
	return ok
}

func nullableStr(v any, dst **string) bool {
	if v == nil {
		*dst = nil
		return true
	}
	s, ok := v.(string)
	if ok {
		*dst = &s
	}
	return ok
}

// number reads a JSON number decoded with or without UseNumber.
func number(v any, dst *float64) bool {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return false
		}
		*dst = f
		return true
	case float64:
		*dst = n
		return true
	}
	return false
}

// integer reads a JSON number that is a whole number in int's range.
func integer(v any, dst *int) bool {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 0)
		if err != nil {
			return false
		}
		*dst = int(i)
		return true
	case float64:
		if n != math.Trunc(n) || n < math.MinInt || n > math.MaxInt {
			return false
		}
		*dst = int(n)
		return true
	}
	return false
}

func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil || len(s) != len(TimeLayout) {
		return time.Time{}, fmt.Errorf("the timestamp is not UTC with milliseconds")
	}
	return t, nil
}

// checkFieldSet: exactly the type's fields, each present.
func (w *wire) checkFieldSet(keys []string) {
	t := w.o.Type
	for _, k := range keys {
		if HasField(t, k) {
			continue
		}
		if KnownField(k) {
			got := "present"
			if w.raw[k] == nil {
				got = "null" // the contract layer weighs a null apart (facts §2.1)
			}
			w.add(RuleFieldNotForType, k, fmt.Sprintf("%s does not belong to %s orders; leave it out", k, t), "absent", got)
		} else {
			w.add(RuleUnknownField, k, fmt.Sprintf("%s is not a field of the contract", k), "absent", "present")
		}
	}
	for _, f := range Fields(t) {
		if !w.present(f) {
			w.add(RuleFieldMissing, f, fmt.Sprintf("%s orders always carry %s (null when it has no value)", t, f), "present", "absent")
		}
	}
}

func (w *wire) checkCommon(opts CheckOptions) {
	o := &w.o
	if w.usable(FieldOrderID) {
		if !ValidID(o.OrderID) {
			w.add(RuleOrderID, FieldOrderID, "orderId is not a string of 1 to 20 digits", "1 to 20 decimal digits", quote(o.OrderID))
		} else if opts.OrderID != "" && o.OrderID != opts.OrderID {
			w.add(RuleOrderIDEcho, FieldOrderID, "orderId is not the id that was requested", quote(opts.OrderID), quote(o.OrderID))
		}
	}
	if w.usable(FieldCreatedAt) && w.usable(FieldUpdatedAt) && o.UpdatedAt.Before(o.CreatedAt) {
		w.add(RuleUpdatedBefore, FieldUpdatedAt, "updatedAt is before createdAt", "at or after "+o.CreatedAt.Format(TimeLayout), o.UpdatedAt.Format(TimeLayout))
	}
	if w.usable(FieldFileCount) {
		switch {
		case o.FileCount < 1:
			w.add(RuleFileCount, FieldFileCount, "an order holds at least one file", ">= 1", fmt.Sprint(o.FileCount))
		case SingleFile(o.Type) && o.FileCount != 1:
			w.add(RuleFileCount, FieldFileCount, fmt.Sprintf("%s orders hold exactly one file", o.Type), "1", fmt.Sprint(o.FileCount))
		}
	}
}

// checkResult: the result fields of extract and AI orders, against each other.
func (w *wire) checkResult(statusKnown bool) {
	o := &w.o
	switch o.Type {
	case WatermarkEmbed:
		if w.usable(FieldWatermarks) {
			if len(o.Watermarks) == 0 {
				w.add(RuleWatermarks, FieldWatermarks, "a watermarkEmbed order lists the texts it embeds", "at least one text", "[]")
			}
			for i, t := range o.Watermarks {
				if strings.TrimSpace(t) == "" {
					w.add(RuleWatermarks, fmt.Sprintf("%s[%d]", FieldWatermarks, i), "a watermark text is empty", "a non-empty text", quote(t))
				}
			}
		}
	case WatermarkExtract:
		code := w.statusCodeOf(o.Type, "a watermarkExtract statusCode is detected or undetected", "detected or undetected")
		if w.usable(FieldWatermarkText) && w.usable(FieldStatusCode) {
			textSet := code != nil && WatermarkTextSet(*code)
			switch {
			case o.WatermarkText != nil && !textSet:
				w.add(RuleExtractAgreement, FieldWatermarkText, "watermarkText is set but statusCode is not detected", "null", quote(*o.WatermarkText))
			case o.WatermarkText == nil && textSet:
				w.add(RuleExtractAgreement, FieldWatermarkText, "statusCode is detected but watermarkText is null", "the extracted text", "null")
			case o.WatermarkText != nil && strings.TrimSpace(*o.WatermarkText) == "":
				w.add(RuleExtractAgreement, FieldWatermarkText, "the detected watermark text is empty", "the extracted text", quote(*o.WatermarkText))
			}
		}
	case AIDetection:
		code := w.statusCodeOf(o.Type, "an aiDetection statusCode is one of the four bands", "likely_real, uncertain_real, uncertain_ai or likely_ai")
		p := o.Probability
		if !w.usable(FieldProbability) {
			p = nil
		}
		if p != nil && (*p < 0 || *p > 1) {
			w.add(RuleProbabilityRange, FieldProbability, "probability is outside 0..1", "0 <= p <= 1", fmt.Sprint(*p))
			p = nil
		}
		switch {
		case p != nil && code != nil:
			if want := StatusCodeFor(*p); *code != want {
				w.add(RuleProbabilityBand, FieldStatusCode, fmt.Sprintf("probability %v falls in the %s band", *p, want), quote(string(want)), quote(string(*code)))
			}
		case w.usable(FieldProbability) && w.usable(FieldStatusCode) && (o.Probability == nil) != (o.StatusCode == nil):
			if o.Probability == nil {
				w.add(RuleProbabilityBand, FieldStatusCode, "statusCode is set but probability is null", "null", quote(string(*o.StatusCode)))
			} else {
				w.add(RuleProbabilityBand, FieldStatusCode, "probability is set but statusCode is null", quote(string(StatusCodeFor(*o.Probability))), "null")
			}
		}
	}
	if !statusKnown {
		return
	}
	has, want := w.hasResult(), HasResult(o.Type, o.Status)
	switch {
	case has && !want:
		w.add(RuleResultTooEarly, FieldStatusCode, fmt.Sprintf("an order in status %s has no result yet", o.Status), "null", w.resultText())
	case !has && want && Settled(o.Status) && w.usable(FieldStatusCode):
		w.add(RuleResultMissing, FieldStatusCode, fmt.Sprintf("a complete %s order carries its result", o.Type), "a statusCode", "null")
	}
}

// statusCodeOf returns the order's statusCode when it is one of StatusCodes(t), and
// reports (with msg and want) one that is not.
func (w *wire) statusCodeOf(t Type, msg, want string) *StatusCode {
	if !w.usable(FieldStatusCode) || w.o.StatusCode == nil {
		return nil
	}
	code := w.o.StatusCode
	if !slices.Contains(StatusCodes(t), *code) {
		w.add(RuleStatusCodeForType, FieldStatusCode, msg, want, quote(string(*code)))
		return nil
	}
	return code
}

func (w *wire) hasResult() bool {
	o := &w.o
	switch o.Type {
	case WatermarkExtract:
		return (w.usable(FieldStatusCode) && o.StatusCode != nil) || (w.usable(FieldWatermarkText) && o.WatermarkText != nil)
	case AIDetection:
		return (w.usable(FieldStatusCode) && o.StatusCode != nil) || (w.usable(FieldProbability) && o.Probability != nil)
	}
	return false
}

func (w *wire) resultText() string {
	o := &w.o
	var parts []string
	if o.StatusCode != nil {
		parts = append(parts, "statusCode "+quote(string(*o.StatusCode)))
	}
	if o.Probability != nil {
		parts = append(parts, fmt.Sprintf("probability %v", *o.Probability))
	}
	if o.WatermarkText != nil {
		parts = append(parts, "watermarkText "+quote(*o.WatermarkText))
	}
	return strings.Join(parts, ", ")
}

// urlField pairs a presigned URL field with its value.
type urlField struct {
	name string
	v    *string
}

func (w *wire) urls() []urlField {
	o := &w.o
	all := []urlField{{FieldThumbnailImageURL, o.ThumbnailImageURL}, {FieldOriginalImageURL, o.OriginalImageURL}, {FieldHeatmapURL, o.HeatmapURL}, {FieldOverlayURL, o.OverlayURL}}
	var set []urlField
	for _, u := range all {
		if w.usable(u.name) && u.v != nil {
			set = append(set, u)
		}
	}
	return set
}

// checkLifecycle: what each status means for errors and URLs.
func (w *wire) checkLifecycle(typeKnown bool, opts CheckOptions) {
	o := &w.o
	if w.usable(FieldErrors) {
		switch {
		case HasErrors(o.Status) && (o.Errors == nil || strings.TrimSpace(*o.Errors) == ""):
			got := "null"
			if o.Errors != nil {
				got = quote(*o.Errors)
			}
			w.add(RuleErrorsWhenFailed, FieldErrors, "a failed order says why in errors", "a non-empty message", got)
		case !HasErrors(o.Status) && o.Errors != nil:
			w.add(RuleErrorsWhenFailed, FieldErrors, fmt.Sprintf("an order in status %s has no error message", o.Status), "null", quote(*o.Errors))
		}
	}
	if URLsNull(o.Status) {
		// One rule name for each of the two reasons the URLs are null.
		rule, msg := RulePendingURLs, "a pending order has nothing uploaded yet"
		if o.Status == Expired {
			rule, msg = RuleExpiredURLs, "an expired order's presigned URLs are null"
		}
		for _, u := range w.urls() {
			w.add(rule, u.name, msg, "null", quote(*u.v))
		}
	} else if typeKnown && o.Type == AIDetection {
		w.checkAIOutputs()
	}
	if o.Status == Expired && !opts.Now.IsZero() && w.usable(FieldCreatedAt) && opts.Now.Before(ExpiresAt(o.CreatedAt)) {
		w.add(RuleExpiredAge, FieldCreatedAt, "an order expires 7 days after it was created", "at or before "+opts.Now.Add(-ExpiresAfter).UTC().Format(TimeLayout), o.CreatedAt.Format(TimeLayout))
	}
}

// checkAIOutputs: thumbnail, heatmap and overlay follow options (OutputSet). Orders
// whose URLs are all null are covered by their own URL rules.
func (w *wire) checkAIOutputs() {
	o := &w.o
	if !w.usable(FieldOptions) {
		return
	}
	var asked Options
	if o.Options != nil {
		asked = *o.Options
	}
	outputs := []struct {
		field, option string
		v             *string
		asked         bool
	}{
		{FieldThumbnailImageURL, "generateThumbnail", o.ThumbnailImageURL, asked.GenerateThumbnail},
		{FieldHeatmapURL, "generateHeatmap", o.HeatmapURL, asked.GenerateHeatmap},
		{FieldOverlayURL, "generateOverlay", o.OverlayURL, asked.GenerateOverlay},
	}
	for _, out := range outputs {
		if !w.usable(out.field) {
			continue
		}
		isSet, want := out.v != nil, OutputSet(out.field, o.Status, asked)
		switch {
		case isSet && !want && !out.asked:
			w.add(RuleAIOutputsByOptions, out.field, fmt.Sprintf("%s is set but options.%s is not true", out.field, out.option), "null", quote(*out.v))
		case isSet && !want:
			w.add(RuleAIOutputsByOptions, out.field, fmt.Sprintf("%s is set before the order is complete", out.field), "null", quote(*out.v))
		case !isSet && want && Settled(o.Status):
			w.add(RuleAIOutputsByOptions, out.field, fmt.Sprintf("options.%s asked for %s but the complete order has none", out.option, out.field), "a URL", "null")
		}
	}
}

func quote(s string) string { return string(AppendString(nil, s)) }

// ExcerptValue shows a decoded JSON value in at most 80 bytes, for a report. It
// encodes no more of the value than it shows (see appendExcerpt): a report about a
// 4 MiB value costs no more than one about a small one.
func ExcerptValue(v any) string {
	return Excerpt(appendExcerpt(nil, v))
}

// Excerpt shows a raw JSON value in at most 80 bytes, cut on a character boundary,
// for a report.
func Excerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > excerptLen {
		cut := excerptLen - 3
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return string(b[:cut]) + "..."
	}
	return string(b)
}
