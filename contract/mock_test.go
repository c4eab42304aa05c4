package contract_test

import (
	"context"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/contract"
	"github.com/morimock/morimock/contract/contracttest"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/order"
)

// newMock serves morimock on a free port with a frozen clock.
func newMock(t *testing.T, cfg mockserver.Config) string {
	t.Helper()
	spec := spectest.Load(t)
	if cfg.Now == nil {
		frozen := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		cfg.Now = func() time.Time { return frozen }
	}
	mock, err := mockserver.New(context.Background(), spec, cfg)
	if err != nil {
		t.Fatalf("mockserver.New() error = %v", err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestMockKeepsTheContract is the suite's end-to-end proof: morimock, with no ids
// given, passes every check for every type x status, fixture and example, with no
// warning.
func TestMockKeepsTheContract(t *testing.T) {
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	base := newMock(t, mockserver.Config{Seed: 7})
	rep := contracttest.Run(t, contract.Config{BaseURL: base, Token: "x", ProbeWrites: true})
	if !rep.Mock {
		t.Error("Mock = false; want the suite to recognise morimock by " + contract.MockHeader)
	}
	if rep.Failed() || rep.Warnings() > 0 {
		t.Errorf("Failed() = %v, Warnings() = %d; want a clean pass", rep.Failed(), rep.Warnings())
	}
	// Every type x status was asked for, 10 ids each, and the mock honoured it.
	asked := map[string]int{}
	for _, res := range rep.Results {
		if res.Check == contract.CheckMockScenario && res.Outcome == contract.Passed {
			asked[res.Scenario]++
		}
	}
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			pref := "type=" + string(typ) + ", status=" + string(st)
			if asked[pref] != 10 {
				t.Errorf("scenario %q passed %d times; want 10", pref, asked[pref])
			}
		}
	}
}

// TestMockWithAnEarlyClock: frozen before the built-in expired fixtures are 7 days
// old, the mock leaves them out and serves generated orders for their ids; the suite
// checks those as plain orders and still passes.
func TestMockWithAnEarlyClock(t *testing.T) {
	t.Parallel() // its own servers on free ports; TestHostileAnswersAreBounded, which reads MemStats, is serial and done before
	early := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	base := newMock(t, mockserver.Config{Seed: 7, Now: func() time.Time { return early }})
	rep := contracttest.Run(t, contract.Config{BaseURL: base, Token: "x"})
	if rep.Failed() || rep.Warnings() > 0 {
		t.Errorf("Failed() = %v, Warnings() = %d; want a clean pass", rep.Failed(), rep.Warnings())
	}
	var skipped []string
	for _, res := range rep.Results {
		if res.Check == contract.CheckMockScenario && res.Outcome == contract.Skipped {
			skipped = append(skipped, res.OrderID)
		}
	}
	want := []string{"9000000000000000140", "9000000000000000240", "9000000000000000340", "9000000000000000440"}
	sort.Strings(skipped)
	if diff := cmp.Diff(want, skipped); diff != "" {
		t.Errorf("mock_scenario skipped for ids mismatch (-want +got):\n%s", diff)
	}
}
