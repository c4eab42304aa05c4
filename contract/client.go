package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/internal/loopback"
)

// MockHeader is the response header by which morimock makes itself known.
const MockHeader = morimock.HeaderVersion

// mockSourceHeader is where morimock says what answered: fixture, example, generated.
const mockSourceHeader = morimock.HeaderSource

const (
	// defaultTimeout bounds every request when Config.Timeout is zero.
	defaultTimeout = 10 * time.Second
	// defaultRemoteRate stays inside the Free plan's 60 requests a minute.
	defaultRemoteRate = 1.0
	// maxRetries is how often one request is retried after a 429.
	maxRetries = 5
	// maxRetryWait is the longest Retry-After the suite waits out. A server that asks
	// for more ends the run at once: waiting longer makes a CI job hang, not pass.
	maxRetryWait = time.Minute
	// maxBody bounds how much of an answer is read; a longer one is reported as too
	// large.
	maxBody = 4 << 20
)

// authMode says which Authorization header a request carries.
type authMode int

const (
	authToken     authMode = iota // Bearer and the configured token
	authNone                      // no Authorization header
	authMalformed                 // a header that is not a Bearer token
)

// malformedAuth is the Authorization header of auth_malformed_token: a scheme the
// API does not accept, and no part of the real token.
const malformedAuth = "Token abc"

// request is one request the suite sends.
type request struct {
	method string
	path   string      // e.g. /api/v2/orders/123, unescaped
	query  url.Values  // may be nil
	header http.Header // extra headers, e.g. Prefer; may be nil
	auth   authMode
	body   []byte // a JSON body, sent with Content-Type: application/json; nil for none
}

func (r request) String() string { return r.method + " " + r.path }

// response is an answer, read in full up to maxBody.
type response struct {
	status int
	header http.Header
	body   []byte
	// unfit says why the body is not validated (nil when it is): longer than maxBody,
	// or beyond the shape limits of checkShape. Every check of the body skips it.
	unfit error
	// tooLarge: the answer was longer than maxBody, and body is cut.
	tooLarge bool
}

// code is the code of an error answer, {"code": "..."}; none for an answer the suite
// does not check.
func (r *response) code() string {
	if r.unfit != nil {
		return ""
	}
	return errorCode(r.body)
}

// client sends the suite's requests: one at a time, no faster than the rate, each
// with a timeout, and retrying a 429 after its Retry-After.
type client struct {
	base     *url.URL
	token    string
	hc       *http.Client
	timeout  time.Duration
	interval time.Duration // least time between two requests; 0 = none
	backoff  time.Duration // first wait after a 429 without Retry-After
	last     time.Time

	requests    int
	rateLimited int
	limited     []response // every 429 answer, for drift_rate_limit_code
	mockVersion string
}

// newClient checks cfg's base URL and rate and builds the client. A host name counts
// as loopback (no default rate) only when every address it resolves to is loopback.
func newClient(ctx context.Context, cfg Config) (*client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("rate %v: want requests per second, 0 for the default", cfg.Rate)
	}
	c := &client{base: base, token: cfg.Token, timeout: cfg.Timeout, backoff: cfg.Backoff}
	// A redirect is an answer like any other: following it would send the token to
	// whatever host or port a server names (Go compares redirect hosts without the
	// port), and the contract declares no 3xx.
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.backoff <= 0 {
		c.backoff = time.Second
	}
	rate := cfg.Rate
	if rate == 0 && !loopback.Resolves(ctx, base.Hostname()) {
		rate = defaultRemoteRate
	}
	if rate > 0 {
		c.interval = time.Duration(float64(time.Second) / rate)
	}
	return c, nil
}

// parseBaseURL accepts http(s)://host[:port][/path] and nothing more: userinfo would
// be sent as Basic auth (to every request, auth_missing_token's included), and a query
// or fragment would be dropped from requests while the report named it.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("no base URL")
	}
	base, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, userinfo included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("base URL: %w", err)
	}
	if base.User != nil {
		base.User = nil
		return nil, fmt.Errorf("base URL %s: remove the user:password@ part; the suite sends only --token, as a Bearer token", base)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" || base.Opaque != "" {
		return nil, fmt.Errorf("base URL %s: want http(s)://host[:port]", base)
	}
	if base.RawQuery != "" || base.ForceQuery || base.Fragment != "" || base.RawFragment != "" {
		base.RawQuery, base.ForceQuery, base.Fragment, base.RawFragment = "", false, "", ""
		return nil, fmt.Errorf("base URL: give the API's root without a query or fragment, e.g. %s", base)
	}
	return base, nil
}

// RateLimitError ends a run whose server asked to wait longer than the suite waits.
type RateLimitError struct {
	// Wait is what Retry-After asked for.
	Wait time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited: the API answered 429 with Retry-After %s, more than the %s the suite waits; run again later or lower --rate", e.Wait, maxRetryWait)
}

// do sends req and reads the answer. An error means no answer came: the host is
// unreachable, timed out, or the context ended.
func (c *client) do(ctx context.Context, req request) (*response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, req)
		if err != nil {
			return nil, err
		}
		if resp.status != http.StatusTooManyRequests || attempt == maxRetries {
			return resp, nil
		}
		c.rateLimited++
		c.limited = append(c.limited, *resp)
		wait := c.backoff << attempt
		if ra, ok := parseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok && ra > wait {
			if ra > maxRetryWait {
				return nil, &RateLimitError{Wait: ra}
			}
			wait = ra
		}
		if err := sleep(ctx, min(wait, maxRetryWait)); err != nil {
			return nil, err
		}
	}
}

func (c *client) once(ctx context.Context, req request) (*response, error) {
	if c.interval > 0 && !c.last.IsZero() {
		if err := sleep(ctx, time.Until(c.last.Add(c.interval))); err != nil {
			return nil, err
		}
	}
	c.last = time.Now()
	c.requests++

	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + req.path
	u.RawPath = ""
	u.RawQuery = req.query.Encode()
	run := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var reqBody io.Reader
	if req.body != nil {
		reqBody = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), reqBody)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req, err)
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	hr.Header.Set("Accept", "application/json")
	switch req.auth {
	case authToken:
		hr.Header.Set("Authorization", "Bearer "+c.token)
	case authMalformed:
		hr.Header.Set("Authorization", malformedAuth)
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, c.transportError(req, u, runEnded(run, err))
	}
	defer res.Body.Close()
	body, err := readBody(res)
	if err != nil {
		return nil, c.transportError(req, u, runEnded(run, err))
	}
	if v := res.Header.Get(MockHeader); v != "" {
		c.mockVersion = v
	}
	resp := &response{status: res.StatusCode, header: res.Header, body: body}
	if len(body) > maxBody {
		resp.body, resp.tooLarge = body[:maxBody], true
		resp.unfit = fmt.Errorf("the answer is larger than %d MiB, the most the suite reads", maxBody>>20)
	} else {
		resp.unfit = checkShape(body)
	}
	return resp, nil
}

// readBody reads an answer up to one byte past maxBody, so that a longer one is
// seen as such. An answer that declares its length is read into one slice of that
// length, or of maxBody+1 bytes when it declares more: growing a slice to megabytes
// costs several times the final size in allocations and copies, which the race
// detector multiplies (the hostile-answer tests read hundreds of MiB). What is read
// is as before: net/http reads no more than the declared length, and a body shorter
// than it is an error either way.
func readBody(res *http.Response) ([]byte, error) {
	if n := res.ContentLength; n > 0 {
		b := make([]byte, min(n, maxBody+1))
		if _, err := io.ReadFull(res.Body, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // a short body, as io.ReadAll reports it
			}
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(res.Body, maxBody+1))
}

// errRunDeadline is the run's own bound (--deadline) ending while an answer was awaited.
var errRunDeadline = errors.New("the run's deadline (--deadline) ended while the answer was awaited")

// runEnded is err, or errRunDeadline (wrapping err) when it was the run's context, not
// the request's own timeout, that ran out: the two say different things to the user.
func runEnded(run context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && errors.Is(run.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", errRunDeadline, err)
	}
	return err
}

// transportError says that no answer came, naming the host but never the token.
func (c *client) transportError(req request, u url.URL, err error) error {
	runOut := errors.Is(err, errRunDeadline)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL
	}
	msg := err.Error()
	switch {
	case runOut:
		msg = errRunDeadline.Error()
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("no answer within %s", c.timeout)
	}
	u.User = nil
	u.RawQuery = ""
	return &redactedError{msg: fmt.Sprintf("%s %s: %s", req.method, u.String(), redact(msg, c.token)), err: err}
}

// maxRetryAfter caps what parseRetryAfter returns, far above maxRetryWait, so that
// the arithmetic never overflows.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	return max(0, min(d, maxRetryAfter)), true
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// direct sends a request to an absolute URL a server named (an uploadUrl, a
// downloadUrl): never with the Authorization header, whatever host it names, and with
// the same rules as every request: no redirect, the rate, a timeout, at most maxBody
// read. body and ctype are the bytes to PUT; nil for a GET.
func (c *client) direct(ctx context.Context, method, raw string, body []byte, ctype string) (*response, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%s %q: want an http(s) URL without userinfo", method, clip(raw))
	}
	if c.interval > 0 && !c.last.IsZero() {
		if err := sleep(ctx, time.Until(c.last.Add(c.interval))); err != nil {
			return nil, err
		}
	}
	c.last = time.Now()
	c.requests++
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, c.transportError(request{method: method}, *u, err)
	}
	defer res.Body.Close()
	got, err := readBody(res)
	if err != nil {
		return nil, c.transportError(request{method: method}, *u, err)
	}
	resp := &response{status: res.StatusCode, header: res.Header, body: got}
	if len(got) > maxBody {
		resp.body, resp.tooLarge = got[:maxBody], true
	}
	return resp, nil
}
