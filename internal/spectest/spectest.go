// Package spectest gives tests the contract, openapi.yaml, loaded and validated.
package spectest

import (
	"context"
	"sync"
	"testing"

	"github.com/morimock/morimock"
)

// load parses the contract once per test binary: a Spec is read-only after LoadSpec
// (morimock serve shares one across all its requests), and parsing it again for each
// test costs a quarter of a second under the race detector.
var load = sync.OnceValues(func() (*morimock.Spec, error) {
	return morimock.LoadSpec(context.Background())
})

// Load returns the embedded contract, or fails tb. Every caller gets the same Spec;
// treat it as read-only.
func Load(tb testing.TB) *morimock.Spec {
	tb.Helper()
	s, err := load()
	if err != nil {
		tb.Fatalf("LoadSpec() error = %v", err)
	}
	return s
}
