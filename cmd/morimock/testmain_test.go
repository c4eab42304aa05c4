package main

import (
	"context"
	"os"
	"testing"

	"github.com/morimock/morimock/internal/raceexit"
)

// TestMain skips the race detector's second of sleep at exit (see raceexit). Run as
// `image-worker`, the test binary is the image worker process that serve starts
// (os.Executable is the test binary here).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "image-worker" {
		if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(raceexit.Run(m))
}
