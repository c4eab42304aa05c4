package contract

import (
	"context"
	"errors"
	"github.com/morimock/morimock/internal/spectest"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// TestWebhookWaitInterrupted: a run interrupted while it waits for webhook events
// blames nothing on the API: the orders whose events had not come are not run, the
// one that came is still checked, and the run ends stopped (review2 #6).
func TestWebhookWaitInterrupted(t *testing.T) {
	r := &runner{cfg: Config{WebhookWait: time.Hour, WebhookPublicURL: "http://127.0.0.1:1/hook"}, report: &Report{}}
	h := &hook{id: "7", secret: "whsec_x"}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	orders := []lifeOrder{{flow: flow{typ: order.AntiAI}, id: "1", end: order.Complete}, {flow: flow{typ: order.AIDetection}, id: "2", end: order.Complete}}
	err := h.verify(ctx, r, orders)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("verify() after an interrupt = %v; want context.Canceled", err)
	}
	var skipped int
	for _, res := range r.report.Results {
		switch res.Outcome {
		case Skipped:
			skipped++
		default:
			t.Errorf("%s %s %s: %+v; want it not run", res.Check, res.Outcome, res.OrderID, res.Findings)
		}
	}
	if skipped != 3 {
		t.Errorf("%d results not run; want 3 (two orders and the event log)", skipped)
	}
}

// TestDownloadProbeNeverOnAnotherHost: with --probe-writes and a live key, a server
// that does not name itself morimock gets no order from the download check.
func TestDownloadProbeNeverOnAnotherHost(t *testing.T) {
	api := &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}, OtherMethods: http.StatusMethodNotAllowed}
	var creates []string
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && !strings.HasPrefix(req.URL.Path, "/api/v2/orders/"+validID) {
			mu.Lock()
			creates = append(creates, req.URL.Path)
			mu.Unlock()
		}
		if req.URL.Path == "/_morimock/clock" {
			// A host may answer anything there: only X-Morimock-Version names the sandbox.
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"now":"2026-10-01T00:00:00Z"}`))
			return
		}
		if req.Method == http.MethodGet && req.URL.Path == "/api/v2/orders" {
			// An empty list: the download check has nothing to fetch.
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data":{"orders":[],"pageInfo":{"totalItems":0,"totalPages":0,"currentPage":1,"itemsPerPage":10}}}`))
			return
		}
		api.ServeHTTP(w, req)
	})
	_, err := Run(t.Context(), spectest.Load(t), Config{BaseURL: "http://127.0.0.1:8080", Token: "sk_live_other", ProbeWrites: true, OrderIDs: []string{validID},
		HTTPClient: &http.Client{Transport: handlerTransport{h}}})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(creates) > 0 {
		t.Errorf("POSTs to a host that is not the sandbox: %v; want none", creates)
	}
}
