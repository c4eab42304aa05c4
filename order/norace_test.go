//go:build !race

package order_test

// raceEnabled: see race_test.go.
const raceEnabled = false
