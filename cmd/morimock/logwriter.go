package main

import (
	"io"
	"sync"
	"time"
)

// batchWriter gathers log lines and writes them to w in batches: when delay has
// passed since the first line of a batch, when the batch would outgrow limit, and on
// Flush. Under load the access log then costs one write for many lines instead of one
// write (a system call) per request; a line reaches w at most delay late. Each Write
// holds one whole line (slog writes a record in one call), and a line is never split.
type batchWriter struct {
	w     io.Writer
	delay time.Duration
	limit int

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // pending flush of buf; nil when buf is empty
	err   error       // the last write error, reported by the next Write
}

func newBatchWriter(w io.Writer, delay time.Duration, limit int) *batchWriter {
	return &batchWriter{w: w, delay: delay, limit: limit}
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.err; err != nil {
		b.err = nil
		return 0, err
	}
	if len(b.buf)+len(p) > b.limit {
		b.flushLocked()
	}
	if len(p) >= b.limit { // too big to batch: write it as it comes
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	if b.timer == nil {
		b.timer = time.AfterFunc(b.delay, b.Flush) // ends after one flush
	}
	return len(p), nil
}

// Flush writes what is gathered now. runServe calls it before it returns, so no line
// is lost on a clean exit.
func (b *batchWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *batchWriter) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.buf) == 0 {
		return
	}
	if _, err := b.w.Write(b.buf); err != nil {
		b.err = err
	}
	b.buf = b.buf[:0]
}
