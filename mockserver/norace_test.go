//go:build !race

package mockserver

// raceEnabled: see race_test.go.
const raceEnabled = false
