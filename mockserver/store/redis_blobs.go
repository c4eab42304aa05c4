package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// File bytes on Redis. A blob is cut into chunks of redisChunkSize, each its own key,
// written as the upload streams in and read one at a time as a download streams out:
// a replica holds at most one chunk of a file in memory however large the file, and
// no Redis value comes near Redis's 512 MB limit on a string. The chunks belong to a
// generation (a random name) and become the blob only when the commit script points
// the blob's metadata at them, so a reader never sees half an upload and a failed or
// too-large upload leaves nothing (its chunks expire within the hour).
//
//	blob:<key>          hash: gen, size, mod (Unix ns), n (chunks)
//	chunk:<gen>:<i>     the i-th chunk
//	blobs               sorted set of every key (all scores 0), for DeleteBlobs by prefix
//
// Every key carries a TTL (RedisOptions.BlobTTL, the orders' retention), so bytes
// whose order was forgotten by a replica that died before it deleted them do not
// hold Redis's memory forever.

// DefaultRedisMaxBlob bounds one blob on Redis: the sandbox's largest upload.
const DefaultRedisMaxBlob = 100 << 20

const (
	redisChunkSize = 256 << 10
	// pendingTTL is how long chunks of an upload not yet committed live: a request
	// lasts seconds (the server's read timeout), so they are an aborted upload's.
	pendingTTL = time.Hour
	// replacedGrace is how long the chunks of a replaced blob stay readable, so that a
	// download in progress when the blob is replaced finishes with the old bytes.
	replacedGrace = time.Minute
)

type blobConfig struct {
	ttl   time.Duration
	max   int64
	chunk int
}

func (s *Redis) metaKey(key string) string { return s.prefix + "blob:" + key }
func (s *Redis) chunkPrefix() string       { return s.prefix + "chunk:" }
func (s *Redis) chunkKey(gen string, i int64) string {
	return s.chunkPrefix() + gen + ":" + strconv.FormatInt(i, 10)
}
func (s *Redis) blobIndexKey() string { return s.prefix + "blobs" }

// commitScript makes the chunks of generation gen the blob's bytes. KEYS: meta,
// index; ARGV: gen, size, mod, chunks, ttl (s), key, chunk prefix, grace (s).
var commitScript = redis.NewScript(`
local old = redis.call('HMGET', KEYS[1], 'gen', 'n')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'size', ARGV[2], 'mod', ARGV[3], 'n', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
for i = 0, tonumber(ARGV[4]) - 1 do
  redis.call('EXPIRE', ARGV[7] .. ARGV[1] .. ':' .. i, ARGV[5])
end
redis.call('ZADD', KEYS[2], 0, ARGV[6])
if old[1] then
  for i = 0, tonumber(old[2]) - 1 do
    redis.call('EXPIRE', ARGV[7] .. old[1] .. ':' .. i, ARGV[8])
  end
end
return 1
`)

// deleteBlobScript deletes a blob and its chunks. KEYS: meta, index; ARGV: key,
// chunk prefix.
var deleteBlobScript = redis.NewScript(`
local old = redis.call('HMGET', KEYS[1], 'gen', 'n')
if old[1] then
  for i = 0, tonumber(old[2]) - 1 do
    redis.call('DEL', ARGV[2] .. old[1] .. ':' .. i)
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// PutBlob implements Store.
func (s *Redis) PutBlob(ctx context.Context, key string, r io.Reader, max int64) (int64, error) {
	if s.files != nil {
		return s.files.put(ctx, key, r, max)
	}
	if _, err := checkKey(key); err != nil {
		return 0, err
	}
	limit := min(max, s.blobs.max)
	var rnd [8]byte
	rand.Read(rnd[:])
	gen := hex.EncodeToString(rnd[:])
	buf := make([]byte, s.blobs.chunk)
	src := io.LimitReader(ctxReader{ctx, r}, limit+1)
	var size, chunks int64
	drop := func() {
		// Best effort: the chunks expire after pendingTTL anyway.
		keys := make([]string, chunks)
		for i := range chunks {
			keys[i] = s.chunkKey(gen, i)
		}
		if len(keys) > 0 {
			s.rdb.Del(context.WithoutCancel(ctx), keys...)
		}
	}
	for {
		n, err := readChunk(src, buf)
		if err != nil && err != io.EOF {
			// The source failed (a body cut short: io.ErrUnexpectedEOF), before
			// anything of this chunk was written: nothing of it is kept.
			drop()
			return 0, fmt.Errorf("write blob %q: %w", key, err)
		}
		if n > 0 {
			size += int64(n)
			if size > limit {
				drop()
				if limit < max {
					return 0, fmt.Errorf("%w: a file on Redis may take %d bytes (use --files-dir for larger ones)", ErrTooLarge, limit)
				}
				return 0, ErrTooLarge
			}
			if err := s.rdb.Set(ctx, s.chunkKey(gen, chunks), buf[:n], pendingTTL).Err(); err != nil {
				drop()
				return 0, s.fail("write blob", err)
			}
			chunks++
		}
		if err == io.EOF {
			break
		}
	}
	err := commitScript.Run(ctx, s.rdb, []string{s.metaKey(key), s.blobIndexKey()},
		gen, size, time.Now().UnixNano(), chunks, int64(s.blobs.ttl/time.Second), key, s.chunkPrefix(),
		int64(replacedGrace/time.Second)).Err()
	if err != nil {
		drop()
		return 0, s.fail("write blob", err)
	}
	return size, nil
}

// OpenBlob implements Store.
func (s *Redis) OpenBlob(ctx context.Context, key string) (Blob, error) {
	if s.files != nil {
		return s.files.open(key)
	}
	if _, err := checkKey(key); err != nil {
		return nil, err
	}
	v, err := s.rdb.HMGet(ctx, s.metaKey(key), "gen", "size", "mod").Result()
	if err != nil {
		return nil, s.fail("open blob", err)
	}
	gen, _ := v[0].(string)
	if gen == "" {
		return nil, ErrNotFound
	}
	sz, _ := v[1].(string)
	md, _ := v[2].(string)
	size, err1 := strconv.ParseInt(sz, 10, 64)
	mod, err2 := strconv.ParseInt(md, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("open blob %q: bad metadata: %w", key, err)
	}
	return &redisBlob{ctx: ctx, s: s, key: key, gen: gen, size: size, mod: time.Unix(0, mod), cur: -1}, nil
}

// DeleteBlobs implements Store.
func (s *Redis) DeleteBlobs(ctx context.Context, prefix string) error {
	if s.files != nil {
		return s.files.deletePrefix(prefix)
	}
	lo, hi := "-", "+"
	if prefix != "" {
		lo, hi = "["+prefix, prefixEnd(prefix)
	}
	for {
		keys, err := s.rdb.ZRangeByLex(ctx, s.blobIndexKey(), &redis.ZRangeBy{Min: lo, Max: hi, Count: pageBatch}).Result()
		if err != nil {
			return s.fail("delete blobs", err)
		}
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			if err := s.deleteBlob(ctx, k); err != nil {
				return err
			}
		}
	}
}

func (s *Redis) deleteBlob(ctx context.Context, key string) error {
	err := deleteBlobScript.Run(ctx, s.rdb, []string{s.metaKey(key), s.blobIndexKey()}, key, s.chunkPrefix()).Err()
	if err != nil {
		return s.fail("delete blob", err)
	}
	return nil
}

// removeBlobs deletes the blobs of forgotten orders: their files' keys and every key
// under their prefixes.
func (s *Redis) removeBlobs(ctx context.Context, prefixes, keys []string) error {
	if s.files != nil {
		return s.files.removeAll(prefixes, keys)
	}
	for _, k := range keys {
		if err := s.deleteBlob(ctx, k); err != nil {
			return err
		}
	}
	for _, p := range prefixes {
		if err := s.DeleteBlobs(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// prefixEnd is the exclusive ZRANGEBYLEX bound above every string that starts with
// prefix: prefix with its last byte below 0xff incremented, or "+" when none is.
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return "(" + string(b[:i+1])
		}
	}
	return "+"
}

// redisBlob reads a blob a chunk at a time.
type redisBlob struct {
	// ctx is the request that opened the blob: io.Reader has no context, and the
	// reads belong to that request (they stop when its client goes away).
	ctx       context.Context
	s         *Redis
	key, gen  string
	size, pos int64
	mod       time.Time
	cur       int64 // the chunk in data, -1 for none
	data      []byte
}

func (b *redisBlob) Size() int64        { return b.size }
func (b *redisBlob) ModTime() time.Time { return b.mod }
func (b *redisBlob) Close() error       { b.data = nil; return nil }

func (b *redisBlob) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	chunk := int64(b.s.blobs.chunk)
	i := b.pos / chunk
	if i != b.cur {
		data, err := b.s.rdb.Get(b.ctx, b.s.chunkKey(b.gen, i)).Bytes()
		if errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("read blob %q: replaced or expired while being read", b.key)
		}
		if err != nil {
			return 0, b.s.fail("read blob", err)
		}
		b.cur, b.data = i, data
	}
	off := b.pos - i*chunk
	if off >= int64(len(b.data)) {
		return 0, fmt.Errorf("read blob %q: chunk %d shorter than its size says", b.key, i)
	}
	n := copy(p, b.data[off:])
	b.pos += int64(n)
	return n, nil
}

func (b *redisBlob) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, fmt.Errorf("seek blob %q: bad whence %d", b.key, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek blob %q: negative position", b.key)
	}
	b.pos = offset
	return offset, nil
}

// readChunk fills buf from r as far as r goes. It returns io.EOF only at r's end,
// with what came before it, and any other error as r gave it: io.ReadFull would make
// a short last chunk io.ErrUnexpectedEOF too, which is also what an HTTP body cut
// short before its Content-Length gives, and the two must not be taken for each other.
func readChunk(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
