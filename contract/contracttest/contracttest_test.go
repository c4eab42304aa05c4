package contracttest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/morimock/morimock/contract"
)

// report is a hand-made report with one result of each outcome.
func report() *contract.Report {
	rep := &contract.Report{
		Target: "http://127.0.0.1:8080",
		Checks: []contract.CheckResult{
			{CheckInfo: contract.CheckInfo{Name: contract.CheckDomainRules}, Passed: 1, Failed: 1},
			{CheckInfo: contract.CheckInfo{Name: contract.CheckDriftExtract}, Warned: 1},
			{CheckInfo: contract.CheckInfo{Name: contract.CheckWrongMethod}, Skipped: 1},
		},
		Results: []contract.Result{
			{Check: contract.CheckDomainRules, Outcome: contract.Passed, Request: "GET /api/v2/orders/1"},
			{Check: contract.CheckDomainRules, Outcome: contract.Failed, Request: "GET /api/v2/orders/2", Findings: []contract.Finding{
				{Rule: "probability_band", Path: "$.data.statusCode", Message: "probability 0.75 falls in the likely_ai band", Want: `"likely_ai"`, Got: `"uncertain_ai"`},
			}},
			{Check: contract.CheckDriftExtract, Outcome: contract.Warned, Request: "GET /api/v2/orders/3", Findings: []contract.Finding{
				{Rule: "status_values", Path: "$.data.status", Message: "a watermarkExtract order has status detected"},
			}},
			{Check: contract.CheckWrongMethod, Outcome: contract.Skipped, Request: "DELETE /api/v2/orders/1", Reason: "not sent: GETs only"},
		},
	}
	return rep
}

// TestHelperSubtests is run by TestSubtests in a child process, where its failure is
// the point.
func TestHelperSubtests(t *testing.T) {
	if os.Getenv("CONTRACTTEST_HELPER") != "1" {
		t.Skip("run by TestSubtests")
	}
	Subtests(t, report())
}

func TestSubtests(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSubtests$", "-test.v")
	cmd.Env = append(os.Environ(), "CONTRACTTEST_HELPER=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the helper passed; want a failed report to fail its test:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestHelperSubtests/domain_rules/GET_/api/v2/orders/1",
		"--- FAIL: TestHelperSubtests/domain_rules/GET_/api/v2/orders/2",
		"probability_band at $.data.statusCode: probability 0.75 falls in the likely_ai band",
		"--- PASS: TestHelperSubtests/drift_extract_status/GET_/api/v2/orders/3",
		"warning: drift_extract_status",
		"--- SKIP: TestHelperSubtests/wrong_method/DELETE_/api/v2/orders/1",
		"not sent: GETs only",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the helper's output lacks %q:\n%s", want, out)
		}
	}
}
