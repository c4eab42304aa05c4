// Package raceexit runs a package's tests without the race detector's pause at exit.
//
// A binary built with -race sleeps a second when it exits (GORACE atexit_sleep_ms,
// 1000 by default), so that goroutines still running can report a race. Every test
// binary pays it, and `go test -race ./...` runs sixteen of them on two cores: about
// eight seconds of a run spent asleep. The testing package already fails the test
// during which a race is reported, so the pause finds nothing a test did not.
//
// A package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(raceexit.Run(m)) }
package raceexit

import (
	"os"
	"testing"
)

// disabled is what GORACE says to turn the pause off.
const disabled = "atexit_sleep_ms=0"

// Run runs m's tests and returns their exit code. Under -race and with GORACE unset,
// it first starts the test binary again in place of itself (same process, arguments
// and environment) with GORACE=atexit_sleep_ms=0: the race runtime reads GORACE only
// when the process starts. A GORACE set by whoever runs the tests is left alone, and
// so are processes a test starts from the binary (they inherit the variable).
func Run(m *testing.M) int {
	if raceEnabled && os.Getenv("GORACE") == "" {
		reexec(disabled) // returns only when it could not
	}
	return m.Run()
}
