package contract

import (
	"context"
	"errors"
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
