package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/morimock/morimock/contract"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/morimocktest"
)

// TestSandboxLifecycle: the sandbox passes the lifecycle of every order type with a
// test key and no warning, its clock moved instead of waited on, before the sunset for
// the v2 watermark flows; the JUnit report has a case per step and order type.
func TestSandboxLifecycle(t *testing.T) {
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	s := morimocktest.Start(t)
	spec := spectest.Load(t)
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
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	s := morimocktest.Start(t)
	spec := spectest.Load(t)
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

// TestSandboxDownloadProbe: against the sandbox with --probe-writes and a live key,
// the download check has no order to fetch on a fresh sandbox, so it makes one
// anti-AI order, fetches its downloadUrl without credentials and passes; the key's
// clock is set back. Without --probe-writes it makes none and is skipped.
func TestSandboxDownloadProbe(t *testing.T) {
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	s := morimocktest.Start(t)
	spec := spectest.Load(t)
	outcome := func(probe bool) (contract.Outcome, int) {
		t.Helper()
		rep, err := contract.Run(context.Background(), spec, contract.Config{BaseURL: s.URL, Token: morimocktest.LiveToken, ProbeWrites: probe})
		if err != nil {
			t.Fatalf("Run(ProbeWrites: %v) error = %v", probe, err)
		}
		for _, res := range rep.Results {
			if res.Check == contract.CheckDownload {
				if res.Outcome == contract.Failed {
					t.Errorf("download failed: %+v", res.Findings)
				}
				return res.Outcome, rep.Orders
			}
		}
		t.Fatal("no download result")
		return "", 0
	}
	if got, _ := outcome(false); got != contract.Skipped {
		t.Errorf("download without --probe-writes = %s; want skipped (nothing made)", got)
	}
	liveNow := func() time.Time {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/_morimock/clock", nil)
		req.Header.Set("Authorization", "Bearer "+morimocktest.LiveToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var c struct {
			Now time.Time `json:"now"`
		}
		if err := json.NewDecoder(res.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c.Now
	}
	before := liveNow()
	if got, _ := outcome(true); got != contract.Passed {
		t.Errorf("download with --probe-writes against the sandbox = %s; want passed", got)
	}
	// The probe moved the key's clock by minutes; it must be back, running on.
	if after := liveNow(); after.Before(before) || after.After(before.Add(time.Minute)) {
		t.Errorf("the live key's clock reads %s after the probe, %s before; want it set back", after, before)
	}
}
