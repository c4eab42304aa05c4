//go:build race

package order_test

// raceEnabled: the race detector slows the property tests' every step ten-fold and
// finds nothing more in the thousandth sample than in the hundredth; they take
// fewer samples under it and still assert that the whole space was reached.
const raceEnabled = true
