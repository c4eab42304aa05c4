package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrInvalidKey is returned for a blob key that cannot name a file: empty, with an
// empty segment ("a//b", a leading or trailing "/"), or with a segment too long.
var ErrInvalidKey = errors.New("invalid blob key")

// blobDir keeps blobs as files under root. A key's "/" separates directories; every
// other byte outside [A-Za-z0-9_-] is written as %XX, so "." and ".." never reach the
// file system and a key prefix maps to a prefix of the encoded path (DeleteBlobs by
// prefix). Bodies are written to a temporary file under root/.tmp and renamed into
// place, so a reader or a crash never sees half a blob under the real name.
type blobDir struct {
	root string
	sync bool // fsync the file and its directory before and after the rename
}

const (
	tmpDirName = ".tmp" // never an encoded segment: '.' is always escaped
	blobSuffix = "~"    // never in an encoded segment: '~' is always escaped
)

func newBlobDir(root string, sync bool) (*blobDir, error) {
	d, err := newSharedBlobDir(root, sync)
	if err != nil {
		return nil, err
	}
	// Temporary files left by a crash are never renamed into place: drop them.
	tmps, err := os.ReadDir(filepath.Join(root, tmpDirName))
	if err != nil {
		return nil, fmt.Errorf("read blob temp dir: %w", err)
	}
	for _, e := range tmps {
		os.RemoveAll(filepath.Join(root, tmpDirName, e.Name()))
	}
	return d, nil
}

// newSharedBlobDir opens a blob directory other processes may be writing to at the
// same time (--files-dir): unlike newBlobDir it leaves the temporary files alone,
// since they may be another replica's uploads in progress (their names are random,
// so they never clash).
func newSharedBlobDir(root string, sync bool) (*blobDir, error) {
	if err := os.MkdirAll(filepath.Join(root, tmpDirName), 0o700); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &blobDir{root: root, sync: sync}, nil
}

func escapeKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// checkKey returns the escaped form of a blob key, or ErrInvalidKey. Every store
// checks keys the same way, so that a key one store takes, all take.
func checkKey(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	enc := escapeKey(key)
	for _, seg := range strings.Split(enc, "/") {
		if seg == "" {
			return "", fmt.Errorf("%w %q: empty segment", ErrInvalidKey, key)
		}
		if len(seg) > 250 {
			return "", fmt.Errorf("%w %q: segment longer than the file system allows", ErrInvalidKey, key)
		}
	}
	return enc, nil
}

// path returns the file of a whole key.
func (d *blobDir) path(key string) (string, error) {
	enc, err := checkKey(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(enc)) + blobSuffix, nil
}

func (d *blobDir) put(ctx context.Context, key string, r io.Reader, max int64) (int64, error) {
	dst, err := d.path(key)
	if err != nil {
		return 0, err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(d.root, tmpDirName, hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("create blob: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, max+1))
	if err == nil && n > max {
		err = ErrTooLarge
	}
	if err == nil && d.sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// The directory exists for every blob of an order but its first: try first,
		// create it only when missing (a stat per blob saved).
		err = os.Rename(tmp, dst)
		if errors.Is(err, fs.ErrNotExist) {
			if err = os.MkdirAll(filepath.Dir(dst), 0o700); err == nil {
				err = os.Rename(tmp, dst)
			}
		}
	}
	if err != nil {
		os.Remove(tmp)
		if errors.Is(err, ErrTooLarge) {
			return 0, err
		}
		return 0, fmt.Errorf("write blob %q: %w", key, err)
	}
	if d.sync {
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return 0, fmt.Errorf("write blob %q: %w", key, err)
		}
	}
	return n, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ctxReader stops a long upload when its request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type fileBlob struct {
	*os.File
	size int64
	mod  time.Time
}

func (b fileBlob) Size() int64        { return b.size }
func (b fileBlob) ModTime() time.Time { return b.mod }

func (d *blobDir) open(key string) (Blob, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %q: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob %q: %w", key, err)
	}
	if st.IsDir() { // a key that is only a prefix of others
		f.Close()
		return nil, ErrNotFound
	}
	return fileBlob{File: f, size: st.Size(), mod: st.ModTime()}, nil
}

// deletePrefix removes every blob whose key starts with prefix.
func (d *blobDir) deletePrefix(prefix string) error {
	enc := escapeKey(prefix)
	dir, name := "", enc
	if i := strings.LastIndexByte(enc, '/'); i >= 0 {
		dir, name = enc[:i], enc[i+1:]
	}
	full := filepath.Join(d.root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(full)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete blobs %q: %w", prefix, err)
	}
	for _, e := range entries {
		if dir == "" && e.Name() == tmpDirName {
			continue
		}
		if strings.HasPrefix(e.Name(), name) {
			if err := os.RemoveAll(filepath.Join(full, e.Name())); err != nil {
				return fmt.Errorf("delete blobs %q: %w", prefix, err)
			}
		}
	}
	return nil
}

// removeAll deletes each order's blobs: the whole-key blobs of its files, one unlink
// each (a directory may hold every order's files), and everything under its prefixes.
func (d *blobDir) removeAll(prefixes, keys []string) error {
	var errs []error
	for _, k := range keys {
		p, err := d.path(k)
		if err != nil {
			continue // never stored
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete blob %q: %w", k, err))
		}
	}
	for _, p := range prefixes {
		errs = append(errs, d.deletePrefix(p))
	}
	return errors.Join(errs...)
}
