package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writes records every Write it is given, so a test sees how lines were batched.
type writes struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *writes) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

func TestBatchWriterBatches(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit int
		lines []string
		want  []string // the writes that reach the output, after Flush
	}{
		{"lines gather into one write", 64, []string{"a\n", "b\n", "c\n"}, []string{"a\nb\nc\n"}},
		{"a full batch is written before it overflows", 6, []string{"aa\n", "bb\n", "cc\n"}, []string{"aa\nbb\n", "cc\n"}},
		{"a line bigger than a batch goes out alone, in order", 4, []string{"a\n", "0123456789\n", "b\n"}, []string{"a\n", "0123456789\n", "b\n"}},
		{"nothing written, nothing flushed", 64, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := &writes{}
			b := newBatchWriter(out, time.Hour, tt.limit)
			for _, l := range tt.lines {
				if n, err := b.Write([]byte(l)); n != len(l) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", l, n, err, len(l))
				}
			}
			b.Flush()
			if diff := cmp.Diff(tt.want, out.got()); diff != "" {
				t.Errorf("writes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBatchWriterFlushesOnItsOwn: a line reaches the output without a Flush once the
// delay has passed.
func TestBatchWriterFlushesOnItsOwn(t *testing.T) {
	out := &writes{}
	b := newBatchWriter(out, 10*time.Millisecond, 1024)
	b.Write([]byte("first\n"))
	for deadline := time.Now().Add(10 * time.Second); len(out.got()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a line was not written within 10s of a 10ms delay")
		}
	}
	b.Write([]byte("second\n")) // starts a new batch, and its own timer
	for deadline := time.Now().Add(10 * time.Second); len(out.got()) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second batch was not written within 10s; writes so far %q", out.got())
		}
	}
	if diff := cmp.Diff([]string{"first\n", "second\n"}, out.got()); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
}

func TestBatchWriterReportsAWriteError(t *testing.T) {
	out := &writes{err: errors.New("disk full")}
	b := newBatchWriter(out, time.Hour, 1024)
	if _, err := b.Write([]byte("lost\n")); err != nil {
		t.Fatalf("first Write = %v; want nil (it is only gathered)", err)
	}
	b.Flush()
	if _, err := b.Write([]byte("next\n")); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write after a failed flush = %v; want the flush's error", err)
	}
	if _, err := b.Write([]byte("after\n")); err != nil {
		t.Errorf("the error was reported twice: %v", err)
	}
}

// TestBatchWriterKeepsLinesWhole writes from many goroutines at once, as the access
// log does: every line arrives once, whole.
func TestBatchWriterKeepsLinesWhole(t *testing.T) {
	out := &writes{}
	b := newBatchWriter(out, time.Millisecond, 100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() { // ends after its 200 lines
			defer wg.Done()
			for i := range 200 {
				b.Write([]byte(fmt.Sprintf("line g%d i%d\n", g, i)))
			}
		}()
	}
	wg.Wait()
	b.Flush()
	seen := map[string]int{}
	for _, w := range out.got() {
		if !strings.HasSuffix(w, "\n") {
			t.Fatalf("a write ends inside a line: %q", w)
		}
		for _, l := range strings.SplitAfter(w, "\n") {
			if l != "" {
				seen[l]++
			}
		}
	}
	for g := range 8 {
		for i := range 200 {
			if l := fmt.Sprintf("line g%d i%d\n", g, i); seen[l] != 1 {
				t.Fatalf("%q arrived %d times; want once", l, seen[l])
			}
		}
	}
	if len(seen) != 8*200 {
		t.Errorf("%d distinct lines arrived; want %d", len(seen), 8*200)
	}
}
