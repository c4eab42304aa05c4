package store

import "testing"

// newTestMemory is an in-memory store for one test, closed when the test ends.
func newTestMemory(t *testing.T) *Memory {
	t.Helper()
	m, err := NewMemory("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// NewMemoryBudget is NewMemory with the in-memory blob bounds set, so that the tests
// can send blobs to the spill directory with small bodies.
func NewMemoryBudget(max, limit int64) (*Memory, error) {
	m, err := NewMemory("")
	if err != nil {
		return nil, err
	}
	m.blobs.max, m.blobs.lim = max, limit
	return m, nil
}

// OpenBudget is Open with blobs over max bytes kept as files, so that the tests reach
// the file tier with small bodies.
func OpenBudget(dir string, max int64) (*Bolt, error) {
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	s.blobMax = max
	return s, nil
}
