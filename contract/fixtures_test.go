package contract

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/order"
)

// warningFor returns the warning check a broken fixture is named after, if any:
// drift_<check>..., schema_unknown_field and unknown_field.
func warningFor(name string) (string, bool) {
	trimmed := strings.TrimPrefix(strings.TrimPrefix(name, "drift_"), "schema_")
	for _, c := range Checks() {
		if c.Severity != SeverityWarning {
			continue
		}
		if strings.HasPrefix(name, c.Name) || strings.HasPrefix(trimmed, c.Name) {
			return c.Name, true
		}
	}
	return "", false
}

func isRule(name string) bool {
	for _, r := range order.Rules() {
		if r.Name == name {
			return true
		}
	}
	return false
}

// serveBroken runs the suite against one broken body, served under its id (or,
// for order_id_echo, under another id: it breaks its rule only there).
func serveBroken(t *testing.T, b fixtures.Broken, strict bool) *Report {
	t.Helper()
	id := b.ID
	if id == "" || !order.ValidID(id) {
		id = "9000000000000000999"
	}
	if b.Name == order.RuleOrderIDEcho {
		id = "9000000000000000998"
	}
	return runAgainst(t, &fakeAPI{Orders: map[string][]byte{id: b.Body}}, Config{OrderIDs: []string{id}, Strict: strict})
}

func keys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestInvalidFixturesFailTheirCheck: every broken body is caught. With Strict (the
// sandbox's strictness) it fails its check, as always; against a live API a documented
// rule still fails and an inferred one is a named warning, never a pass.
func TestInvalidFixturesFailTheirCheck(t *testing.T) {
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	broken, err := fixtures.Invalid()
	if err != nil {
		t.Fatalf("fixtures.Invalid() error = %v", err)
	}
	if len(broken) == 0 {
		t.Fatal("fixtures.Invalid() is empty")
	}
	bodyChecks := []string{CheckResponseSchema, CheckDomainRules}
	for _, b := range broken {
		t.Run(b.Name, func(t *testing.T) {
			strict := serveBroken(t, b, true)
			lenient := serveBroken(t, b, false)
			failed := outcomes(strict, Failed)
			if !strict.Failed() {
				t.Error("with Strict, Failed() = false; want true")
			}
			switch warning, isWarning := warningFor(b.Name); {
			case isWarning:
				if f := outcomes(lenient, Failed); len(f) > 0 {
					t.Errorf("failed checks = %v; want none: a recognised drift warns and does not fail", f)
				}
				if diff := cmp.Diff([]string{warning}, keys(outcomes(lenient, Warned))); diff != "" {
					t.Errorf("warned checks mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{warning}, keys(failed)); diff != "" {
					t.Errorf("with Strict, failed checks mismatch (-want +got):\n%s", diff)
				}
			case isRule(b.Name):
				if diff := cmp.Diff([]string{b.Name}, failed[CheckDomainRules]); diff != "" {
					t.Errorf("with Strict, failed domain rules mismatch (-want +got):\n%s", diff)
				}
				got := outcomes(lenient, Warned)[CheckDomainRules]
				if basisOf(CheckDomainRules, b.Name).Kind == Documented {
					got = outcomes(lenient, Failed)[CheckDomainRules]
				}
				if !slices.Contains(got, b.Name) {
					t.Errorf("without Strict, rule %s (%s) was not reported: failed %v, warned %v", b.Name, basisOf(CheckDomainRules, b.Name).Kind, outcomes(lenient, Failed), outcomes(lenient, Warned))
				}
			case strings.HasPrefix(b.Name, "schema_"):
				if len(failed[CheckResponseSchema]) == 0 {
					t.Errorf("with Strict, failed checks = %v; want %s", failed, CheckResponseSchema)
				}
				if len(outcomes(lenient, Failed)[CheckResponseSchema])+len(outcomes(lenient, Warned)[CheckResponseSchema]) == 0 {
					t.Errorf("without Strict, %s neither failed nor warned", CheckResponseSchema)
				}
			default:
				t.Fatalf("invalid/%s.json is named after no rule, schema error or drift", b.Name)
			}
			for _, rep := range []*Report{strict, lenient} {
				for _, c := range keys(outcomes(rep, Failed)) {
					if _, isWarning := warningFor(b.Name); !isWarning && !slices.Contains(bodyChecks, c) {
						t.Errorf("check %s failed too; a broken body fails only %v", c, bodyChecks)
					}
				}
				assertActionable(t, rep)
			}
		})
	}
}

// TestConditionalFieldsMayBeAbsent: the docs return aiDetection's thumbnailImageUrl,
// heatmapUrl, overlayUrl and options only when asked; a live API that leaves them out
// or sends null keeps the contract, while Strict (the sandbox's reading) still wants
// every field.
func TestConditionalFieldsMayBeAbsent(t *testing.T) {
	fx, err := fixtures.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	var id string
	for _, f := range fx {
		if f.Type == order.AIDetection && f.Status == order.Complete {
			body, id = f.Body, f.ID
			break
		}
	}
	tests := map[string]func(map[string]any){
		"absent": func(d map[string]any) {
			for _, k := range []string{"thumbnailImageUrl", "heatmapUrl", "overlayUrl", "options"} {
				delete(d, k)
			}
		},
		"null outputs": func(d map[string]any) {
			for _, k := range []string{"thumbnailImageUrl", "heatmapUrl", "overlayUrl"} {
				d[k] = nil
			}
		},
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			var env map[string]map[string]any
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatal(err)
			}
			edit(env["data"])
			b, _ := json.Marshal(env)
			rep := serveBroken(t, fixtures.Broken{Name: name, ID: id, Body: b}, false)
			if rep.Failed() || rep.Warnings() > 0 {
				t.Errorf("a live API that leaves out conditional fields: failed %v, warned %v; want a clean pass", outcomes(rep, Failed), outcomes(rep, Warned))
			}
			if !serveBroken(t, fixtures.Broken{Name: name, ID: id, Body: b}, true).Failed() && name == "absent" {
				t.Error("with Strict, absent fields passed; want field_missing")
			}
		})
	}
}

func TestEveryRuleHasABrokenFixture(t *testing.T) {
	broken, err := fixtures.Invalid()
	if err != nil {
		t.Fatalf("fixtures.Invalid() error = %v", err)
	}
	have := map[string]bool{}
	for _, b := range broken {
		have[b.Name] = true
	}
	for _, r := range order.Rules() {
		if !have[r.Name] {
			t.Errorf("no fixtures/invalid/%s.json: the suite is not proven to catch rule %s", r.Name, r.Name)
		}
	}
}

func TestValidFixturesPass(t *testing.T) {
	fx, err := fixtures.Builtin()
	if err != nil {
		t.Fatalf("fixtures.Builtin() error = %v", err)
	}
	api := &fakeAPI{Orders: map[string][]byte{}}
	var ids []string
	for _, f := range fx {
		api.Orders[f.ID] = f.Body
		ids = append(ids, f.ID)
	}
	rep := runAgainst(t, api, Config{OrderIDs: ids})
	if rep.Orders != len(fx) {
		t.Errorf("Orders = %d; want %d", rep.Orders, len(fx))
	}
	for _, res := range rep.Results {
		if res.Outcome == Failed || res.Outcome == Warned {
			t.Errorf("%s %s: %s: %+v", res.Check, res.Outcome, res.Request, res.Findings)
		}
	}
}

// assertActionable checks that every failure and warning says where, what and why.
func assertActionable(t *testing.T, rep *Report) {
	t.Helper()
	for _, res := range rep.Results {
		if res.Outcome != Failed && res.Outcome != Warned {
			continue
		}
		if res.Request == "" || len(res.Findings) == 0 {
			t.Errorf("%s result %+v has no request or no findings", res.Check, res)
		}
		for _, f := range res.Findings {
			if f.Rule == "" || f.Path == "" || f.Message == "" || f.Fix == "" {
				t.Errorf("%s finding %+v lacks a rule, path, message or fix", res.Check, f)
			}
		}
	}
}

// TestDriftDoesNotHideOtherBreaks: a recognised drift warns for its own field only;
// whatever else the order breaks still fails.
func TestDriftDoesNotHideOtherBreaks(t *testing.T) {
	broken, err := fixtures.Invalid()
	if err != nil {
		t.Fatal(err)
	}
	var drifted []byte
	for _, b := range broken {
		if b.Name == "drift_extract_status_detected" {
			drifted = b.Body
		}
	}
	if drifted == nil {
		t.Fatal("no drift_extract_status_detected fixture")
	}
	tests := []struct {
		name, from, to string
		wantRules      []string
	}{
		{"status disagrees with statusCode", `"statusCode": "detected"`, `"statusCode": "undetected"`, []string{order.RuleExtractAgreement}},
		{"an error message on a result", `"errors": null`, `"errors": "processing failed"`, []string{order.RuleErrorsWhenFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(string(drifted), tt.from, tt.to, 1)
			if body == string(drifted) {
				t.Fatalf("the fixture has no %s", tt.from)
			}
			rep := serveBroken(t, fixtures.Broken{Name: "drifted", ID: "9000000000000000971", Body: []byte(body)}, false)
			if !rep.Failed() {
				t.Fatalf("the suite passed an order with a drift and a real break")
			}
			if diff := cmp.Diff(map[string][]string{CheckDomainRules: tt.wantRules}, outcomes(rep, Failed)); diff != "" {
				t.Errorf("failed checks mismatch (-want +got):\n%s", diff)
			}
			if _, warned := outcomes(rep, Warned)[CheckDriftExtract]; !warned {
				t.Errorf("the drift itself was not reported as %s", CheckDriftExtract)
			}
		})
	}
}
