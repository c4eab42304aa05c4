package store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/mockserver/store/storetest"
	"github.com/morimock/morimock/order"
)

const crashTenant = "crash"

func crashID(round, i int) string { return fmt.Sprint(round*1_000_000 + i) }

// crashBlob is blob i's content: long enough to take several writes, and telling
// which blob it is at every position, so a torn or mixed blob shows. Odd blobs are
// over 256 KiB, so the bolt store writes them as files and the even ones into bbolt.
func crashBlob(round, i int) []byte {
	n := 8 << 10
	if i%2 == 1 {
		n = 64 << 10
	}
	return bytes.Repeat([]byte(fmt.Sprintf("%d/%d;", round, i)), n)
}

var crashT0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// TestCrashChild is the process TestCrashSafety kills: it writes orders, blobs and
// updates to the store in MORIMOCK_CRASH_DIR in sequence, printing an ack after each
// write returns, until it is killed. Run alone it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("MORIMOCK_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrashSafety")
	}
	round, _ := strconv.Atoi(os.Getenv("MORIMOCK_CRASH_ROUND"))
	s, err := store.Open(dir)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		id := crashID(round, i)
		r := storetest.Record(crashTenant, id, "key-"+id, crashT0.Add(time.Duration(round*1_000_000+i)*time.Second))
		if _, _, err := s.CreateOrder(ctx, r); err != nil {
			fmt.Println("create failed:", err)
			os.Exit(3)
		}
		fmt.Println("ack create", i)
		if _, err := s.PutBlob(ctx, "b/"+id, bytes.NewReader(crashBlob(round, i)), 1<<30); err != nil {
			fmt.Println("put failed:", err)
			os.Exit(3)
		}
		fmt.Println("ack blob", i)
		started := r.CreatedAt.Add(time.Second)
		if _, err := s.UpdateOrder(ctx, crashTenant, id, func(r *order.Record) error { r.StartedAt = &started; return nil }); err != nil {
			fmt.Println("update failed:", err)
			os.Exit(3)
		}
		fmt.Println("ack update", i)
	}
}

// TestCrashSafety kills a process writing to the store with SIGKILL at random moments,
// several times, and checks after each kill that the store opens, passes Verify, holds
// every write that was acknowledged, and holds no torn blob: only the write in flight
// may be lost.
func TestCrashSafety(t *testing.T) {
	t.Parallel() // its own directory and child processes; mostly waits on them
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	acked := map[int][3]int{} // round -> last acked create, blob, update (-1: none)
	for round := 1; round <= 4; round++ {
		kill := 1 + rng.IntN(60) // acks to read before the kill
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "MORIMOCK_CRASH_DIR="+dir, fmt.Sprint("MORIMOCK_CRASH_ROUND=", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		last := [3]int{-1, -1, -1}
		sc := bufio.NewScanner(out)
		n, killed := 0, false
		for sc.Scan() {
			var kind string
			var i int
			if _, err := fmt.Sscanf(sc.Text(), "ack %s %d", &kind, &i); err != nil {
				if strings.Contains(sc.Text(), "failed") {
					t.Fatalf("round %d: child: %s", round, sc.Text())
				}
				continue
			}
			// Acks read after the kill was sent were written before it landed: they count.
			last[map[string]int{"create": 0, "blob": 1, "update": 2}[kind]] = i
			if n++; n == kill && !killed {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: the child ended after %d acks", round, n)
		}
		acked[round] = last
		t.Logf("round %d: killed after create %d, blob %d, update %d", round, last[0], last[1], last[2])
		checkCrashed(t, dir, acked)
	}
}

// checkCrashed reopens the store and checks it against every round's acks.
func checkCrashed(t *testing.T, dir string, acked map[int][3]int) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatalf("Open after SIGKILL: %v", err)
	}
	defer s.Close()
	if err := s.Verify(ctx); err != nil {
		t.Fatalf("Verify after SIGKILL: %v", err)
	}
	list, err := s.ListOrders(ctx, crashTenant)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range list {
		listed[r.ID] = true
	}
	want := 0
	for round, last := range acked {
		for i := 0; i <= last[0]+1; i++ { // +1: the create in flight may or may not be there
			id := crashID(round, i)
			r, err := s.GetOrder(ctx, crashTenant, id)
			switch {
			case errors.Is(err, store.ErrNotFound) && i <= last[0]:
				t.Errorf("round %d: acknowledged order %d was lost", round, i)
				continue
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				t.Fatal(err)
			}
			want++
			if !listed[id] || r.IdempotencyKey != "key-"+id {
				t.Errorf("round %d: order %d listed %v, key %q", round, i, listed[id], r.IdempotencyKey)
			}
			if i <= last[2] && r.StartedAt == nil {
				t.Errorf("round %d: acknowledged update of order %d was lost", round, i)
			}
			again, created, err := s.CreateOrder(ctx, storetest.Record(crashTenant, "9"+id, "key-"+id, crashT0))
			if err != nil || created || again.ID != id {
				t.Errorf("round %d: idempotency key of order %d after the crash: %s, %v, %v", round, i, again.ID, created, err)
			}
		}
		for i := 0; i <= last[1]+1; i++ {
			b, err := s.OpenBlob(ctx, "b/"+crashID(round, i))
			if errors.Is(err, store.ErrNotFound) {
				if i <= last[1] {
					t.Errorf("round %d: acknowledged blob %d was lost", round, i)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(b)
			b.Close()
			if err != nil || !bytes.Equal(data, crashBlob(round, i)) {
				t.Errorf("round %d: blob %d is torn: %d bytes, %v", round, i, len(data), err)
			}
		}
	}
	if len(list) != want {
		t.Errorf("the store lists %d orders; the acks account for %d", len(list), want)
	}
}
