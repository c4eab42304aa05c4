// Package fastlog provides log/slog handlers that write exactly the bytes
// slog.NewTextHandler and slog.NewJSONHandler write, but format the common records
// (the access log's: a few strings, integers and a duration) by hand. slog's own
// handlers spend about a fifth of a mocked request's CPU formatting its log line,
// most of it in the generic attribute walk and in time.AppendFormat.
//
// The fast path is deliberately narrow: it serves a record only when every part of
// it is one whose formatting is proven identical to slog's, and hands any other
// record, whole, to the standard handler it wraps.
package fastlog

import (
	"context"
	"io"
	"log/slog"
	"sync"
)

// NewTextHandler returns a handler whose output is byte for byte what
// slog.NewTextHandler(w, opts) writes.
func NewTextHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(w, opts, appendText, func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, opts) })
}

// NewJSONHandler returns a handler whose output is byte for byte what
// slog.NewJSONHandler(w, opts) writes.
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(w, opts, appendJSON, func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, opts) })
}

// newHandler wraps the standard handler std makes, or returns it unwrapped when
// opts rule the fast path out.
func newHandler(w io.Writer, opts *slog.HandlerOptions, format func([]byte, slog.Record) ([]byte, bool), std func(io.Writer) slog.Handler) slog.Handler {
	if !fastOptions(opts) {
		return std(w)
	}
	h := &handler{w: w, mu: new(sync.Mutex), format: format}
	h.std = std(&lockedWriter{mu: h.mu, w: w})
	return h
}

// fastOptions reports whether the fast path can ever serve a handler built with
// opts. ReplaceAttr may rewrite any attribute, the built-in ones included, and
// AddSource adds one the fast path does not write; with either the handler is
// slog's own, unwrapped. Level only decides Enabled, which slog answers anyway.
func fastOptions(opts *slog.HandlerOptions) bool {
	return opts == nil || (opts.ReplaceAttr == nil && !opts.AddSource)
}

// handler formats what it can and delegates the rest to std.
type handler struct {
	std slog.Handler
	// format appends the whole line for r to b, or reports false as soon as some
	// part of r is one it is not sure to write as std would.
	format func(b []byte, r slog.Record) ([]byte, bool)
	// mu serialises the writes to w, as slog's own mutex does. std writes through
	// a lockedWriter holding the same mutex, so a line from the fast path never
	// interleaves with one std (or a handler derived from it) writes.
	mu *sync.Mutex
	w  io.Writer
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.std.Enabled(ctx, l)
}

// WithAttrs returns std's handler: preformatted attributes and groups are rare
// here (the access log uses neither), and slog handles them itself.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.std.WithAttrs(attrs)
}

// WithGroup returns std's handler, for the reason WithAttrs does.
func (h *handler) WithGroup(name string) slog.Handler {
	return h.std.WithGroup(name)
}

// Handle writes r in a single Write call, as slog does, so that a writer shared by
// several processes (a pipe, a file opened for appending) receives whole lines.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	b, ok := h.format((*bp)[:0], r)
	if !ok {
		freeBuf(bp, b)
		return h.std.Handle(ctx, r)
	}
	err := h.write(b)
	freeBuf(bp, b)
	return err
}

func (h *handler) write(b []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

// bufPool holds line buffers. A Write may not retain its argument (io.Writer's
// contract), so a buffer is free again as soon as Write returns.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// maxPooled bounds the buffers kept for reuse, as slog bounds its own, so that one
// huge record does not pin its buffer for the life of the process.
const maxPooled = 16 << 10

func freeBuf(bp *[]byte, b []byte) {
	if cap(b) > maxPooled {
		return
	}
	*bp = b[:0]
	bufPool.Put(bp)
}

// lockedWriter is the writer handed to the standard handler: it takes the fast
// path's mutex around each Write, since slog's own mutex is not reachable from here.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (lw *lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}
