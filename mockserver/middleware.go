package mockserver

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// commonHeaders sets what every answer carries: the mock's version, the clock's Date
// (so a client checks expiry against the mock's own, possibly frozen, clock) and no
// caching; and, when the request names an Origin as every browser's cross-origin
// request does, CORS headers. Other clients never read those, and each header costs
// every answer a copy and a write.
//
// The values are built once and assigned under their canonical keys: Header.Set would
// canonicalise each key and allocate each value again for every answer. Nothing
// appends to or edits these slices in place (Set and Add replace or copy), so the
// answers can share them.
func (s *Server) commonHeaders(next http.Handler) http.Handler {
	version := []string{s.cfg.Version}
	noStore := []string{"no-store"}
	anyOrigin := []string{"*"}
	expose := []string{"Retry-After, " + HeaderVersion + ", " + HeaderSource + ", " + HeaderError}
	var date dateHeader
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h[HeaderVersion] = version
		h["Date"] = date.at(s.now())
		h["Cache-Control"] = noStore
		if _, cors := r.Header["Origin"]; cors {
			h["Access-Control-Allow-Origin"] = anyOrigin
			h["Access-Control-Expose-Headers"] = expose
		}
		next.ServeHTTP(w, r)
	})
}

// dateHeader formats the Date header once per second of the clock rather than once
// per answer; the header has a resolution of one second.
type dateHeader struct {
	last atomic.Pointer[formattedDate]
}

type formattedDate struct {
	unix  int64
	value []string
}

func (d *dateHeader) at(now time.Time) []string {
	sec := now.Unix()
	if f := d.last.Load(); f != nil && f.unix == sec {
		return f.value
	}
	f := &formattedDate{unix: sec, value: []string{now.UTC().Format(http.TimeFormat)}}
	d.last.Store(f)
	return f.value
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func (s *Server) preflight(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT")
	h.Set("Access-Control-Allow-Headers", "Authorization, Prefer, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// statusRecorder remembers what was answered, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// accessLog writes one line per request. It never logs a header: the Authorization
// header carries the API key. Without it (no Logger, or NoAccessLog for --quiet) the
// answers are not even recorded.
func (s *Server) accessLog(next http.Handler) http.Handler {
	if s.cfg.Logger == nil || s.cfg.NoAccessLog {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = 499 // the client went away before an answer
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		ctx := r.Context()
		if !s.log.Enabled(ctx, level) {
			return
		}
		// The record is built by hand, as Logger.LogAttrs would, less what costs
		// every request for nothing: the caller's frame (no handler here prints a
		// source line) and a second reading of the clock.
		end := time.Now()
		line := slog.NewRecord(end, level, "request", 0)
		line.AddAttrs(
			slog.String("method", truncate(r.Method)),
			slog.String("path", truncate(r.URL.EscapedPath())),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.String("source", w.Header().Get(HeaderSource)),
			slog.Duration("duration", end.Sub(start)),
		)
		if msg := w.Header().Get(HeaderError); msg != "" { // most answers have none
			line.AddAttrs(slog.String("error", msg))
		}
		s.log.Handler().Handle(ctx, line)
	})
}

// truncate bounds what a client sent before it reaches the log.
func truncate(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}
