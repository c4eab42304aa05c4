package order

import (
	"path"
	"strings"
)

// Probabilities the vendor's test-key convention gives an aiDetection order by its
// file name (_ai, _human), and without either.
const (
	ProbabilityAI      = 0.98
	ProbabilityHuman   = 0.02
	ProbabilityDefault = 0.02
)

// Hints is what an order's file names ask of its outcome, by the vendor's test-key
// convention: a name part _fail fails the order (any file), _ai and _human set an
// aiDetection probability, _detected and _undetected an extract's result. A part is
// what lies between underscores in the name without its extension, so photo_ai.jpg
// and photo_ai_2.jpg ask for AI, and photo_aircraft.jpg does not.
type Hints struct {
	Fail        bool
	Probability *float64 // aiDetection: set by _ai or _human
	Detected    *bool    // watermarkExtract: set by _detected or _undetected
}

// HintsFor reads the hints of an order of type t from its file names. For
// watermarkExtract only the inspected file (the first name) sets Detected.
func HintsFor(t Type, names []string) Hints {
	var h Hints
	for i, name := range names {
		stem := strings.TrimSuffix(name, path.Ext(name))
		for _, part := range strings.Split(strings.ToLower(stem), "_")[1:] {
			switch {
			case part == "fail":
				h.Fail = true
			case part == "ai" && t == AIDetection:
				h.Probability = ptrTo(ProbabilityAI)
			case part == "human" && t == AIDetection:
				h.Probability = ptrTo(ProbabilityHuman)
			case part == "detected" && t == WatermarkExtract && i == 0:
				h.Detected = ptrTo(true)
			case part == "undetected" && t == WatermarkExtract && i == 0:
				h.Detected = ptrTo(false)
			}
		}
	}
	return h
}

func ptrTo[T any](v T) *T { return &v }
