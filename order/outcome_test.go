package order

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHintsFor(t *testing.T) {
	ai, human := ProbabilityAI, ProbabilityHuman
	yes, no := true, false
	tests := []struct {
		name  string
		t     Type
		files []string
		want  Hints
	}{
		{"plain", AntiAI, []string{"photo.jpg"}, Hints{}},
		{"fail on any file", AntiAI, []string{"a.jpg", "b_fail.png"}, Hints{Fail: true}},
		{"fail mid-name", WatermarkEmbed, []string{"b_fail_2.pdf"}, Hints{Fail: true}},
		{"fail upper case", AIDetection, []string{"B_FAIL.png"}, Hints{Fail: true}},
		{"ai", AIDetection, []string{"cat_ai.png"}, Hints{Probability: &ai}},
		{"human", AIDetection, []string{"cat_human.webp"}, Hints{Probability: &human}},
		{"ai is a part, not a prefix", AIDetection, []string{"photo_aircraft.jpg"}, Hints{}},
		{"a name that is only the word", AIDetection, []string{"ai.jpg"}, Hints{}},
		{"ai only for aiDetection", AntiAI, []string{"cat_ai.png"}, Hints{}},
		{"detected", WatermarkExtract, []string{"w_detected.jpg", "original.jpg"}, Hints{Detected: &yes}},
		{"undetected", WatermarkExtract, []string{"w_undetected.jpg"}, Hints{Detected: &no}},
		{"original does not decide", WatermarkExtract, []string{"w.jpg", "o_detected.jpg"}, Hints{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, HintsFor(tc.t, tc.files)); diff != "" {
				t.Errorf("HintsFor(%s, %q) mismatch (-want +got):\n%s", tc.t, tc.files, diff)
			}
		})
	}
}
