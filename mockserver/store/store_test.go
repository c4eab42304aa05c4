package store_test

import (
	"testing"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/mockserver/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.NewMemory("")
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
	storetest.Run(t, func(t *testing.T) store.Store { return openBolt(t, t.TempDir()) })
	storetest.RunPersistent(t, openBolt)
}
