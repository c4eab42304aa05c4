package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Blobs up to boltBlobMax (uploads of ordinary images, every result, thumbnail and heat
// map of one) are kept in the bbolt file, bucket "blobs" (key -> modification time in
// Unix nanoseconds, big-endian, then the bytes): a put is one more write in a batched
// commit, sharing its fsync with the requests around it, instead of a temporary file,
// its fsync, a directory per order, a rename and the directory's fsync. Larger blobs
// stream to files under dir/blobs as before, so no upload is ever held whole in memory
// beyond this bound. A blob's bytes are looked for in bbolt first: a small put over a
// large blob leaves the old file shadowed until its order's blobs are deleted, which
// saves every small put a syscall.
const boltBlobMax = 256 << 10

var bucketBlobs = []byte("blobs")

// PutBlob implements Store.
func (s *Bolt) PutBlob(ctx context.Context, key string, r io.Reader, max int64) (int64, error) {
	if _, err := checkKey(key); err != nil {
		return 0, err
	}
	small := min(max, s.blobMax)
	var buf bytes.Buffer
	buf.Write(make([]byte, 8)) // the modification time, set below
	n, err := buf.ReadFrom(io.LimitReader(ctxReader{ctx, r}, small+1))
	if err != nil {
		return 0, fmt.Errorf("write blob %q: %w", key, err)
	}
	if n > max {
		return 0, ErrTooLarge
	}
	if n <= small {
		v := buf.Bytes()
		binary.BigEndian.PutUint64(v, uint64(time.Now().UnixNano()))
		err := s.write(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobs).Put([]byte(key), v) })
		if err != nil {
			return 0, fmt.Errorf("write blob %q: %w", key, err)
		}
		return n, nil
	}
	buf.Next(8)
	n, err = s.blobs.put(ctx, key, io.MultiReader(&buf, r), max)
	if err != nil {
		return 0, err
	}
	// The file now holds the blob: drop a smaller one it replaces.
	var had bool
	s.db.View(func(tx *bolt.Tx) error { had = tx.Bucket(bucketBlobs).Get([]byte(key)) != nil; return nil })
	if had {
		err := s.write(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobs).Delete([]byte(key)) })
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
		v := tx.Bucket(bucketBlobs).Get([]byte(key))
		if len(v) >= 8 { // bbolt's bytes live only as long as the transaction: copy
			mod := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
			b = memBlobReader{Reader: bytes.NewReader(bytes.Clone(v[8:])), mod: mod}
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
		b := tx.Bucket(bucketBlobs)
		var del [][]byte
		for _, p := range prefixes {
			c := b.Cursor()
			for k, _ := c.Seek([]byte(p)); k != nil && bytes.HasPrefix(k, []byte(p)); k, _ = c.Next() {
				del = append(del, bytes.Clone(k))
			}
		}
		for _, k := range keys {
			del = append(del, []byte(k))
		}
		for _, k := range del {
			if err := b.Delete(k); err != nil {
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
