// Package spectest gives tests the contract, openapi.yaml, loaded and validated.
package spectest

import (
	"context"
	"testing"

	"github.com/morimock/morimock"
)

// Load returns the embedded contract, or fails tb.
func Load(tb testing.TB) *morimock.Spec {
	tb.Helper()
	s, err := morimock.LoadSpec(context.Background())
	if err != nil {
		tb.Fatalf("LoadSpec() error = %v", err)
	}
	return s
}
