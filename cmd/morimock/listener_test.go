package main

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestCloseAfterDrainIsNoError: once a drain has ended the accepting (Accept closes
// the listener), the Close that http.Server.Shutdown makes returns nil. Shutdown
// returns that error, and serve reads any error of Shutdown as requests cut (exit 3),
// so a clean stop was reported as cut when Accept closed the listener first.
func TestCloseAfterDrainIsNoError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitListener(ln, 4, time.Second)
	l.drain(context.Background(), 0) // nothing is open: returns at once
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after the drain = %v; want net.ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after the drain closed the listener = %v; want nil", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("a second Close = %v; want nil", err)
	}
}
