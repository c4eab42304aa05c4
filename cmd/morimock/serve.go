package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/internal/fastlog"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// serveOptions are the flags of `morimock serve`; each also has an environment variable.
type serveOptions struct {
	addr              string
	seed              int64
	token             string
	fixturesDir       string
	validateResponses bool
	latency           mockserver.Latency
	errorRate         float64
	rateLimit         int
	now               time.Time
	frozen            bool // --now was given: the zero time is a valid clock too
	logFormat         string
	quiet             bool
	shutdownTimeout   time.Duration
	maxConns          int
	debugAddr         string
	processingTime    mockserver.Latency
	failureRate       float64
	stateDir          string
	retention         time.Duration
	unknownOrders     string
	seedSet           bool // --seed (or MORIMOCK_SEED) was given: presigned URLs are signed with a key from it
}

// envFlag is one flag with the environment variable that sets its default.
type envFlag struct {
	name, env string
}

func serveEnv() []envFlag {
	return []envFlag{
		{"addr", "MORIMOCK_ADDR"}, {"seed", "MORIMOCK_SEED"}, {"token", "MORIMOCK_TOKEN"},
		{"fixtures", "MORIMOCK_FIXTURES"}, {"validate-responses", "MORIMOCK_VALIDATE_RESPONSES"},
		{"latency", "MORIMOCK_LATENCY"}, {"error-rate", "MORIMOCK_ERROR_RATE"},
		{"rate-limit", "MORIMOCK_RATE_LIMIT"}, {"now", "MORIMOCK_NOW"}, {"log-format", "MORIMOCK_LOG_FORMAT"},
		{"quiet", "MORIMOCK_QUIET"}, {"shutdown-timeout", "MORIMOCK_SHUTDOWN_TIMEOUT"}, {"max-conns", "MORIMOCK_MAX_CONNS"},
		{"debug-addr", "MORIMOCK_DEBUG_ADDR"}, {"processing-time", "MORIMOCK_PROCESSING_TIME"},
		{"failure-rate", "MORIMOCK_FAILURE_RATE"}, {"state-dir", "MORIMOCK_STATE_DIR"},
		{"retention", "MORIMOCK_RETENTION"}, {"unknown-orders", "MORIMOCK_UNKNOWN_ORDERS"},
	}
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	var latency, rateLimit, now, processing, retention string
	fs.StringVar(&o.addr, "addr", ":8080", "address to listen on (env MORIMOCK_ADDR; PORT=N also sets :N)")
	fs.Int64Var(&o.seed, "seed", 0, "seed for generated orders and injected errors (env MORIMOCK_SEED)")
	fs.StringVar(&o.token, "token", "", "accept only this bearer token; any token when empty (env MORIMOCK_TOKEN)")
	fs.StringVar(&o.fixturesDir, "fixtures", "", "directory of your own fixture bodies (*.json) to serve by id (env MORIMOCK_FIXTURES)")
	fs.BoolVar(&o.validateResponses, "validate-responses", false, "check every answer against openapi.yaml and the rules before sending it (env MORIMOCK_VALIDATE_RESPONSES)")
	fs.StringVar(&latency, "latency", "0", "added latency: 200ms, or a range 100ms-300ms (env MORIMOCK_LATENCY)")
	fs.Float64Var(&o.errorRate, "error-rate", 0, "share of order requests answered 500, 0..1, seeded (env MORIMOCK_ERROR_RATE)")
	fs.StringVar(&rateLimit, "rate-limit", "off", "free (60/min), pro (300), enterprise (1000), N per minute, or off; 429 with Retry-After (env MORIMOCK_RATE_LIMIT)")
	fs.StringVar(&now, "now", "", "freeze the clock at this RFC 3339 time, e.g. 2026-03-12T10:00:00Z (env MORIMOCK_NOW)")
	fs.StringVar(&o.logFormat, "log-format", "text", "access log format: text or json (env MORIMOCK_LOG_FORMAT)")
	fs.BoolVar(&o.quiet, "quiet", false, "no access log (env MORIMOCK_QUIET)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may finish on SIGINT/SIGTERM (env MORIMOCK_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&o.maxConns, "max-conns", 4096, "most connections served at once; more wait to be accepted (env MORIMOCK_MAX_CONNS)")
	fs.StringVar(&processing, "processing-time", "5s", "how long a sandbox order stays inProgress on its key's clock: 5s, a range 2s-8s, or 0 for at once (env MORIMOCK_PROCESSING_TIME)")
	fs.Float64Var(&o.failureRate, "failure-rate", 0, "share of sandbox orders that fail without a _fail file name, 0..1, seeded (env MORIMOCK_FAILURE_RATE)")
	fs.StringVar(&o.stateDir, "state-dir", "", "keep sandbox orders, keys, clocks and files in this directory across restarts; in memory when empty (env MORIMOCK_STATE_DIR)")
	fs.StringVar(&retention, "retention", "30d", "forget sandbox orders this old on their key's clock: a Go duration or days, e.g. 30d (env MORIMOCK_RETENTION)")
	fs.StringVar(&o.unknownOrders, "unknown-orders", "generate", "GET of an order id no key created: generate (made-up orders, Prefer, fixtures) or 404 (env MORIMOCK_UNKNOWN_ORDERS)")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "serve expvar and pprof on this loopback address, e.g. 127.0.0.1:6060; off when empty (env MORIMOCK_DEBUG_ADDR)")

	// The environment sets defaults; flags given on the command line win.
	if p := getenv("PORT"); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return o, fmt.Errorf("PORT=%q: want a port number from 0 to 65535", p)
		}
		fs.Set("addr", ":"+p)
	}
	for _, ef := range serveEnv() {
		if v, ok := lookup(getenv, ef.env); ok {
			if err := fs.Set(ef.name, v); err != nil {
				return o, fmt.Errorf("%s=%q: %w", ef.env, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) { o.seedSet = o.seedSet || f.Name == "seed" })
	if fs.NArg() > 0 {
		return o, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	var err error
	if o.latency, err = mockserver.ParseLatency(latency); err != nil {
		return o, err
	}
	if o.rateLimit, err = mockserver.ParseRateLimit(rateLimit); err != nil {
		return o, err
	}
	if o.processingTime, err = mockserver.ParseLatency(processing); err != nil {
		return o, fmt.Errorf("processing-time: %w", err)
	}
	if o.retention, err = order.ParseDuration(retention); err != nil || o.retention <= 0 {
		return o, fmt.Errorf("retention %q: want a positive duration such as 30d or 720h", retention)
	}
	if o.failureRate < 0 || o.failureRate > 1 {
		return o, fmt.Errorf("failure-rate %v: want a share between 0 and 1", o.failureRate)
	}
	if o.unknownOrders != "generate" && o.unknownOrders != "404" {
		return o, fmt.Errorf("unknown-orders %q: want generate or 404", o.unknownOrders)
	}
	if now != "" {
		o.frozen = true
		if o.now, err = time.Parse(time.RFC3339Nano, now); err != nil {
			return o, fmt.Errorf("now %q: want an RFC 3339 time such as 2026-03-12T10:00:00Z", now)
		}
	}
	if o.errorRate < 0 || o.errorRate > 1 {
		return o, fmt.Errorf("error-rate %v: want a share between 0 and 1", o.errorRate)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, fmt.Errorf("log-format %q: want text or json", o.logFormat)
	}
	if o.maxConns < 1 {
		return o, fmt.Errorf("max-conns %d: want at least 1", o.maxConns)
	}
	if o.debugAddr != "" {
		if err := checkDebugAddr(o.debugAddr); err != nil {
			return o, err
		}
	}
	return o, nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// serveGCPercent is serve's garbage-collection target when GOGC is not set.
const serveGCPercent = 200

// logDelay is how late a log line may reach stderr: lines are written in batches.
const logDelay = 100 * time.Millisecond

// runServe runs the mock until ctx ends, then shuts down gracefully: in-flight requests
// finish within the shutdown timeout, new connections are refused.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if getenv("GOGC") == "" {
		// The heap the mock keeps is small (a few MB), so Go's default collects after
		// every few MB of answers. Twice the headroom costs about 4 MB of memory and
		// buys about a tenth more requests per second (bench/run.sh); GOGC, when set,
		// is Go's to apply.
		debug.SetGCPercent(serveGCPercent)
	}
	logOut := newBatchWriter(stderr, logDelay, 32<<10)
	defer logOut.Flush()
	// fastlog writes slog's own bytes, formatting the access log's lines by hand.
	handler := fastlog.NewTextHandler(logOut, nil)
	if o.logFormat == "json" {
		handler = fastlog.NewJSONHandler(logOut, nil)
	}
	logger := slog.New(handler)

	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		return err
	}
	cfg := mockserver.Config{
		Seed: o.seed, Token: o.token, Latency: o.latency, ErrorRate: o.errorRate,
		RateLimit: o.rateLimit, ValidateResponses: o.validateResponses, Version: version,
		ProcessingTime: o.processingTime, FailureRate: o.failureRate, Retention: o.retention,
		StrictUnknownOrders: o.unknownOrders == "404",
	}
	if cfg.Store, cfg.SigningKey, err = openState(o); err != nil {
		return err
	}
	if cfg.Store != nil {
		defer cfg.Store.Close()
	}
	if o.frozen {
		frozen := o.now
		cfg.Now = func() time.Time { return frozen }
	}
	cfg.Logger, cfg.NoAccessLog = logger, o.quiet
	if o.fixturesDir != "" {
		if cfg.Fixtures, err = fixtures.LoadDir(o.fixturesDir); err != nil {
			return err
		}
	}
	srv, err := mockserver.New(ctx, spec, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	go srv.Sweep(ctx, time.Hour) // ends with ctx
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	limited := limitListener(ln, o.maxConns)
	ln = limited
	hs := &http.Server{
		Handler:           srv,
		ConnState:         limited.ConnState,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      2*mockserver.MaxDelay + 30*time.Second, // room for the longest --latency plus the longest Prefer: delay
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	logger.Info("morimock serving", "addr", ln.Addr().String(), "version", version, "seed", o.seed,
		"fixtures", len(srv.FixtureIDs()), "token_required", o.token != "", "validate_responses", o.validateResponses,
		"latency", o.latency.String(), "error_rate", o.errorRate, "rate_limit_per_min", o.rateLimit, "frozen_clock", nowText(o.now, o.frozen))
	fmt.Fprintf(stdout, "morimock %s listening on http://%s\n", version, displayAddr(ln.Addr()))
	if o.debugAddr != "" {
		if err := serveDebug(ctx, o.debugAddr, stdout); err != nil {
			ln.Close()
			return &exitError{code: 2, err: err}
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }() // ends when Shutdown closes the listener
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", o.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Shutdown leaves the requests still running when its time is up; cut their
		// connections, so that stopping never waits longer than the timeout.
		hs.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut: %w", o.shutdownTimeout, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func nowText(t time.Time, frozen bool) string {
	if !frozen {
		return "no"
	}
	return t.UTC().Format(time.RFC3339)
}

// displayAddr turns a listen address into one a person can curl.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return dialAddr(host, port)
}

// dialAddr is host:port for a client of a server listening there: a wildcard host
// (every interface) is reached on loopback.
func dialAddr(host, port string) string {
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// openState opens the --state-dir store and its signing key, so that orders and the
// presigned URLs already handed out survive a restart. Without it the store is in
// memory (nil: the server opens one) and URLs are signed with a key from --seed when
// given, else a random one.
func openState(o serveOptions) (store.Store, []byte, error) {
	if o.stateDir != "" {
		if err := os.MkdirAll(o.stateDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("state-dir: %w", err)
		}
		key, err := files.LoadOrCreateKey(o.stateDir)
		if err != nil {
			return nil, nil, err
		}
		st, err := store.Open(o.stateDir)
		if err != nil {
			return nil, nil, fmt.Errorf("state-dir: %w", err)
		}
		return st, key, nil
	}
	if o.seedSet {
		return nil, files.KeyFromSeed(o.seed), nil
	}
	key, err := files.RandomKey()
	return nil, key, err
}
