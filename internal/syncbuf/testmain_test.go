package syncbuf

import (
	"os"
	"testing"

	"github.com/morimock/morimock/internal/raceexit"
)

// TestMain skips the race detector's second of sleep at exit (see raceexit).
func TestMain(m *testing.M) { os.Exit(raceexit.Run(m)) }
