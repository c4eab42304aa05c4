package mockserver

import (
	"math/rand/v2"
	"time"

	"github.com/morimock/morimock/order"
)

// outcome decides, when an order is created, how it will end: from its file names
// (the vendor's test-key convention, for every key), then from --failure-rate, then
// a seeded default: the same for the same seed and order id, on every replica.
func (s *Server) outcome(tn tenant, t order.Type, id string, names []string, now time.Time) order.Outcome {
	hints := order.HintsFor(t, names)
	g := generator{f: newFaker(s.cfg.Seed, id, t, order.Complete), id: id, now: now}
	dice := rand.New(rand.NewPCG(uint64(s.cfg.Seed), seedOf("outcome", id)))
	var out order.Outcome
	if hints.Fail || (s.cfg.FailureRate > 0 && dice.Float64() < s.cfg.FailureRate) {
		out.Fail = true
		out.ErrorCode = "PROCESSING_ERROR"
		out.ErrorMessage = g.failure(t)
		return out
	}
	switch t {
	case order.AIDetection:
		switch {
		case hints.Probability != nil:
			out.Probability = *hints.Probability
		case tn.test:
			out.Probability = order.ProbabilityDefault // the vendor's test mode
		default:
			out.Probability = g.probability() // live-style: any of the four bands
		}
	case order.WatermarkExtract:
		if hints.Detected != nil && *hints.Detected {
			out.Detected = true
			out.WatermarkText = g.watermark(0)
		}
	}
	return out
}
