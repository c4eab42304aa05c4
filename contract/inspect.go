package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/order"
)

// ordersPath is the path of one order.
func ordersPath(id string) string { return morimock.OrderURLPath(id) }

// checkOrder fetches one order and runs every per-order check on the answer.
func (r *runner) checkOrder(ctx context.Context, t target) error {
	req := request{method: http.MethodGet, path: ordersPath(t.id), header: t.header, auth: authToken}
	base := Result{OrderID: t.id, Scenario: t.scenario, Request: req.String()}
	resp, err := r.c.do(ctx, req)
	if err != nil {
		var rl *RateLimitError
		if ctx.Err() != nil || errors.As(err, &rl) {
			return err
		}
		// This order's answer did not come (a timeout, a reset): the others may.
		r.report.Orders++
		r.add(base, CheckStatusCode, []Finding{{
			Rule: "no_answer", Path: "status", Want: "200", Got: "no answer",
			Message: err.Error(),
			Fix:     "a GET of an existing order must be answered within --timeout",
		}}, "")
		return nil
	}
	r.report.Orders++
	drifts := answerDrifts(resp)

	r.add(base, CheckStatusCode, r.orderStatusFindings(t, resp), "")
	ctFindings := contentTypeFindings(resp)
	r.add(base, CheckContentType, ctFindings, "")
	if len(ctFindings) > 0 {
		r.add(base, CheckResponseSchema, nil, "the body is not JSON")
		r.add(base, CheckDomainRules, nil, "the body is not JSON")
		return nil
	}
	if resp.unfit != nil {
		r.add(base, CheckResponseSchema, []Finding{unfitFinding(resp)}, "")
		r.add(base, CheckDomainRules, nil, "the body was not checked: "+resp.unfit.Error())
		return nil
	}
	typ := orderTypeOf(resp.body)
	r.add(base, CheckResponseSchema, r.excuse(typ, r.schemaFindings(req, resp, drifts)), "")
	if resp.status != http.StatusOK {
		r.add(base, CheckDomainRules, nil, fmt.Sprintf("no order to check: the answer is %d", resp.status))
		r.addDrift(base, CheckDriftNotFoundCode, drifts, false)
		r.addDrift(base, CheckDriftRateLimit, drifts, false)
		return nil
	}
	opts := order.CheckOptions{OrderID: t.id, Now: r.responseTime(resp)}
	var domain []Finding
	for _, v := range order.CheckResponse(resp.body, opts) {
		if claimed(drifts, v.Path) {
			continue
		}
		domain = append(domain, Finding{Rule: v.Rule, Path: v.Path, Message: v.Message, Want: v.Want, Got: v.Got, Fix: "the rule: " + ruleDescription(v.Rule)})
	}
	r.add(base, CheckDomainRules, r.excuse(typ, domain), "")
	switch {
	case t.fixture && resp.header.Get(mockSourceHeader) != "fixture":
		r.add(base, CheckMockScenario, nil, "the mock answers this fixture id with a generated order: it leaves out a built-in fixture that does not fit its frozen clock (see its start-up log)")
	case t.wantType != "":
		r.add(base, CheckMockScenario, scenarioFindings(t, resp.body), "")
	}
	for _, check := range []string{CheckUnknownField, CheckDriftExtract, CheckDriftNestedAI} {
		var fs []Finding
		for _, d := range drifts {
			if d.check == check {
				fs = append(fs, d.finding)
			}
		}
		r.add(base, check, fs, "")
	}
	return nil
}

// responseTime is when the server answered: its Date header, which the mock sets from
// its own (possibly frozen) clock, else the local clock. Date has whole seconds and
// the server's clock was somewhere in the second after it; taking the end of that
// second never blames the server for the truncation.
func (r *runner) responseTime(resp *response) time.Time {
	if d, err := http.ParseTime(resp.header.Get("Date")); err == nil {
		return d.Add(time.Second - time.Millisecond)
	}
	return r.now()
}

// orderStatusFindings: an order that should exist answers 200.
func (r *runner) orderStatusFindings(t target, resp *response) []Finding {
	if resp.status == http.StatusOK {
		return nil
	}
	got := strconv.Itoa(resp.status)
	if code := resp.code(); code != "" {
		got += " " + code
	}
	declared := r.spec.OrderStatuses()
	f := Finding{Rule: "order_exists", Path: "status", Want: "200", Got: got}
	switch {
	case resp.status >= 500:
		f.Rule = "server_error"
		f.Message = fmt.Sprintf("the API answered %d for order %s, which should exist", resp.status, t.id)
		f.Fix = "a 5xx is never a valid answer for an existing order, although openapi.yaml declares 500: look at the server's logs for this request"
	case !slices.Contains(declared, resp.status):
		f.Rule = "undeclared_status"
		f.Message = fmt.Sprintf("status %d is not declared for GET %s", resp.status, morimock.OrderPath)
		f.Want = fmt.Sprintf("200 (declared: %s)", joinInts(declared))
		f.Fix = "answer one of the statuses openapi.yaml declares, or declare this one if the API sends it on purpose"
	case resp.status == http.StatusUnauthorized:
		f.Message = fmt.Sprintf("order %s could not be read: the API refused the token", t.id)
		f.Fix = "check the token (--token or BIZMORI_API_TOKEN) and that it is a live key for this host"
	case resp.status == http.StatusNotFound:
		f.Message = fmt.Sprintf("order %s was expected to exist but the API answered 404", t.id)
		f.Fix = "check the id and that the order belongs to the token's account; ids from --discover must exist"
	case resp.status == http.StatusTooManyRequests:
		f.Message = fmt.Sprintf("order %s was still rate limited after %d retries", t.id, maxRetries)
		f.Fix = "lower --rate, or run when the account's other clients are idle"
	default:
		f.Message = fmt.Sprintf("order %s was expected to exist but the API answered %d", t.id, resp.status)
		f.Fix = "a GET of an existing order has no reason to fail; check the id"
	}
	return []Finding{f}
}

func joinInts(ns []int) string {
	s := ""
	for i, n := range ns {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(n)
	}
	return s
}

// contentTypeFindings: every answer is JSON.
func contentTypeFindings(resp *response) []Finding {
	ct := resp.header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return nil
	}
	got := ct
	if got == "" {
		got = "no Content-Type"
	}
	return []Finding{{
		Rule: "content_type", Path: "Content-Type",
		Message: fmt.Sprintf("the %d answer is %s, not JSON", resp.status, got),
		Want:    "application/json", Got: got,
		Fix: "send Content-Type: application/json with a JSON body on every answer, errors included",
	}}
}

// answerDrifts are the drifts of an answer the suite checks; none of one it does not.
// A 200 is read as an order: call it only with the answer to a GET of an order, or
// use driftsOf.
func answerDrifts(resp *response) []drift {
	if resp.unfit != nil {
		return nil
	}
	return recognizeDrifts(resp.status, resp.body)
}

// driftsOf are the drifts of the answer to req: an order's for a GET of an order,
// its items' for the list of orders, none for another 200 (a download, the stats, a
// webhook: their fields are no order's, and read as one they would hide the schema's
// findings as unknown order fields), and an error's for any other status.
func driftsOf(req request, resp *response) []drift {
	if resp.status != http.StatusOK {
		return answerDrifts(resp)
	}
	if req.method != http.MethodGet || resp.unfit != nil {
		return nil
	}
	if id, ok := strings.CutPrefix(req.path, ordersPath("")); ok && order.ValidID(id) {
		return answerDrifts(resp)
	}
	if req.path == listPath {
		return listDrifts(resp.body)
	}
	return nil
}

// unfitFinding reports an answer beyond the limits of what the suite validates.
func unfitFinding(resp *response) Finding {
	return Finding{
		Rule: "answer_limits", Path: "$",
		Message: resp.unfit.Error() + ", so it was not validated",
		Want:    fmt.Sprintf("at most %d KiB, %d levels deep, %d members an object, %d items an array, %d keys and values", maxValidated>>10, maxDepth, maxMembers, maxItems, maxTokens),
		Got:     order.Excerpt(resp.body[:min(len(resp.body), 100)]),
		Fix:     "an order or an error is a small flat object: send what openapi.yaml declares",
	}
}

// maxFindings is the most findings one schema result lists; the rest are counted.
const maxFindings = 20

// maxNames is the most property names a finding about unknown properties lists.
const maxNames = 10

// schemaFindings validates an answer against openapi.yaml and reports every error
// that no drift explains: the properties an object may not have in one finding per
// object, and no more than maxFindings in all.
func (r *runner) schemaFindings(req request, resp *response, drifts []drift) []Finding {
	issues, ok := r.validate(req, resp)
	if !ok {
		return nil
	}
	var fs []Finding
	props := map[string]int{} // object path -> index in fs of its unknown-properties finding
	names := map[string][]string{}
	for _, is := range issues {
		if is.keyword == "response" && is.reason == "status is not supported" {
			continue // status_code_conformance reports it
		}
		if claimed(drifts, is.path) {
			continue
		}
		if is.property != "" {
			obj := strings.TrimSuffix(is.path, "."+is.property)
			if _, ok := props[obj]; !ok {
				props[obj] = len(fs)
				fs = append(fs, Finding{})
			}
			if !slices.Contains(names[obj], is.property) {
				names[obj] = append(names[obj], is.property)
			}
			continue
		}
		fs = append(fs, Finding{
			Rule: "schema_" + is.keyword, Path: is.path,
			Message: fmt.Sprintf("%s does not match openapi.yaml: %s", is.path, is.reason),
			Want:    is.want, Got: is.got,
			Fix: "send what openapi.yaml declares here, or change the contract if the API changed on purpose",
		})
	}
	for obj, i := range props {
		ns := names[obj]
		f := Finding{
			Rule: "schema_additionalProperties", Path: obj + "." + ns[0],
			Message: fmt.Sprintf("%s does not match openapi.yaml: property %q is unsupported", obj+"."+ns[0], ns[0]),
			Want:    "absent", Got: "present",
			Fix: "send what openapi.yaml declares here, or change the contract if the API changed on purpose",
		}
		if len(ns) > 1 {
			f.Path = obj
			f.Message = fmt.Sprintf("%s has %d properties openapi.yaml does not allow: %s", obj, len(ns), listNames(ns))
		}
		fs[i] = f
	}
	if len(fs) > maxFindings {
		more := len(fs) - maxFindings + 1
		fs = append(fs[:maxFindings-1], Finding{
			Rule: "schema_more", Path: "$",
			Message: fmt.Sprintf("and %d more places that do not match openapi.yaml", more),
			Fix:     "send what openapi.yaml declares",
		})
	}
	return fs
}

// listNames lists the first maxNames names, quoted, and how many more there are.
func listNames(ns []string) string {
	var b strings.Builder
	for i, n := range ns[:min(len(ns), maxNames)] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(clip(n)))
	}
	if len(ns) > maxNames {
		fmt.Fprintf(&b, " and %d more", len(ns)-maxNames)
	}
	return b.String()
}

// validate runs kin-openapi on an answer. ok is false when the contract has no
// operation for the request (a wrong method, say).
func (r *runner) validate(req request, resp *response) ([]schemaIssue, bool) {
	hr, err := http.NewRequest(req.method, (&url.URL{Path: req.path}).String(), nil)
	if err != nil {
		return nil, false
	}
	route, params, err := r.spec.FindRoute(hr)
	if err != nil {
		return nil, false
	}
	err = r.spec.ValidateResponse(context.Background(), hr, route, params, resp.status, resp.header, resp.body)
	return schemaIssues(err), true
}

// scenarioFindings: the mock answered the type and status that were asked for.
func scenarioFindings(t target, body []byte) []Finding {
	var env struct {
		Data struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	var fs []Finding
	if env.Data.Type != string(t.wantType) {
		fs = append(fs, Finding{Rule: "scenario_type", Path: "$.data.type", Message: "the mock did not answer the type the scenario asked for", Want: string(t.wantType), Got: env.Data.Type, Fix: "the mock must honour Prefer: type=..."})
	}
	if t.wantStatus != "" && env.Data.Status != string(t.wantStatus) {
		fs = append(fs, Finding{Rule: "scenario_status", Path: "$.data.status", Message: "the mock did not answer the status the scenario asked for", Want: string(t.wantStatus), Got: env.Data.Status, Fix: "the mock must honour Prefer: status=..."})
	}
	return fs
}

// ruleDescription is what an order rule asks, from order.Rules.
func ruleDescription(name string) string {
	for _, rule := range order.Rules() {
		if rule.Name == name {
			return rule.Description
		}
	}
	return name
}
