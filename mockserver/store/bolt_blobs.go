package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Blobs up to boltBlobMax (uploads of ordinary images, every result, thumbnail and heat
// map of one) are kept in the bbolt file: a put is one more write in a batched commit,
// sharing its fsync with the requests around it, instead of a temporary file, its
// fsync, a directory per order, a rename and the directory's fsync. Larger blobs stream
// to files under dir/blobs as before, so no upload is ever held whole in memory beyond
// this bound. A blob's bytes are looked for in bbolt first: a small put over a large
// blob leaves the old file shadowed until its order's blobs are deleted, which saves
// every small put a syscall.
//
// In bbolt, bytes are kept once per content: bucket "blobRefs" maps a key to its
// modification time (Unix nanoseconds, big-endian) and the SHA-256 of its bytes,
// "contents" maps that digest to the bytes and "contentRefs" to how many keys name
// it. A test suite uploads the same fixtures again and again and gets the same
// outputs each time (the server's cache of outputs); writing their bytes once, not
// once per order, cut the bytes a lifecycle wrote to disk from about 480 KB to a
// small fraction (bbolt rewrites a large value's leaf, and its neighbour's, on every
// insert beside it), and the disk's bandwidth was what bounded --state-dir. Bucket
// "blobs" holds blobs written before (key -> modification time, then the bytes):
// read, replaced and deleted, never written.
const boltBlobMax = 256 << 10

var (
	bucketBlobs       = []byte("blobs")
	bucketBlobRefs    = []byte("blobRefs")
	bucketContents    = []byte("contents")
	bucketContentRefs = []byte("contentRefs")
)

// putBlobTx stores data under key in tx, sharing the bytes of an equal content.
func putBlobTx(tx *bolt.Tx, key []byte, data []byte, mod time.Time) error {
	if err := dropBlobTx(tx, key); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	refs := tx.Bucket(bucketContentRefs)
	n := uint64(0)
	if v := refs.Get(sum[:]); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	} else if err := tx.Bucket(bucketContents).Put(sum[:], data); err != nil {
		return err
	}
	if err := refs.Put(sum[:], binary.BigEndian.AppendUint64(nil, n+1)); err != nil {
		return err
	}
	ref := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(sum)), uint64(mod.UnixNano()))
	return tx.Bucket(bucketBlobRefs).Put(key, append(ref, sum[:]...))
}

// dropBlobTx deletes the blob key kept in bbolt, if any, and its content with it when
// no other key names the content.
func dropBlobTx(tx *bolt.Tx, key []byte) error {
	if err := tx.Bucket(bucketBlobs).Delete(key); err != nil {
		return err
	}
	brefs := tx.Bucket(bucketBlobRefs)
	v := brefs.Get(key)
	if len(v) != 8+sha256.Size {
		return nil
	}
	sum := bytes.Clone(v[8:])
	if err := brefs.Delete(key); err != nil {
		return err
	}
	refs := tx.Bucket(bucketContentRefs)
	n := uint64(0)
	if c := refs.Get(sum); len(c) == 8 {
		n = binary.BigEndian.Uint64(c)
	}
	if n > 1 {
		return refs.Put(sum, binary.BigEndian.AppendUint64(nil, n-1))
	}
	if err := refs.Delete(sum); err != nil {
		return err
	}
	return tx.Bucket(bucketContents).Delete(sum)
}

// getBlobTx returns the bytes of the blob key kept in bbolt (valid only in tx) and
// its modification time; ok is false when bbolt has no such blob.
func getBlobTx(tx *bolt.Tx, key []byte) (data []byte, mod time.Time, ok bool) {
	if v := tx.Bucket(bucketBlobRefs).Get(key); len(v) == 8+sha256.Size {
		if data := tx.Bucket(bucketContents).Get(v[8:]); data != nil {
			return data, time.Unix(0, int64(binary.BigEndian.Uint64(v))), true
		}
	}
	if v := tx.Bucket(bucketBlobs).Get(key); len(v) >= 8 {
		return v[8:], time.Unix(0, int64(binary.BigEndian.Uint64(v))), true
	}
	return nil, time.Time{}, false
}

// PutBlob implements Store.
func (s *Bolt) PutBlob(ctx context.Context, key string, r io.Reader, max int64) (int64, error) {
	if _, err := checkKey(key); err != nil {
		return 0, err
	}
	small := min(max, s.blobMax)
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(ctxReader{ctx, r}, small+1))
	if err != nil {
		return 0, fmt.Errorf("write blob %q: %w", key, err)
	}
	if n > max {
		return 0, ErrTooLarge
	}
	if n <= small {
		now := time.Now()
		err := s.write(func(tx *bolt.Tx) error { return putBlobTx(tx, []byte(key), buf.Bytes(), now) })
		if err != nil {
			return 0, fmt.Errorf("write blob %q: %w", key, err)
		}
		return n, nil
	}
	n, err = s.blobs.put(ctx, key, io.MultiReader(&buf, r), max)
	if err != nil {
		return 0, err
	}
	// The file now holds the blob: drop a smaller one it replaces.
	var had bool
	s.db.View(func(tx *bolt.Tx) error { _, _, had = getBlobTx(tx, []byte(key)); return nil })
	if had {
		err := s.write(func(tx *bolt.Tx) error { return dropBlobTx(tx, []byte(key)) })
		if err != nil {
			return 0, fmt.Errorf("write blob %q: %w", key, err)
		}
	}
	return n, nil
}

// OpenBlob implements Store.
func (s *Bolt) OpenBlob(ctx context.Context, key string) (Blob, error) {
	if _, err := checkKey(key); err != nil {
		return nil, err
	}
	var b Blob
	s.db.View(func(tx *bolt.Tx) error {
		if data, mod, ok := getBlobTx(tx, []byte(key)); ok { // bbolt's bytes live only as long as the transaction: copy
			b = memBlobReader{Reader: bytes.NewReader(bytes.Clone(data)), mod: mod}
		}
		return nil
	})
	if b != nil {
		return b, nil
	}
	return s.blobs.open(key)
}

// DeleteBlobs implements Store.
func (s *Bolt) DeleteBlobs(ctx context.Context, prefix string) error {
	return s.removeBlobs([]string{prefix}, nil)
}

// removeBlobs deletes the whole-key blobs keys and every blob under prefixes, in bbolt
// and on disk.
func (s *Bolt) removeBlobs(prefixes, keys []string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		var del [][]byte
		for _, p := range prefixes {
			for _, name := range [][]byte{bucketBlobs, bucketBlobRefs} {
				c := tx.Bucket(name).Cursor()
				for k, _ := c.Seek([]byte(p)); k != nil && bytes.HasPrefix(k, []byte(p)); k, _ = c.Next() {
					del = append(del, bytes.Clone(k))
				}
			}
		}
		for _, k := range keys {
			del = append(del, []byte(k))
		}
		for _, k := range del {
			if err := dropBlobTx(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("delete blobs: %w", err)
	}
	return errors.Join(err, s.blobs.removeAll(prefixes, keys))
}
