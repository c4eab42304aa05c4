package contract

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/order"
)

// editOrder returns body with edit applied to its data object.
func editOrder(t *testing.T, body string, edit func(data map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	edit(env["data"].(map[string]any))
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// builtinBody is the body of the built-in fixture name.
func builtinBody(t *testing.T, name string) string {
	t.Helper()
	fx, err := fixtures.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fx {
		if f.Name == name {
			return string(f.Body)
		}
	}
	t.Fatalf("no built-in fixture %s", name)
	return ""
}

// TestWhatTheDocsLeaveOpenOnlyWarns: against a live API, an answer that does what the
// docs neither promise nor rule out is a named warning, never a failure; the sandbox
// (Strict) is held to our reading and fails. What the docs do promise still fails.
func TestWhatTheDocsLeaveOpenOnlyWarns(t *testing.T) {
	t.Parallel() // its own servers on free ports
	aiExpired := builtinBody(t, "ai_detection_expired.json")
	aiID := func() string {
		var env struct{ Data struct{ OrderID string } }
		_ = json.Unmarshal([]byte(aiExpired), &env)
		return env.Data.OrderID
	}()
	tests := []struct {
		name     string
		id, body string
		notFound string
		warn     []string // domain rules or schema kinds that warn against a live API
		fail     []string // ... that fail against it all the same
	}{
		{
			name: "fields of other types sent as null",
			id:   validID,
			body: string(editOrder(t, validAntiAI, func(d map[string]any) { d["probability"], d["watermarkText"] = nil, nil })),
			warn: []string{order.RuleFieldNotForType, "schema_additionalProperties"},
		},
		{
			name: "statusCode null on antiAi is sent, and the docs say it is not",
			id:   validID,
			body: string(editOrder(t, validAntiAI, func(d map[string]any) { d["statusCode"] = nil })),
			fail: []string{order.RuleFieldNotForType},
		},
		{
			name: "a key beside data",
			id:   validID,
			body: strings.Replace(validAntiAI, `{"data":`, `{"requestId":"r-1","data":`, 1),
			warn: []string{order.RuleEnvelope, "schema_additionalProperties"},
		},
		{
			name: "an expired order's heat map URL is still set",
			id:   aiID,
			body: string(editOrder(t, aiExpired, func(d map[string]any) {
				d["heatmapUrl"] = "https://s3.amazonaws.com/h.png?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=SECRETSIG"
			})),
			warn: []string{order.RuleExpiredURLs},
		},
		{
			name: "an expired order's original URL is still set",
			id:   aiID,
			body: string(editOrder(t, aiExpired, func(d map[string]any) {
				d["originalImageUrl"] = "https://s3.amazonaws.com/o.png?X-Amz-Signature=SECRETSIG"
			})),
			fail: []string{order.RuleExpiredURLs},
		},
		{
			name:     "a 404 that says more than its code",
			id:       validID,
			body:     validAntiAI,
			notFound: `{"code":"ORDER_NOT_FOUND","message":"no order 1"}`,
			warn:     []string{"schema_additionalProperties"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, strict := range []bool{false, true} {
				api := &fakeAPI{Orders: map[string][]byte{tt.id: []byte(tt.body)}, NotFoundBody: tt.notFound}
				rep := runAgainst(t, api, Config{OrderIDs: []string{tt.id}, Strict: strict})
				failed, warned := flat(outcomes(rep, Failed)), flat(outcomes(rep, Warned))
				for _, r := range tt.fail {
					if !slices.Contains(failed, r) {
						t.Errorf("strict=%v: %s did not fail: failed %v, warned %v", strict, r, failed, warned)
					}
				}
				for _, r := range tt.warn {
					got := warned
					if strict {
						got = failed
					}
					if !slices.Contains(got, r) {
						t.Errorf("strict=%v: %s was not reported as it should: failed %v, warned %v", strict, r, failed, warned)
					}
				}
				if !strict && len(tt.fail) == 0 && rep.Failed() {
					t.Errorf("Failed() = true against a live API: failed %v", outcomes(rep, Failed))
				}
				if text := reportText(t, rep); strings.Contains(text, "SECRETSIG") || strings.Contains(text, "AKIAEXAMPLE") {
					t.Errorf("the report shows a presigned URL's signature:\n%s", text)
				}
			}
		})
	}
}

// flat lists every rule of an outcomes map.
func flat(m map[string][]string) []string {
	var all []string
	for _, rs := range m {
		all = append(all, rs...)
	}
	return all
}

// reportText is everything a report says, as JSON.
func reportText(t *testing.T, rep *Report) string {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// overrideAPI answers the paths in answers itself, and every other request as api.
type overrideAPI struct {
	http.Handler
	answers map[string]string
}

func (o overrideAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := o.answers[r.URL.Path]
	if !ok {
		o.Handler.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

// TestAnswersThatAreNoOrderAreValidated: the stats, a list page, a webhook's answer are
// checked against their own schemas, not read as orders (whose unknown fields would
// hide their errors).
func TestAnswersThatAreNoOrderAreValidated(t *testing.T) {
	t.Parallel()
	api := overrideAPI{
		Handler: &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}},
		answers: map[string]string{
			"/api/v2/orders/stats/recent": `{"data":{"dailyStats":"none","domain":[0,5],"ticks":[0,5]}}`,
			"/api/v2/orders":              `{"data":{"orders":[],"pageInfo":"none"}}`,
		},
	}
	rep := runAgainst(t, api, Config{OrderIDs: []string{validID}})
	failed := outcomes(rep, Failed)
	for _, check := range []string{CheckStats, CheckListOrders} {
		if len(failed[check]) == 0 {
			t.Errorf("check %s did not fail: failed %v", check, failed)
		}
	}
}

// TestListedExtractStatusIsTheKnownDrift: a watermarkExtract order listed with status
// detected is contradiction C3 (facts §8), a warning as on GET, not a failed list.
func TestListedExtractStatusIsTheKnownDrift(t *testing.T) {
	t.Parallel()
	broken, err := fixtures.Invalid()
	if err != nil {
		t.Fatal(err)
	}
	var b fixtures.Broken
	for _, x := range broken {
		if x.Name == "drift_extract_status_detected" {
			b = x
		}
	}
	if b.ID == "" {
		t.Fatal("no invalid/drift_extract_status_detected.json")
	}
	api := &listAPI{fakeAPI: &fakeAPI{Orders: map[string][]byte{b.ID: b.Body}}, ids: []string{b.ID}}
	rep := runAgainst(t, api, Config{OrderIDs: []string{b.ID}})
	if f := outcomes(rep, Failed); len(f) > 0 {
		t.Errorf("failed checks = %v; want none", f)
	}
	var listed bool
	for _, res := range rep.Results {
		if res.Check == CheckDriftExtract && res.Outcome == Warned && strings.Contains(res.Request, "/api/v2/orders?") {
			listed = true
		}
	}
	if !listed {
		t.Errorf("no %s warning for the listed order: warned %v", CheckDriftExtract, outcomes(rep, Warned))
	}
}

// TestWebhookSecretIsHidden: a finding about a webhook's secret does not show it.
func TestWebhookSecretIsHidden(t *testing.T) {
	f := Finding{Rule: "schema_pattern", Path: "$.data.secret", Got: `"sk_live_notawhsecretvalue"`, Message: "$.data.secret does not match openapi.yaml"}
	hideSecrets(&f)
	if strings.Contains(f.Got, "notawhsec") {
		t.Errorf("Got = %q; want the secret hidden", f.Got)
	}
	for _, got := range []string{
		`{"id":7,"secret":"whsec_LEAKSECRET3","url":"https://h.example/hook"}`,
		`{"id":7,"secret": "sk_live_odd\"one","name":"a"}`,
		`[{"id":7,"Secret":"LEAKSECRET3...`,
		`the secret whsec_LEAKSECRET3 was sent`,
		`"{\"id\":7,\"secret\":\"abc123LEAKSECRET3\"}"`,
		`{"secret":["LEAKSECRET3","LEAKSECRET3"],"id":7}`,
	} {
		f := Finding{Path: "$.data.webhooks", Got: got, Message: "about " + got}
		hideSecrets(&f)
		if strings.Contains(f.Got+f.Message, "LEAKSECRET3") || strings.Contains(f.Got+f.Message, "odd") {
			t.Errorf("hideSecrets(%s) = Got %s, Message %s; want the secret hidden", got, f.Got, f.Message)
		}
	}
	u := Finding{Got: `"https://h.example/p.jpg?X-Amz-Signature=abc"`, Message: "x https://h.example/p.jpg?sig=abc y"}
	hideSecrets(&u)
	if want := `"https://h.example/p.jpg` + hiddenQuery + `"`; u.Got != want {
		t.Errorf("Got = %q; want %q", u.Got, want)
	}
	if want := "x https://h.example/p.jpg" + hiddenQuery + " y"; u.Message != want {
		t.Errorf("Message = %q; want %q", u.Message, want)
	}
}

// TestAMalformedIDMayBeRefused: the suite asks for an id that is not digits, so that
// it names no order of a live account; a 400 for it is a warning, not a failure (the
// docs do not say), and any other wrong answer still fails.
func TestAMalformedIDMayBeRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		fails  bool
	}{
		{http.StatusBadRequest, `{"code":"VALIDATION_FAILED"}`, false},
		{http.StatusOK, validAntiAI, true},
	} {
		api := &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != ordersPath(missingID) {
				api.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		})
		rep := runAgainst(t, h, Config{OrderIDs: []string{validID}})
		failed, warned := outcomes(rep, Failed)[CheckNotFound], outcomes(rep, Warned)[CheckNotFound]
		if tc.fails != (len(failed) > 0) || (!tc.fails && len(warned) == 0) {
			t.Errorf("%d for %s: not_found failed %v, warned %v; want failed=%v", tc.status, missingID, failed, warned, tc.fails)
		}
	}
}

// TestListAndOrderMayWriteAnInstantApart: the list and GET order agree on createdAt
// when they name one instant, whatever the precision.
func TestListAndOrderMayWriteAnInstantApart(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"2026-03-12T10:00:00.000Z", "2026-03-12T10:00:00Z", true},
		{"2026-03-12T10:00:00.000Z", "2026-03-12T19:00:00.000+09:00", true},
		{"2026-03-12T10:00:00.000Z", "2026-03-12T10:00:00.001Z", false},
		{"2026-03-12T10:00:00.000Z", "yesterday", false},
	} {
		if got := sameInstant(tc.a, tc.b); got != tc.same {
			t.Errorf("sameInstant(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// TestStatsTheDocsLeaveOpen: fewer than seven days, or an axis of fractions, only warn
// against a live API (the docs say "the last 7 days" and give the axis no type); a
// shape the docs do give (dailyStats items) still fails.
func TestStatsTheDocsLeaveOpen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stats string
		fails bool
	}{
		{`{"data":{"dailyStats":[{"usageDate":"03.11","usageCount":0},{"usageDate":"03.12","usageCount":1}],"domain":[0,2.5],"ticks":[0,2.5]}}`, false},
		{`{"data":{"dailyStats":[{"usageDate":"03.12","usageCount":"one"}],"domain":[0,5],"ticks":[0,5]}}`, true},
		{`{"data":{"dailyStats":[{"usageDate":"03.05","usageCount":0},{"usageDate":"03.06","usageCount":0},{"usageDate":"03.07","usageCount":0},{"usageDate":"03.08","usageCount":0},{"usageDate":"03.09","usageCount":0},{"usageDate":"03.10","usageCount":0},{"usageDate":"03.11","usageCount":0},{"usageDate":"03.12","usageCount":0}],"domain":[0,5],"ticks":[0,5]}}`, true},
		{`{"data":{"dailyStats":[{"usageDate":"03.12","usageCount":0}],"domain":[0,5],"ticks":null}}`, true},
	} {
		api := overrideAPI{
			Handler: &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}},
			answers: map[string]string{"/api/v2/orders/stats/recent": tc.stats},
		}
		rep := runAgainst(t, api, Config{OrderIDs: []string{validID}})
		failed, warned := outcomes(rep, Failed)[CheckStats], outcomes(rep, Warned)[CheckStats]
		if tc.fails != (len(failed) > 0) || (!tc.fails && len(warned) == 0) {
			t.Errorf("stats %s: failed %v, warned %v; want failed=%v", tc.stats, failed, warned, tc.fails)
		}
	}
}
