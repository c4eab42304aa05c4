package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/morimock/morimock/internal/redistest"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/mockserver/store/storetest"
)

func openRedis(t *testing.T, url string, o store.RedisOptions) *store.Redis {
	t.Helper()
	s, err := store.OpenRedis(url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// suiteRedis returns, for each test of a suite, the URL and key prefix of a Redis of
// its own: a prefix on one real redis-server when there is one on PATH (as in CI:
// .ci/run installs it), else a miniredis per test, so that a machine without Redis
// still runs the suite. The suite runs once against whichever it is: against both it
// cost the race-enabled tests 1.7 CPU-seconds for no store code the real server
// does not reach.
func suiteRedis(t *testing.T) func(t *testing.T) (url, prefix string) {
	if !redistest.Available() {
		t.Log("no redis-server on PATH: the suite runs against miniredis")
		return func(t *testing.T) (string, string) { return "redis://" + miniredis.RunT(t).Addr(), "" }
	}
	srv := redistest.Start(t)
	n := 0
	return func(*testing.T) (string, string) {
		n++
		return srv.URL(), fmt.Sprintf("suite%d:", n)
	}
}

// TestRedisServer runs the suite against Redis (see suiteRedis); with a real server,
// each subtest has its own prefix on it, which also proves the prefixes keep
// sandboxes apart.
func TestRedisServer(t *testing.T) {
	t.Parallel() // its own Redis; mostly waits on it
	next := suiteRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		url, prefix := next(t)
		return openRedis(t, url, store.RedisOptions{Prefix: prefix})
	})
}

// TestRedisFilesDir runs the suite with the blobs in a directory instead of Redis.
func TestRedisFilesDir(t *testing.T) {
	t.Parallel() // its own Redis and directories
	next := suiteRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		url, prefix := next(t)
		return openRedis(t, url, store.RedisOptions{Prefix: prefix, FilesDir: t.TempDir()})
	})
}

// TestRedisBlobChunks stores a blob of several chunks and reads it back from an
// offset inside the second, and checks the bound on Redis blobs.
func TestRedisBlobChunks(t *testing.T) {
	ctx := context.Background()
	s := openRedis(t, "redis://"+miniredis.RunT(t).Addr(), store.RedisOptions{MaxBlobBytes: 1 << 20})
	body := strings.Repeat("0123456789abcdef", 40<<10) // 640 KiB: three chunks
	n, err := s.PutBlob(ctx, "f/big", strings.NewReader(body), 1<<30)
	if err != nil || n != int64(len(body)) {
		t.Fatalf("PutBlob = %d, %v; want %d", n, err, len(body))
	}
	b, err := s.OpenBlob(ctx, "f/big")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const at = 300<<10 + 5
	if _, err := b.Seek(at, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(b)
	if err != nil || string(rest) != body[at:] {
		t.Errorf("read from %d: %d bytes, %v; want the %d bytes of the body from there", at, len(rest), err, len(body)-at)
	}
	if _, err := s.PutBlob(ctx, "f/huge", strings.NewReader(body+body), 1<<30); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("PutBlob(over MaxBlobBytes) = %v; want ErrTooLarge", err)
	}
}

// TestRedisUnavailable checks that a Redis that went away gives ErrUnavailable, and
// that the store works again once it is back, with everything it had acknowledged.
func TestRedisUnavailable(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	s := openRedis(t, "redis://"+mr.Addr(), store.RedisOptions{})
	rec := storetest.Record("t", "1", "k", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	if _, _, err := s.CreateOrder(ctx, rec); err != nil {
		t.Fatal(err)
	}
	addr := mr.Addr()
	mr.Close()
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping with Redis down = %v; want ErrUnavailable", err)
	}
	if _, err := s.GetOrder(ctx, "t", "1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("GetOrder with Redis down = %v; want ErrUnavailable", err)
	}
	if err := mr.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after Redis came back = %v", err)
	}
	if got, err := s.GetOrder(ctx, "t", "1"); err != nil || got.ID != "1" {
		t.Errorf("GetOrder after Redis came back = %v, %v; want order 1", got.ID, err)
	}
}

// TestRedisSigningKey checks that two replicas on one Redis sign with one key.
func TestRedisSigningKey(t *testing.T) {
	ctx := context.Background()
	url := "redis://" + miniredis.RunT(t).Addr()
	a, b := openRedis(t, url, store.RedisOptions{}), openRedis(t, url, store.RedisOptions{})
	ka, err := a.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(ka) != string(kb) || len(ka) != 32 {
		t.Errorf("replicas' signing keys differ (%x, %x) or are not 32 bytes", ka, kb)
	}
}

func TestOpenRedisBadURL(t *testing.T) {
	for _, u := range []string{"http://localhost:6379", "redis://:secret@host/notanumber"} {
		_, err := store.OpenRedis(u, store.RedisOptions{})
		if err == nil {
			t.Errorf("OpenRedis(%q) = nil error; want one", u)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("OpenRedis(%q) error %q shows the password", u, err)
		}
	}
}
