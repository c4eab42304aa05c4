package contract_test

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/contract"
	"github.com/morimock/morimock/morimocktest"
)

// TestSandboxLifecycle: the sandbox passes the lifecycle of every order type with a
// test key and no warning, its clock moved instead of waited on, before the sunset for
// the v2 watermark flows; the JUnit report has a case per step and order type.
func TestSandboxLifecycle(t *testing.T) {
	s := morimocktest.Start(t)
	spec, err := morimock.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.Now()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := contract.Run(context.Background(), spec, contract.Config{BaseURL: s.URL, Token: s.Token, Lifecycle: true, PerScenario: 1})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	// The lifecycle moved the key's clock (back before the watermark sunset, and on
	// past each processing time); it gives the key its clock back as it found it.
	if after, err := s.Now(); err != nil || after.Before(before) || after.After(before.Add(24*time.Hour)) {
		t.Errorf("the key's clock reads %s after the lifecycle, %s before it; want it as found, running on (%v)", after, before, err)
	}
	for _, res := range rep.Results {
		if res.Outcome == contract.Failed || res.Outcome == contract.Warned {
			t.Errorf("%s %s %s [%s]: %+v", res.Check, res.Outcome, res.Request, res.Scenario, res.Findings)
		}
	}
	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	steps := regexp.MustCompile(`<testcase name="[^"]*\[(antiAi|watermarkEmbed|watermarkExtract|aiDetection) (default|_[a-z]+)\]"`).FindAll(junit.Bytes(), -1)
	if len(steps) < 20 {
		t.Errorf("JUnit has %d cases per step and order type; want at least 20", len(steps))
	}
	for _, check := range []string{contract.CheckLifeOutcome, contract.CheckLifeTransitions} {
		n := 0
		for _, res := range rep.Results {
			if res.Check == check && res.Outcome == contract.Passed {
				n++
			}
		}
		if n != 12 {
			t.Errorf("%s passed %d times; want 12 (every flow of the four types, watermark ones included)", check, n)
		}
	}
}
