// Package mockserver is the BIZ MORI v2 orders API as an http.Handler: routes,
// request validation and response shapes come from openapi.yaml, orders from the
// fixtures or from a seeded generator, and the client picks the order it needs with
// the Prefer header.
package mockserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/morimock/morimock"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/mockserver/store"
)

// Response headers the mock sets on every answer. HeaderVersion lets a client (the
// contract suite) recognise the mock; HeaderSource says where the body came from:
// fixture, example, generated or error. The names are morimock's, shared with the
// contract suite.
const (
	HeaderVersion = morimock.HeaderVersion
	HeaderSource  = morimock.HeaderSource
)

// Config configures a Server. Its zero value serves generated orders with seed 0, the
// built-in fixtures, the real clock, no latency, no errors, no rate limit and no log.
type Config struct {
	Seed              int64              // seeds generated orders and injected errors
	Token             string             // when set, the only bearer token accepted
	Now               func() time.Time   // the clock orders are generated against; nil is time.Now
	Latency           Latency            // added to every answer
	ErrorRate         float64            // share of order requests answered 500, 0..1
	RateLimit         int                // requests per minute over the whole server; 0 is none
	ValidateResponses bool               // check every answer against the contract before sending it
	Fixtures          []fixtures.Fixture // the user's own; they replace built-in ones with the same id
	Logger            *slog.Logger       // warnings, errors and (unless NoAccessLog) one line per request; nil logs nothing
	NoAccessLog       bool               // no line per request (--quiet); warnings and errors are still logged
	MaxDelayed        int                // most requests held in a Prefer: delay at once, more are answered 429; 0 is no bound
	Version           string             // sent in X-Morimock-Version

	// The stateful sandbox (orders a tenant creates). Its zero value keeps state in
	// memory with blobs in a temporary directory, processes orders at once and never
	// fails one unless a file name asks.
	Store               store.Store   // nil: an in-memory store, opened on first use and closed by Close
	SigningKey          []byte        // signs presigned URLs; nil derives one from Seed
	ProcessingTime      Latency       // how long an order stays inProgress, on the tenant's clock; zero is at once
	FailureRate         float64       // share of orders without a _fail file name that fail, 0..1, seeded
	Retention           time.Duration // orders older than this on the tenant's clock are forgotten; 0 is DefaultRetention
	StrictUnknownOrders bool          // GET of an id no tenant created answers 404 instead of a generated order
	MaxUploadBytes      int64         // the largest S3-style upload; 0 is DefaultMaxUpload
	// testUploadLimit is the test-upload limit, TestUploadLimit when 0: the tests
	// reach its boundary with a megabyte instead of streaming 50 MiB twice under the
	// race detector.
	testUploadLimit int64
	// testBusyTicks, when set, are the ticks on which a long job's worker counts the
	// requests that arrived (see watchRequests), in place of a 10 ms ticker; each tick
	// is answered on testBusyCounted once counted.
	testBusyTicks   chan time.Time
	testBusyCounted chan struct{}
	// testWatched, when set, is called on the worker's goroutine once a long job's
	// requests are watched, before its inputs are processed.
	testWatched func()
	// testStillBusy, when set, replaces stillBusy (a test's jobs may start far apart).
	testStillBusy time.Duration
	// testHoldMax, when set, replaces maxHold.
	testHoldMax time.Duration
	// testBufferedPixels, when set, replaces bufferedPixels: the tests stream outputs
	// to the store from a small image instead of coding megapixels under the race
	// detector.
	testBufferedPixels int

	// Webhook deliveries. Their retries wait on the tenant's clock, which is Now plus
	// the tenant's offset; AfterFunc waits on Now's clock (nil: time.AfterFunc), so a
	// test with a fake Now passes its fake AfterFunc too.
	WebhookTimeout time.Duration                                      // a receiver's time to answer; 0 is 5 s
	MaxDeliveries  int                                                // deliveries in flight at once; 0 is 16
	WebhookLease   time.Duration                                      // how long a replica holds an event it attempts; 0 is WebhookTimeout + 25 s
	AfterFunc      func(d time.Duration, f func()) (stop func() bool) // nil is time.AfterFunc
	// The image work (thumbnails, heat maps, protected and watermarked copies).
	ImageWorkers int // orders processed at once; 0 is 1 (a 12-megapixel photo takes ~100 MiB)
	// LongWork, when set, is called with true before an order's image work that is
	// expected to take long (inputs over longWorkInputs, not remembered) and with
	// false after it; with ImageProcess, around the duty cycle of a worker process
	// instead (see imageProcs.busy): cmd/morimock gives requests a P of their own
	// meanwhile.
	LongWork func(start bool)
	// ImageProcess, when set, makes the command of an image worker process (one that
	// runs ServeImageWork, as `morimock image-worker` does): each worker then hands the
	// pixels of its jobs to a process of its own, which the sandbox holds back while
	// requests arrive quickly. nil does the work in this process.
	ImageProcess    func() *exec.Cmd
	MaxPixels       int          // the largest image processed; 0 is files.DefaultMaxPixels
	FetchSourceURLs bool         // anti-AI URL mode downloads originalFileUrl; false uses a generated sample
	FetchClient     *http.Client // downloads source URLs; nil is a client with a 30 s timeout
}

// Server is the mock. It is safe for concurrent use.
type Server struct {
	cfg      Config
	spec     *morimock.Spec
	log      *slog.Logger
	now      func() time.Time
	fixtures map[string][]byte // id -> body
	examples map[string]exampleBody
	askable  map[*openapi3.Operation]*askable // what Prefer: code= can answer, per operation
	dice     *dice
	limiter  *limiter
	delayed  chan struct{} // one per request held in a Prefer: delay; nil when unbounded
	handler  http.Handler

	orderOK *morimock.ResponseValidator // its 200, for --validate-responses

	ops      map[string]routeFunc // the stateful operations by operationId
	sbMu     sync.Mutex           // guards building the sandbox
	sb       *sandbox
	sbClosed bool
	sbOpen   atomic.Bool // the sandbox is built: before that no tenant has an order

	closeOnce sync.Once
	inboxes   *inboxes
	work      workers
	cache     workCache     // outputs of small inputs, see workcache.go
	requests  atomic.Uint64 // requests served while a long job is watched (countRequest)
	watching  atomic.Int32  // long jobs whose requests are watched
	polled    sync.Map      // workKey → *atomic.Uint64: GETs of the order of a watched job (countPoll)
}

// New builds a Server from the contract. It checks every fixture against the
// contract and the domain rules, and refuses to start on a bad one.
func New(ctx context.Context, spec *morimock.Spec, cfg Config) (*Server, error) {
	if !(cfg.ErrorRate >= 0 && cfg.ErrorRate <= 1) { // NaN too
		return nil, fmt.Errorf("error rate %v: want a share between 0 and 1", cfg.ErrorRate)
	}
	if cfg.RateLimit < 0 {
		return nil, fmt.Errorf("rate limit %d: want 0 (none) or more requests per minute", cfg.RateLimit)
	}
	if cfg.MaxDelayed < 0 {
		return nil, fmt.Errorf("max delayed %d: want 0 (no bound) or more requests", cfg.MaxDelayed)
	}
	if !(cfg.FailureRate >= 0 && cfg.FailureRate <= 1) { // NaN too
		return nil, fmt.Errorf("failure rate %v: want a share between 0 and 1", cfg.FailureRate)
	}
	if cfg.ProcessingTime.Min < 0 || (cfg.ProcessingTime.Max != 0 && cfg.ProcessingTime.Max < cfg.ProcessingTime.Min) ||
		cfg.ProcessingTime.Min > MaxProcessingTime || cfg.ProcessingTime.Max > MaxProcessingTime {
		return nil, fmt.Errorf("processing time %s: want a duration or a range lo-hi with 0 <= lo <= hi", cfg.ProcessingTime)
	}
	if cfg.Retention < 0 {
		return nil, fmt.Errorf("retention %s: want a positive duration", cfg.Retention)
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUpload
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	s := &Server{cfg: cfg, spec: spec, log: cfg.Logger, now: cfg.Now, dice: newDice(cfg.Seed), limiter: newLimiter(cfg.RateLimit)}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.MaxDelayed > 0 {
		s.delayed = make(chan struct{}, cfg.MaxDelayed)
	}
	if err := s.loadFixtures(ctx); err != nil {
		return nil, err
	}
	var err error
	if s.examples, err = loadExamples(spec); err != nil {
		return nil, err
	}
	if s.askable, err = askables(spec); err != nil {
		return nil, err
	}
	probe, err := http.NewRequest(http.MethodGet, morimock.OrderURLPath("1"), nil)
	if err != nil {
		return nil, err
	}
	orderRoute, _, err := spec.FindRoute(probe)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: no route for GET %s: %w", morimock.OrderPath, err)
	}
	s.orderOK = spec.ResponseValidator(orderRoute, http.StatusOK)
	s.inboxes = newInboxes()
	s.ops = s.operations()
	s.handler = s.routes()
	if cfg.Store != nil {
		// A store that outlives the process may hold deliveries that are due: start
		// them now rather than on the first request. A shared store (Redis) may not be
		// up yet: then Start, /healthz or the first request that needs it builds the
		// sandbox once it answers.
		if _, err := s.sandbox(ctx); err != nil && !errors.Is(err, store.ErrUnavailable) {
			return nil, err
		}
	}
	return s, nil
}

// loadFixtures checks the user's fixtures, which must all keep the contract, and the
// built-in ones. A built-in fixture is dated (expired ones are from February 2026), so
// under a clock frozen before it fits it is left out, with a warning, and its id
// serves a generated order instead: the user did not write it and cannot mend it.
func (s *Server) loadFixtures(ctx context.Context) error {
	builtin, err := fixtures.Builtin()
	if err != nil {
		return fmt.Errorf("built-in fixtures: %w", err)
	}
	now := s.now()
	if err := fixtures.Verify(ctx, s.spec, s.cfg.Fixtures, now); err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	s.fixtures = make(map[string][]byte, len(builtin)+len(s.cfg.Fixtures))
	for _, f := range s.cfg.Fixtures {
		s.fixtures[f.ID] = f.Body
	}
	for _, f := range builtin {
		if _, own := s.fixtures[f.ID]; own {
			continue
		}
		if err := fixtures.Verify(ctx, s.spec, []fixtures.Fixture{f}, now); err != nil {
			s.log.Warn("built-in fixture left out: it does not fit the clock", "file", f.Name, "id", f.ID, "clock", now.UTC().Format(time.RFC3339), "err", err)
			continue
		}
		s.fixtures[f.ID] = f.Body
	}
	return nil
}

// FixtureIDs returns the ids that answer with a fixture, sorted.
func (s *Server) FixtureIDs() []string {
	ids := make([]string, 0, len(s.fixtures))
	for id := range s.fixtures {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
