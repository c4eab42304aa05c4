package contract_test

import (
	"bytes"
	"context"
	"net"
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

// TestSandboxLifecycleWebhook: against the sandbox, the temporary test webhook gets
// every order's signed event, and its event log (read before it is deleted) lists
// each delivery once, SENT.
func TestSandboxLifecycleWebhook(t *testing.T) {
	s := morimocktest.Start(t)
	spec, err := morimock.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the suite listens there itself
	rep, err := contract.Run(context.Background(), spec, contract.Config{BaseURL: s.URL, Token: s.Token, Lifecycle: true, PerScenario: 1,
		WebhookListen: addr, WebhookPublicURL: "http://" + addr + "/hook"})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	counts := map[string]int{}
	for _, res := range rep.Results {
		if res.Outcome == contract.Failed || res.Outcome == contract.Warned || res.Outcome == contract.Skipped && res.Check == contract.CheckLifeWebhook {
			t.Errorf("%s %s %s [%s]: %+v %s", res.Check, res.Outcome, res.Request, res.Scenario, res.Findings, res.Reason)
		}
		if res.Outcome == contract.Passed {
			counts[res.Check+" "+res.Scenario]++
			counts[res.Check]++
		}
	}
	// One delivery per flow that ran (12), plus the create and the delete.
	if counts[contract.CheckLifeWebhook] != 14 {
		t.Errorf("%s passed %d times; want 14", contract.CheckLifeWebhook, counts[contract.CheckLifeWebhook])
	}
	if counts[contract.CheckWebhooksRead+" lifecycle webhook"] != 1 {
		t.Errorf("the lifecycle webhook's event log was not read and passed: %v", counts)
	}
}
