package morimocktest

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	s := Start(t)
	at := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	if err := s.SetNow(at); err != nil {
		t.Fatal(err)
	}
	if err := s.Advance(36 * time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.Now()
	if err != nil {
		t.Fatal(err)
	}
	// The clock keeps running from where it was set, so it may have moved on: by how
	// much depends on the machine, so only the lower bound is asserted.
	if want := at.Add(36 * time.Hour); got.Before(want) {
		t.Errorf("Now() = %s; want %s or a moment later", got, want)
	}
	if err := s.Advance(-time.Second); err == nil {
		t.Errorf("Advance(-1s) error = nil; want an error")
	}
}
