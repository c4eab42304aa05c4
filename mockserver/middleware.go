package mockserver

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/morimock/morimock/mockserver/files"
)

// commonHeaders sets what every answer carries, and redacts tokens from its error
// detail (see redact): the mock's version, the clock's Date
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
		s.countRequest()
		h := w.Header()
		h[HeaderVersion] = version
		h["Date"] = date.at(s.now())
		h["Cache-Control"] = noStore
		if _, cors := r.Header["Origin"]; cors {
			h["Access-Control-Allow-Origin"] = anyOrigin
			h["Access-Control-Expose-Headers"] = expose
		}
		next.ServeHTTP(&redactError{ResponseWriter: w, s: s, r: r}, r)
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
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE") // DELETE: a webhook
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

// Unwrap lets http.ResponseController reach the connection (an upload's deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// accessLog writes one line per request. It never logs a header: the Authorization
// header carries the API key; and a token the client put in the method or the path is
// redacted. Without it (no Logger, or NoAccessLog for --quiet) the
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
		secrets := s.secrets(r)
		line.AddAttrs(
			slog.String("method", truncate(redact(r.Method, secrets))),
			slog.String("path", truncate(logPath(r, secrets))),
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

// secrets are the two tokens an answer's headers and a log line must never show: the
// server's own (--token), and whatever credentials the request carries in its
// Authorization header, which may be a real API key sent to the mock by mistake.
func (s *Server) secrets(r *http.Request) [2]string {
	sec := [2]string{s.cfg.Token}
	if vs := r.Header["Authorization"]; len(vs) > 0 {
		v := strings.TrimSpace(vs[0])
		if _, cred, ok := strings.Cut(v, " "); ok {
			v = strings.TrimSpace(cred)
		}
		sec[1] = v
	}
	return sec
}

// redacted stands where a token was.
const redacted = "[REDACTED]"

// minCut is the shortest start of a token that redact still finds where clip cut it.
const minCut = 6

// minSecret is the shortest credential redact hides. No API key is shorter, and
// hiding every "x" of a message because a client sent "Bearer x" would garble it.
const minSecret = 8

// redact replaces every token of secrets in v with [REDACTED]: as it came, and as the
// mock quotes it (clip) or escapes it in a path or query, and also the start of one
// that clip cut short, so that a long token cannot leak its first 60 bytes.
func redact(v string, secrets [2]string) string {
	for _, sec := range secrets {
		if len(sec) < minSecret {
			continue
		}
		forms := [4]string{sec}
		if needsEscape(sec) {
			q := strconv.QuoteToASCII(sec)
			forms[1], forms[2], forms[3] = q[1:len(q)-1], url.PathEscape(sec), url.QueryEscape(sec)
		}
		for _, f := range forms {
			if f == "" {
				continue
			}
			v = strings.ReplaceAll(v, f, redacted)
			if !strings.Contains(v, `"...`) {
				continue
			}
			for k := len(f) - 1; k >= minCut; k-- {
				v = strings.ReplaceAll(v, f[:k]+`"...`, redacted+`"...`)
			}
		}
	}
	return v
}

// needsEscape reports whether quoting or URL escaping would change s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return true
		}
	}
	return false
}

// redactError is the last step before an answer's headers leave: the detail of an error
// quotes what the client sent, which may hold a token.
type redactError struct {
	http.ResponseWriter
	s    *Server
	r    *http.Request
	sent bool
}

// Unwrap lets http.ResponseController reach the connection (an upload's deadlines).
func (w *redactError) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *redactError) WriteHeader(code int) {
	if !w.sent {
		w.sent = true
		h := w.ResponseWriter.Header()
		if v := h[HeaderError]; len(v) > 0 {
			h[HeaderError] = []string{redact(v[0], w.s.secrets(w.r))}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *redactError) Write(b []byte) (int, error) {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// logPath is the request's path for the access log, with tokens redacted also when
// the client percent-encoded them.
func logPath(r *http.Request, secrets [2]string) string {
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, files.TestUploadsPath) {
		// The rest of a test-upload path is its signed token: a credential, logged
		// never, whatever it holds.
		return files.TestUploadsPath + redacted
	}
	if red := redact(r.URL.Path, secrets); red != r.URL.Path {
		p = (&url.URL{Path: red}).EscapedPath()
	}
	return redact(p, secrets)
}
