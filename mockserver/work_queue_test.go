package mockserver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWorkQueueTakesTenantsInTurn: one tenant's long queue does not hold back
// another's order (the reviewer's four TIFFs before a small PNG).
func TestWorkQueueTakesTenantsInTurn(t *testing.T) {
	var q workQueueOf
	for _, k := range []workKey{{"q9", "1"}, {"q9", "2"}, {"q9", "3"}, {"q9", "4"}, {"other", "s"}, {"third", "t"}, {"other", "s2"}} {
		if !q.push(k) {
			t.Fatalf("push(%v) refused", k)
		}
	}
	var got []workKey
	for k, ok := q.pop(); ok; k, ok = q.pop() {
		got = append(got, k)
	}
	want := []workKey{{"q9", "1"}, {"other", "s"}, {"third", "t"}, {"q9", "2"}, {"other", "s2"}, {"q9", "3"}, {"q9", "4"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(workKey{})); diff != "" {
		t.Errorf("pop order (-want +got):\n%s", diff)
	}
	for i := range workQueue {
		q.push(workKey{"flood", string(rune(i))})
	}
	if q.push(workKey{"late", "x"}) {
		t.Errorf("push past %d waiting orders accepted; a later read queues it", workQueue)
	}
}
