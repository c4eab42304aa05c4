package mockserver

import (
	"log/slog"
	"net/http"
	"time"
)

// commonHeaders sets what every answer carries: the mock's version, the clock's Date
// (so a client checks expiry against the mock's own, possibly frozen, clock), no
// caching, and CORS for browser clients.
func (s *Server) commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set(HeaderVersion, s.cfg.Version)
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
		h.Set("Cache-Control", "no-store")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Retry-After, "+HeaderVersion+", "+HeaderSource+", "+HeaderError)
		next.ServeHTTP(w, r)
	})
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func (s *Server) preflight(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET")
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
// header carries the API key.
func (s *Server) accessLog(next http.Handler) http.Handler {
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
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", truncate(r.Method)),
			slog.String("path", truncate(r.URL.EscapedPath())),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.String("source", w.Header().Get(HeaderSource)),
			slog.String("error", w.Header().Get(HeaderError)),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// truncate bounds what a client sent before it reaches the log.
func truncate(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}
