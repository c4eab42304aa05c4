package store_test

import (
	"testing"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/mockserver/store/storetest"
)

func TestMemory(t *testing.T) {
	t.Parallel() // each test of the suite has its own store
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.NewMemory("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestMemorySpill runs the suite with almost no room for blobs in memory: the first
// few bytes stay there, every other blob goes to the spill directory.
func TestMemorySpill(t *testing.T) {
	t.Parallel() // its own stores and spill directories
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.NewMemoryBudget(4, 10)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func openBolt(t *testing.T, dir string) store.Store {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBolt(t *testing.T) {
	t.Parallel() // its own directories; mostly waits on fsync
	storetest.Run(t, func(t *testing.T) store.Store { return openBolt(t, t.TempDir()) })
	storetest.RunPersistent(t, openBolt)
}

// TestBoltBlobFiles runs the suite with every blob over 4 bytes kept as a file.
func TestBoltBlobFiles(t *testing.T) {
	t.Parallel() // its own directories; mostly waits on fsync
	open := func(t *testing.T, dir string) store.Store {
		s, err := store.OpenBudget(dir, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
	storetest.RunPersistent(t, open)
}
