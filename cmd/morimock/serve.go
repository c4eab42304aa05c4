package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
	"github.com/redis/go-redis/v9"
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
	maxDelayed        int
	debugAddr         string
	processingTime    mockserver.Latency
	failureRate       float64
	stateDir          string
	retention         time.Duration
	unknownOrders     string
	redisURL          string // --redis: state on this Redis, shared by replicas
	redisPrefix       string
	filesDir          string
	fetchSourceURLs   bool
	webhookTimeout    time.Duration
	maxDeliveries     int
	imageWorkers      int
	imageWork         string // process or inline: see imageProcess
	seedSet           bool   // --seed (or MORIMOCK_SEED) was given: presigned URLs are signed with a key from it

	// Not flags: tests shorten the server's clocks and watch its requests through these.
	timeouts serveTimeouts
	hooks    serveHooks
}

// serveTimeouts are the server's clocks. The flags do not set them; tests do, so that
// what they prove (a slow client is cut off, a drain ends) takes milliseconds.
type serveTimeouts struct {
	readHeader time.Duration // to send a request's line and headers, from the first byte or the last answer
	read       time.Duration // to send a whole request
	idle       time.Duration // a keep-alive connection is closed after this long without a request
	// silentGrace is how long a new connection may send nothing and still keep its
	// place when another client waits for one (see limitListener).
	silentGrace time.Duration
	// drain is how long, after SIGTERM, requests that arrive on open connections are
	// still answered (with Connection: close).
	drain time.Duration
	// webhook and webhookLease are a receiver's time to answer and how long a replica
	// holds an event it attempts (0: the sandbox's defaults, 5 s and 30 s).
	webhook, webhookLease time.Duration
}

func defaultTimeouts() serveTimeouts {
	return serveTimeouts{readHeader: 5 * time.Second, read: 10 * time.Second, idle: 60 * time.Second,
		silentGrace: 100 * time.Millisecond, drain: time.Second}
}

// serveHooks let a test see inside serve without reading its goroutines.
type serveHooks struct {
	// request, when set, is called as each request reaches the mock, before it is
	// answered; it may block (the request is then in flight until it returns).
	request func(*http.Request)
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
		{"debug-addr", "MORIMOCK_DEBUG_ADDR"}, {"max-delayed", "MORIMOCK_MAX_DELAYED"},
		{"processing-time", "MORIMOCK_PROCESSING_TIME"},
		{"failure-rate", "MORIMOCK_FAILURE_RATE"}, {"state-dir", "MORIMOCK_STATE_DIR"},
		{"retention", "MORIMOCK_RETENTION"}, {"unknown-orders", "MORIMOCK_UNKNOWN_ORDERS"},
		{"redis", "MORIMOCK_REDIS_URL"}, {"redis-prefix", "MORIMOCK_REDIS_PREFIX"}, {"files-dir", "MORIMOCK_FILES_DIR"},
		{"fetch-source-urls", "MORIMOCK_FETCH_SOURCE_URLS"}, {"image-workers", "MORIMOCK_IMAGE_WORKERS"},
		{"image-work", "MORIMOCK_IMAGE_WORK"},
		{"webhook-timeout", "MORIMOCK_WEBHOOK_TIMEOUT"}, {"max-deliveries", "MORIMOCK_MAX_DELIVERIES"},
	}
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := serveOptions{timeouts: defaultTimeouts()}
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
	fs.IntVar(&o.maxDelayed, "max-delayed", 256, "most requests held in a Prefer: delay at once, at most half of --max-conns; more are answered 429 (env MORIMOCK_MAX_DELAYED)")
	fs.StringVar(&processing, "processing-time", "5s", "how long a sandbox order stays inProgress on its key's clock: 5s, 90m, 2h, 1d, a range 2s-8s or 1h-2d, or 0 for at once (env MORIMOCK_PROCESSING_TIME)")
	fs.BoolVar(&o.fetchSourceURLs, "fetch-source-urls", false, "anti-AI URL mode downloads each originalFileUrl (http/https, at most 32 MiB, 30 s); without it the sandbox uses a generated sample image (env MORIMOCK_FETCH_SOURCE_URLS)")
	fs.StringVar(&o.imageWork, "image-work", mockserver.DefaultImageWork, "where images are processed: process (a worker process per image worker, held back while requests arrive quickly; Linux) or inline, in the server (env MORIMOCK_IMAGE_WORK)")
	fs.IntVar(&o.imageWorkers, "image-workers", 1, "orders whose images are processed at once, taken from each key in turn; each may take up to 192 MiB (env MORIMOCK_IMAGE_WORKERS)")
	fs.Float64Var(&o.failureRate, "failure-rate", 0, "share of sandbox orders that fail without a _fail file name, 0..1, seeded (env MORIMOCK_FAILURE_RATE)")
	fs.StringVar(&o.stateDir, "state-dir", "", "keep sandbox orders, keys, clocks and files in this directory across restarts; in memory when empty (env MORIMOCK_STATE_DIR)")
	fs.StringVar(&retention, "retention", "30d", "forget sandbox orders this old on their key's clock: a Go duration or days, e.g. 30d (env MORIMOCK_RETENTION)")
	fs.StringVar(&o.unknownOrders, "unknown-orders", "generate", "GET of an order id no key created: generate (made-up orders, Prefer, fixtures) or 404 (env MORIMOCK_UNKNOWN_ORDERS)")
	fs.StringVar(&o.redisURL, "redis", "", "keep sandbox state on this Redis, shared by every replica: redis://[:password@]host:6379/0 or rediss:// (env MORIMOCK_REDIS_URL)")
	fs.StringVar(&o.redisPrefix, "redis-prefix", store.DefaultRedisPrefix, "start every Redis key with this, so several sandboxes can share one Redis (env MORIMOCK_REDIS_PREFIX)")
	fs.StringVar(&o.filesDir, "files-dir", "", "with --redis: keep file bytes in this directory every replica shares instead of on Redis (env MORIMOCK_FILES_DIR)")
	fs.DurationVar(&o.webhookTimeout, "webhook-timeout", 5*time.Second, "how long a webhook receiver has to answer a delivery before the attempt counts as failed; the vendor's is 5s (env MORIMOCK_WEBHOOK_TIMEOUT)")
	fs.IntVar(&o.maxDeliveries, "max-deliveries", 16, "most webhook deliveries in flight at once; more wait their turn, the API never does (env MORIMOCK_MAX_DELIVERIES)")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "serve expvar and pprof on this loopback address, e.g. 127.0.0.1:6060; off when empty (env MORIMOCK_DEBUG_ADDR)")

	// Flags given on the command line win over the environment. The command line is
	// read first; the environment then sets what it left (PORT, then MORIMOCK_ADDR,
	// for --addr), so that a bad value can be named as the user gave it.
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	onLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onLine[f.Name] = true })
	fromEnv := map[string]string{} // flag → VAR="value", for each flag the environment set
	if p := getenv("PORT"); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return o, fmt.Errorf("PORT=%q: want a port number from 0 to 65535", p)
		}
		if !onLine["addr"] {
			fs.Set("addr", ":"+p)
			fromEnv["addr"] = fmt.Sprintf("PORT=%q", p)
		}
	}
	for _, ef := range serveEnv() {
		v, ok := lookup(getenv, ef.env)
		if !ok || onLine[ef.name] {
			continue
		}
		if err := fs.Set(ef.name, v); err != nil {
			// The flag package's own reason ("parse error") says little: say what the
			// value is for.
			return o, fmt.Errorf("%s=%q: %w; it sets --%s: %s", ef.env, v, err, ef.name, fs.Lookup(ef.name).Usage)
		}
		fromEnv[ef.name] = fmt.Sprintf("%s=%q", ef.env, v)
	}
	// bad names the variable a flag's bad value came from, when it came from one.
	bad := func(name string, err error) error {
		if src, ok := fromEnv[name]; ok {
			return fmt.Errorf("%s: %w", src, err)
		}
		return err
	}
	fs.Visit(func(f *flag.Flag) { o.seedSet = o.seedSet || f.Name == "seed" })
	if fs.NArg() > 0 {
		return o, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	var err error
	if o.latency, err = mockserver.ParseLatency(latency); err != nil {
		return o, bad("latency", err)
	}
	if o.rateLimit, err = mockserver.ParseRateLimit(rateLimit); err != nil {
		return o, bad("rate-limit", err)
	}
	if o.processingTime, err = mockserver.ParseProcessingTime(processing); err != nil {
		return o, bad("processing-time", fmt.Errorf("processing-time: %w", err))
	}
	if o.retention, err = order.ParseDuration(retention); err != nil || o.retention <= 0 {
		return o, bad("retention", fmt.Errorf("retention %q: want a positive duration such as 30d or 720h", retention))
	}
	if !(o.failureRate >= 0 && o.failureRate <= 1) { // NaN too
		return o, bad("failure-rate", fmt.Errorf("failure-rate %v: want a share between 0 and 1", o.failureRate))
	}
	if o.unknownOrders != "generate" && o.unknownOrders != "404" {
		return o, bad("unknown-orders", fmt.Errorf("unknown-orders %q: want generate or 404", o.unknownOrders))
	}
	if o.redisURL != "" && o.stateDir != "" {
		return o, errors.New("redis and state-dir: choose one place for the state")
	}
	if o.filesDir != "" && o.redisURL == "" {
		return o, errors.New("files-dir: only with --redis (without it, files live with the rest of the state)")
	}
	if now != "" {
		o.frozen = true
		if o.now, err = time.Parse(time.RFC3339Nano, now); err != nil {
			return o, bad("now", fmt.Errorf("now %q: want an RFC 3339 time such as 2026-03-12T10:00:00Z", now))
		}
	}
	if !(o.errorRate >= 0 && o.errorRate <= 1) { // NaN too
		return o, bad("error-rate", fmt.Errorf("error-rate %v: want a share between 0 and 1", o.errorRate))
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, bad("log-format", fmt.Errorf("log-format %q: want text or json", o.logFormat))
	}
	if o.maxConns < 1 {
		return o, bad("max-conns", fmt.Errorf("max-conns %d: want at least 1", o.maxConns))
	}
	if o.maxDelayed < 1 {
		return o, bad("max-delayed", fmt.Errorf("max-delayed %d: want at least 1", o.maxDelayed))
	}
	if o.webhookTimeout <= 0 || o.webhookTimeout > maxWebhookTimeout {
		return o, bad("webhook-timeout", fmt.Errorf("webhook-timeout %s: want more than 0 and at most %s", o.webhookTimeout, maxWebhookTimeout))
	}
	if o.imageWorkers < 1 || o.imageWorkers > 64 {
		return o, bad("image-workers", fmt.Errorf("image-workers %d: want 1 to 64", o.imageWorkers))
	}
	if o.imageWork != "process" && o.imageWork != "inline" {
		return o, bad("image-work", fmt.Errorf("image-work %q: want process or inline", o.imageWork))
	}
	if o.maxDeliveries < 1 || o.maxDeliveries > 1024 {
		return o, bad("max-deliveries", fmt.Errorf("max-deliveries %d: want 1 to 1024", o.maxDeliveries))
	}
	if o.debugAddr != "" {
		if err := checkDebugAddr(o.debugAddr); err != nil {
			return o, bad("debug-addr", err)
		}
	}
	return o, nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// maxWebhookTimeout bounds --webhook-timeout: a delivery holds one of the
// --max-deliveries slots for as long as its receiver may take.
const maxWebhookTimeout = 5 * time.Minute

// logDelay is how late a log line may reach stderr: lines are written in batches.
const logDelay = 100 * time.Millisecond

// exitCut is serve's exit code when SIGTERM came, but requests still running after
// --shutdown-timeout had to be cut. 2 is a usage error, 1 is left to check.
const exitCut = 3

// runServe runs the mock until ctx ends, then drains and shuts down: see serve.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	return serve(ctx, o, stdout, stderr)
}

// specKey carries a contract parsed already to serve and check in the context. main
// never sets it: tests that start dozens of servers and checks in one process parse
// the contract once (about a quarter of a second each under the race detector).
type specKey struct{}

// loadSpec is the contract the context carries, or the embedded one parsed now.
func loadSpec(ctx context.Context) (*morimock.Spec, error) {
	if s, ok := ctx.Value(specKey{}).(*morimock.Spec); ok {
		return s, nil
	}
	return morimock.LoadSpec(ctx)
}

// serve runs the mock with o until ctx ends, then drains: it stops accepting, answers
// what arrives on open connections for a short window (with Connection: close, so
// clients go elsewhere), closes connections that have nothing left to read, and lets
// requests in flight finish within the shutdown timeout. A request that outlives it is
// cut, and serve returns exit code exitCut.
func serve(ctx context.Context, o serveOptions, stdout, stderr io.Writer) error {
	logOut := newBatchWriter(stderr, logDelay, 32<<10)
	defer logOut.Flush()
	var handler slog.Handler = slog.NewTextHandler(logOut, nil)
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(logOut, nil)
	}
	logger := slog.New(handler)

	spec, err := loadSpec(ctx)
	if err != nil {
		return err
	}
	longWork, _ := ctx.Value(longWorkKey{}).(func(bool)) // main's, when it may set GOMAXPROCS
	cfg := mockserver.Config{
		LongWork: longWork,
		Seed:     o.seed, Token: o.token, Latency: o.latency, ErrorRate: o.errorRate,
		RateLimit: o.rateLimit, ValidateResponses: o.validateResponses, Version: version,
		// Requests held in a delay keep their connections busy: at most half of them
		// may be, so that delays alone never lock other clients out.
		MaxDelayed:     min(o.maxDelayed, max(1, o.maxConns/2)),
		ProcessingTime: o.processingTime, FailureRate: o.failureRate, Retention: o.retention,
		StrictUnknownOrders: o.unknownOrders == "404",
		FetchSourceURLs:     o.fetchSourceURLs,
		// A test's shortened timeout (o.timeouts) wins over the flag.
		WebhookTimeout: cmp.Or(o.timeouts.webhook, o.webhookTimeout), WebhookLease: o.timeouts.webhookLease,
		MaxDeliveries: o.maxDeliveries, ImageWorkers: o.imageWorkers,
	}
	if o.imageWork == "process" {
		cfg.ImageProcess, err = imageProcess(stderr)
		if err != nil {
			logger.Warn("images are processed in the server", "err", err)
		}
	}
	if o.redisURL != "" {
		// The Redis client writes its own lines to stderr, plain text whatever
		// --log-format says, about twenty a second while Redis is away (which the
		// server's own warnings already say): they go through the server's logger.
		redis.SetLogger(redisLog{logger})
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
	if shared, ok := cfg.Store.(store.Shared); ok {
		// Ends when the store answers (then the sandbox and its deliverer start) or ctx ends.
		go func() {
			if waitForStore(ctx, shared, logger) {
				if err := srv.Start(ctx); err != nil {
					logger.Warn("start the sandbox", "err", err)
				}
			}
		}()
	}
	// The sweep is stopped and waited for before srv and the store close (defers run
	// last-in first-out), so that it never writes to a closed store.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); srv.Sweep(sweepCtx, time.Hour) }()
	defer func() { stopSweep(); <-swept }()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	limited := limitListener(ln, o.maxConns, o.timeouts.silentGrace)
	ln = limited
	var draining atomic.Bool
	hs := &http.Server{
		Handler:           drainHandler(srv, &draining, o.hooks.request),
		ConnState:         limited.ConnState,
		ReadHeaderTimeout: o.timeouts.readHeader,
		ReadTimeout:       o.timeouts.read,
		WriteTimeout:      2*mockserver.MaxDelay + 30*time.Second, // room for the longest --latency plus the longest Prefer: delay
		IdleTimeout:       o.timeouts.idle,
		// net/http reads MaxHeaderBytes plus 4 KiB of slack before it answers 431;
		// less the slack, the request line and headers may take exactly maxHeader.
		MaxHeaderBytes: maxHeader - 4096,
		ErrorLog:       slog.NewLogLogger(handler, slog.LevelWarn),
	}
	logger.Info("morimock serving", "addr", ln.Addr().String(), "version", version, "seed", o.seed,
		"fixtures", len(srv.FixtureIDs()), "token_required", o.token != "", "validate_responses", o.validateResponses,
		"latency", o.latency.String(), "error_rate", o.errorRate, "rate_limit_per_min", o.rateLimit, "frozen_clock", nowText(o.now, o.frozen),
		"image_work", map[bool]string{true: "process", false: "inline"}[cfg.ImageProcess != nil], "image_workers", o.imageWorkers)
	fmt.Fprintf(stdout, "morimock %s listening on http://%s\n", version, displayAddr(ln.Addr()))
	if o.debugAddr != "" {
		if err := serveDebug(ctx, o.debugAddr, stdout); err != nil {
			ln.Close()
			return &exitError{code: 2, err: err}
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }() // ends when the listener closes (drain) or Shutdown
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "drain", o.timeouts.drain.String(), "timeout", o.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	draining.Store(true)
	limited.drain(sctx, o.timeouts.drain)
	if err := hs.Shutdown(sctx); err != nil {
		// Shutdown leaves the requests still running when its time is up; cut their
		// connections, so that stopping never waits longer than the timeout.
		hs.Close()
		return &exitError{code: exitCut, err: fmt.Errorf("shutdown: requests still running after %s were cut: %w", o.shutdownTimeout, err)}
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// maxHeader bounds a request's line and headers together, in bytes; more is answered 431.
const maxHeader = 32 << 10

// drainHandler answers with next, calling hook first when set. Once draining is
// set (SIGTERM), every answer carries Connection: close, so that a keep-alive client
// sends its next request elsewhere rather than on a connection about to close.
func drainHandler(next http.Handler, draining *atomic.Bool, hook func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook != nil {
			hook(r)
		}
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
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
	if o.redisURL != "" {
		// The signing key lives on Redis (made by the first replica), unless --seed
		// derives one: either way every replica signs with the same key.
		var key []byte
		if o.seedSet {
			key = files.KeyFromSeed(o.seed)
		}
		st, err := store.OpenRedis(o.redisURL, store.RedisOptions{Prefix: o.redisPrefix, BlobTTL: o.retention, FilesDir: o.filesDir})
		if err != nil {
			return nil, nil, err
		}
		return st, key, nil
	}
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

// waitForStore logs whether the shared store answers when the server starts, and
// asks again with a growing backoff (up to 5 s) until it does: the server already
// serves, answering /healthz 503 and store calls "retry" meanwhile. It reports
// whether the store answered (false: ctx ended first).
func waitForStore(ctx context.Context, st store.Shared, logger *slog.Logger) bool {
	wait := 100 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := st.Ping(pctx)
		cancel()
		if err == nil {
			logger.Info("shared store ready")
			return true
		}
		logger.Warn("waiting for the shared store (Redis)", "err", err, "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// redisLog passes the Redis client's lines to the server's logger, at debug level.
// It is the client's process-wide logger (redis.SetLogger), as GOGC is the process's:
// set by serve, the only command that talks to Redis.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}

// imageProcess is the command of an image worker process: this program again, as
// `morimock image-worker`. Its standard error (a crash's report) is serve's.
//
// On Linux it is /proc/self/exe, the program this server runs even after a rebuild
// has replaced its file (a new build's worker may not speak this one's protocol). Its
// environment is the server's without the MORIMOCK_ variables: a key or a Redis URL
// is no business of a process that only codes images.
func imageProcess(stderr io.Writer) (func() *exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		exe = "/proc/self/exe"
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MORIMOCK_") {
			env = append(env, kv)
		}
	}
	// Named as this server was started, so that ps and pgrep show it beside the
	// server as `morimock image-worker`, not as /proc/self/exe.
	name := exe
	if len(os.Args) > 0 && os.Args[0] != "" {
		name = os.Args[0]
	}
	return func() *exec.Cmd {
		cmd := exec.Command(exe, "image-worker")
		cmd.Args[0] = name
		cmd.Env = env
		cmd.Stderr = stderr
		return cmd
	}, nil
}
