package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommit: concurrent writes all land, each write's error is its own (a
// failing one leaves no trace and does not fail the writes committed with it), and a
// write that runs alone still commits.
func TestGroupCommit(t *testing.T) {
	db := groupDB(t)
	var g groupCommit
	boom := errors.New("boom")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.write(db, func(tx *bolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put([]byte(fmt.Sprint(i)), []byte("v")); err != nil {
					return err
				}
				if i%50 == 7 {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	if err := g.write(db, func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("alone"), []byte("v")) }); err != nil {
		t.Fatalf("a lone write: %v", err)
	}
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range n {
			got := b.Get([]byte(fmt.Sprint(i))) != nil
			if fails := i%50 == 7; fails != errors.Is(errs[i], boom) || got == fails {
				t.Errorf("write %d: error %v, key kept %v", i, errs[i], got)
			}
		}
		if b.Get([]byte("alone")) == nil {
			t.Errorf("the lone write is missing")
		}
		return nil
	})
	if g.running || len(g.queued) > 0 {
		t.Errorf("after every write returned: running %v, %d queued; want neither", g.running, len(g.queued))
	}
}

// TestGroupCommitPanics: a write that panics panics in its own caller, and the writes
// committed around it, and the ones after, are unharmed.
func TestGroupCommitPanics(t *testing.T) {
	db := groupDB(t)
	var g groupCommit
	var wg sync.WaitGroup
	panicked := make([]bool, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panicked[i] = recover() != nil }()
			g.write(db, func(tx *bolt.Tx) error {
				if i == 5 {
					panic("bad write")
				}
				return tx.Bucket([]byte("b")).Put([]byte(fmt.Sprint(i)), []byte("v"))
			})
		}()
	}
	wg.Wait()
	if err := g.write(db, func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("after"), []byte("v")) }); err != nil {
		t.Fatalf("a write after the panic: %v", err)
	}
	db.View(func(tx *bolt.Tx) error {
		for i := range 20 {
			if got := tx.Bucket([]byte("b")).Get([]byte(fmt.Sprint(i))) != nil; got == (i == 5) || panicked[i] != (i == 5) {
				t.Errorf("write %d: kept %v, panicked %v", i, got, panicked[i])
			}
		}
		return nil
	})
}

// groupDB is a bbolt file with one bucket, "b", closed when the test ends.
func groupDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}
