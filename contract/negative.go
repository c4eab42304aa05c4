package contract

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// missingID is an id that cannot name an order: order ids are digit strings, and a
// digit string might name a real order on a live account.
const missingID = "does-not-exist"

// checkNotFound asks for an order that cannot exist. It is the suite's first request:
// it also shows whether the host answers at all and whether it is the mock.
func (r *runner) checkNotFound(ctx context.Context) error {
	req := request{method: http.MethodGet, path: ordersPath(missingID), auth: authToken}
	resp, err := r.c.do(ctx, req)
	if err != nil {
		return err
	}
	base := Result{OrderID: missingID, Request: req.String()}
	drifts := answerDrifts(resp)
	fs := r.errorAnswerFindings(req, resp, drifts, http.StatusNotFound,
		"an id that names no order answers 404 ORDER_NOT_FOUND",
		"answer 404 with {\"code\":\"ORDER_NOT_FOUND\"} for any id that names no order of the account")
	if resp.status == http.StatusBadRequest && len(fs) == 1 && fs[0].Rule == "status" {
		// The id is not digits, so that it can name no order of a live account; the
		// docs do not say whether such an id is refused (400) or not found (404).
		b := guess("the docs do not say what an id that is not digits answers; 404 is our reading")
		fs[0].Basis = &b
	}
	r.add(base, CheckNotFound, fs, "")
	r.addDrift(base, CheckDriftNotFoundCode, drifts, true)
	return nil
}

// checkAuth sends GETs without and with a malformed Authorization header.
func (r *runner) checkAuth(ctx context.Context, id string) error {
	cases := []struct {
		check, what string
		auth        authMode
	}{
		{CheckAuthMissingToken, "no Authorization header", authNone},
		{CheckAuthMalformed, "Authorization: " + malformedAuth, authMalformed},
	}
	for _, c := range cases {
		req := request{method: http.MethodGet, path: ordersPath(id), auth: c.auth}
		resp, err := r.c.do(ctx, req)
		if err != nil {
			return err
		}
		base := Result{OrderID: id, Scenario: c.what, Request: req.String()}
		fs := r.errorAnswerFindings(req, resp, nil, http.StatusUnauthorized,
			fmt.Sprintf("a request with %s answers 401", c.what),
			"refuse any request without a valid Bearer token with 401 and a code openapi.yaml documents (e.g. AUTH_NOT_AUTHENTICATED)")
		if resp.status >= 200 && resp.status < 300 {
			fs[0].Message = fmt.Sprintf("the API answered %d to a request with %s: anyone can read orders", resp.status, c.what)
		}
		r.add(base, c.check, fs, "")
	}
	return nil
}

// checkWrongMethod sends POST and DELETE to an order, but only when the person
// running the suite asked for it (Config.ProbeWrites): any server may be a live API,
// even on loopback (a port-forward or a tunnel), and what a server says of itself
// (X-Morimock-Version) is no proof that it is not.
func (r *runner) checkWrongMethod(ctx context.Context, id string) error {
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		req := request{method: method, path: ordersPath(id), auth: authToken}
		base := Result{OrderID: id, Request: req.String()}
		if !r.cfg.ProbeWrites {
			r.add(base, CheckWrongMethod, nil, "not sent: the suite sends GETs only unless asked with --probe-writes")
			continue
		}
		resp, err := r.c.do(ctx, req)
		if err != nil {
			return err
		}
		var fs []Finding
		if resp.status != http.StatusNotFound && resp.status != http.StatusMethodNotAllowed {
			f := Finding{Rule: "method_status", Path: "status", Want: "404 or 405", Got: strconv.Itoa(resp.status),
				Message: fmt.Sprintf("%s on an order answered %d", method, resp.status),
				Fix:     "GET is the only method of /api/v2/orders/{orderId}: answer 405 (with Allow: GET) or 404 to any other"}
			switch {
			case resp.status >= 200 && resp.status < 300:
				f.Message += ": the API accepted a method it does not declare"
			case resp.status >= 500:
				f.Message += ": the server failed on a method it does not declare"
			}
			fs = append(fs, f)
		}
		r.add(base, CheckWrongMethod, fs, "")
	}
	return nil
}

// errorAnswerFindings checks an answer that must be an error: its status, that it is
// JSON, and that its body is one openapi.yaml documents for that status.
func (r *runner) errorAnswerFindings(req request, resp *response, drifts []drift, want int, rule, fix string) []Finding {
	if resp.status != want {
		got := strconv.Itoa(resp.status)
		if code := resp.code(); code != "" {
			got += " " + code
		}
		return []Finding{{Rule: "status", Path: "status", Message: fmt.Sprintf("%s; the API answered %d", rule, resp.status), Want: strconv.Itoa(want), Got: got, Fix: fix}}
	}
	if fs := contentTypeFindings(resp); len(fs) > 0 {
		return fs
	}
	if resp.unfit != nil {
		return []Finding{unfitFinding(resp)}
	}
	fs := r.schemaFindings(req, resp, drifts)
	for i := range fs {
		fs[i].Fix = fix
	}
	return fs
}

// addDrift records a drift check's result from an answer. With always, a result is
// recorded even when the drift is absent (as passed).
func (r *runner) addDrift(base Result, check string, drifts []drift, always bool) {
	var fs []Finding
	for _, d := range drifts {
		if d.check == check {
			fs = append(fs, d.finding)
		}
	}
	if len(fs) > 0 || always {
		r.add(base, check, fs, "")
	}
}
