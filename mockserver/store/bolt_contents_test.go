package store

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestBoltKeepsEachContentOnce: small blobs of the same bytes share one copy in the
// bbolt file, counted by how many keys name it; replacing or deleting a key gives its
// share back, and the bytes go with the last one. A blob written in the format before
// contents were shared is still read, replaced and deleted. Verify holds throughout.
func TestBoltKeepsEachContentOnce(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	photo := strings.Repeat("photo bytes ", 3000)
	contents := func() (n int, refs uint64) {
		t.Helper()
		s.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(bucketContents).Stats().KeyN
			tx.Bucket(bucketContentRefs).ForEach(func(_, v []byte) error { refs += binary.BigEndian.Uint64(v); return nil })
			return nil
		})
		if err := s.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		return n, refs
	}
	for _, k := range []string{"o/t/1/in/0", "o/t/2/in/0"} {
		if _, err := s.PutBlob(ctx, k, strings.NewReader(photo), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateOrderBlobs(ctx, "t", "none", []NamedBlob{{Key: "o/t/3/out/0", Data: []byte(photo)}}, nil); err == nil {
		t.Fatal("UpdateOrderBlobs of an order that does not exist succeeded")
	}
	if n, refs := contents(); n != 1 || refs != 2 {
		t.Errorf("two blobs of the same bytes: %d contents, %d references; want 1 and 2", n, refs)
	}
	if _, err := s.PutBlob(ctx, "o/t/1/in/0", strings.NewReader("other"), 1<<20); err != nil {
		t.Fatal(err)
	}
	if n, refs := contents(); n != 2 || refs != 2 || blobString(t, s, "o/t/1/in/0") != "other" || blobString(t, s, "o/t/2/in/0") != photo {
		t.Errorf("after a replace: %d contents, %d references; want 2 and 2, each blob its bytes", n, refs)
	}
	// A blob in the earlier format, written as that version did.
	s.db.Update(func(tx *bolt.Tx) error {
		v := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
		return tx.Bucket(bucketBlobs).Put([]byte("o/t/4/in/0"), append(v, "old format"...))
	})
	if blobString(t, s, "o/t/4/in/0") != "old format" {
		t.Errorf("a blob of the earlier format is not read")
	}
	if _, err := s.PutBlob(ctx, "o/t/4/in/0", strings.NewReader(photo), 1<<20); err != nil {
		t.Fatal(err)
	}
	if blobString(t, s, "o/t/4/in/0") != photo {
		t.Errorf("a blob of the earlier format is not replaced")
	}
	for _, p := range []string{"o/t/1/", "o/t/2/", "o/t/4/"} {
		if err := s.DeleteBlobs(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var old int
	s.db.View(func(tx *bolt.Tx) error { old = tx.Bucket(bucketBlobs).Stats().KeyN; return nil })
	if n, refs := contents(); n != 0 || refs != 0 || old != 0 {
		t.Errorf("after deleting every blob: %d contents, %d references, %d blobs of the earlier format; want none", n, refs, old)
	}
	if _, err := s.OpenBlob(ctx, "o/t/2/in/0"); err == nil {
		t.Errorf("a deleted blob still opens")
	}
}
