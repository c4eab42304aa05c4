package contract

import (
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

func TestInvalidFixturesFailTheirCheck(t *testing.T) {
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
			rep := serveBroken(t, b, false)
			failed, warned := outcomes(rep, Failed), outcomes(rep, Warned)
			switch warning, isWarning := warningFor(b.Name); {
			case isWarning:
				if len(failed) > 0 {
					t.Errorf("failed checks = %v; want none: a recognised drift warns and does not fail", failed)
				}
				if diff := cmp.Diff([]string{warning}, keys(warned)); diff != "" {
					t.Errorf("warned checks mismatch (-want +got):\n%s", diff)
				}
				strict := serveBroken(t, b, true)
				if diff := cmp.Diff([]string{warning}, keys(outcomes(strict, Failed))); diff != "" {
					t.Errorf("with Strict, failed checks mismatch (-want +got):\n%s", diff)
				}
				if !strict.Failed() {
					t.Error("with Strict, Failed() = false; want true")
				}
			case isRule(b.Name):
				if diff := cmp.Diff([]string{b.Name}, failed[CheckDomainRules]); diff != "" {
					t.Errorf("failed domain rules mismatch (-want +got):\n%s", diff)
				}
				for _, c := range keys(failed) {
					if !slices.Contains(bodyChecks, c) {
						t.Errorf("check %s failed too (%v); a broken body fails only %v", c, failed[c], bodyChecks)
					}
				}
			case strings.HasPrefix(b.Name, "schema_"):
				if len(failed[CheckResponseSchema]) == 0 {
					t.Errorf("failed checks = %v; want %s", failed, CheckResponseSchema)
				}
				for _, c := range keys(failed) {
					if !slices.Contains(bodyChecks, c) {
						t.Errorf("check %s failed too (%v); a broken body fails only %v", c, failed[c], bodyChecks)
					}
				}
			default:
				t.Fatalf("invalid/%s.json is named after no rule, schema error or drift", b.Name)
			}
			if _, isWarning := warningFor(b.Name); !isWarning {
				if len(warned) > 0 {
					t.Errorf("warned checks = %v; want none", warned)
				}
				if !rep.Failed() {
					t.Error("Failed() = false; want true")
				}
			}
			assertActionable(t, rep)
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
