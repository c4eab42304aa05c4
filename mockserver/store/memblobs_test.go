package store

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestMemBlobsShareContent: blobs of the same bytes hold them once against the
// budget, stay readable while any of them is kept, give the bytes back when the last
// goes, and a blob replaced by other bytes gives its share back. Over the budget, a
// content already held still stays in memory; a new one goes to the disk.
func TestMemBlobsShareContent(t *testing.T) {
	ctx := context.Background()
	m := newTestMemory(t)
	b := m.blobs
	b.lim = 3000
	photo := bytes.Repeat([]byte("p"), 1000)
	used := func() int64 { b.mu.Lock(); defer b.mu.Unlock(); return b.used }
	for _, k := range []string{"o/t/1/in/0", "o/t/2/in/0", "o/t/3/in/0"} {
		if err := b.keep(ctx, k, bytes.Clone(photo)); err != nil {
			t.Fatal(err)
		}
	}
	if got := used(); got != 1000 {
		t.Errorf("three blobs of the same 1,000 bytes use %d; want 1000", got)
	}
	if err := m.DeleteBlobs(ctx, "o/t/1/"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PutBlob(ctx, "o/t/2/in/0", strings.NewReader("other"), 100); err != nil {
		t.Fatal(err)
	}
	if blobString(t, m, "o/t/3/in/0") != string(photo) || blobString(t, m, "o/t/2/in/0") != "other" || used() != 1005 {
		t.Errorf("after a delete and a replace: used %d; want 1005 and both blobs readable", used())
	}
	// Fill the budget with other bytes: the photo again still shares memory, a new
	// content goes to the spill directory and reads back the same.
	if err := b.keep(ctx, "o/t/4/x", bytes.Repeat([]byte("q"), 1990)); err != nil {
		t.Fatal(err)
	}
	if err := b.keep(ctx, "o/t/5/in/0", bytes.Clone(photo)); err != nil {
		t.Fatal(err)
	}
	if err := b.keep(ctx, "o/t/6/new", bytes.Repeat([]byte("n"), 100)); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	inMem := b.node([]string{"o", "t", "5", "in"}, false).blobs["0"].content != nil
	onDisk := b.node([]string{"o", "t", "6"}, false).blobs["new"].onDisk
	b.mu.Unlock()
	if !inMem || !onDisk {
		t.Errorf("over the budget: a held content in memory %v (want true), a new one on disk %v (want true)", inMem, onDisk)
	}
	if blobString(t, m, "o/t/6/new") != strings.Repeat("n", 100) || blobString(t, m, "o/t/5/in/0") != string(photo) {
		t.Errorf("blobs over the budget do not read back")
	}
	for _, p := range []string{"o/t/"} {
		if err := m.DeleteBlobs(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	b.mu.Lock()
	left := len(b.byHash)
	b.mu.Unlock()
	if used() != 0 || left != 0 {
		t.Errorf("after deleting every blob: used %d, %d contents held; want 0 and 0", used(), left)
	}
}

// blobString reads the blob key of s whole.
func blobString(t *testing.T, s Store, key string) string {
	t.Helper()
	b, err := s.OpenBlob(context.Background(), key)
	if err != nil {
		t.Fatalf("OpenBlob(%s): %v", key, err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read blob %s: %v", key, err)
	}
	return string(got)
}
