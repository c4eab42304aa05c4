// Package contracttest runs the contract suite from Go tests: Subtests turns a
// contract.Report into one t.Run per check and one per order or request below it,
// so that `go test` shows which check broke for which order.
package contracttest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/contract"
)

// Run runs the suite against cfg.BaseURL and reports it as subtests of t. It fails t
// at once when the suite could not run.
func Run(t *testing.T, cfg contract.Config) *contract.Report {
	t.Helper()
	ctx := t.Context()
	spec, err := morimock.LoadSpec(context.WithoutCancel(ctx))
	if err != nil {
		t.Fatalf("LoadSpec() error = %v", err)
	}
	rep, err := contract.Run(ctx, spec, cfg)
	if err != nil {
		t.Fatalf("contract.Run() error = %v", err)
	}
	Subtests(t, rep)
	return rep
}

// Subtests turns a report into t.Run subtests: check, then order or request. A
// failed result fails its subtest with every finding; a warning is logged (and fails
// only when the report is Strict, where it already is a failure); a skipped one skips.
func Subtests(t *testing.T, rep *contract.Report) {
	t.Helper()
	for _, c := range rep.Checks {
		t.Run(c.Name, func(t *testing.T) {
			for _, res := range rep.Results {
				if res.Check != c.Name {
					continue
				}
				t.Run(caseName(res), func(t *testing.T) {
					switch res.Outcome {
					case contract.Failed:
						t.Error(describe(res))
					case contract.Warned:
						t.Log("warning: " + describe(res))
					case contract.Skipped:
						t.Skip(res.Reason)
					}
				})
			}
		})
	}
}

func caseName(res contract.Result) string {
	name := res.Request
	if res.Scenario != "" {
		name += " " + res.Scenario
	}
	return name
}

func describe(res contract.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", res.Check, res.Request)
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "\n%s at %s: %s", f.Rule, f.Path, f.Message)
		if f.Want != "" || f.Got != "" {
			fmt.Fprintf(&b, "\n  want %s\n  got  %s", f.Want, f.Got)
		}
		if f.Fix != "" {
			fmt.Fprintf(&b, "\n  fix: %s", f.Fix)
		}
	}
	return b.String()
}
