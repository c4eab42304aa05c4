package mockserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/morimock/morimock/mockserver/delivery"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// Defaults of the stateful sandbox's settings.
const (
	DefaultProcessingTime = 5 * time.Second        // the vendor's test mode
	DefaultRetention      = 30 * 24 * time.Hour    // --retention
	DefaultMaxUpload      = 100 << 20              // an S3-style upload, bytes
	TestUploadLimit       = 50 << 20               // the vendor's test-upload limit, bytes
	testKeyPrefix         = "sk_test_"             //
	sunsetAt              = "2026-10-09T00:00:00Z" // v2 wtr-embed and wtr-extract end
)

// sandbox is the stateful part of a Server: the store, the URL signer and the order
// id source. It is built lazily, on the first request that needs it, so that a Server
// that only ever serves generated orders opens no store and makes no directory.
type sandbox struct {
	store     store.Store
	owned     bool // the Server opened store and closes it
	signer    *files.Signer
	ids       idSource
	deliverer *delivery.Deliverer
	stop      context.CancelFunc // ends the deliverer's loop
	done      chan struct{}      // closed when the loop has ended
}

// sandbox returns the sandbox, building it on first use. A build that fails (a
// shared store not reachable yet, so no signing key) is tried again by the next
// request rather than remembered: a replica may start before its Redis.
func (s *Server) sandbox(ctx context.Context) (*sandbox, error) {
	if s.sbOpen.Load() {
		return s.sb, nil
	}
	s.sbMu.Lock()
	defer s.sbMu.Unlock()
	if s.sb != nil {
		return s.sb, nil
	}
	if s.sbClosed {
		return nil, errors.New("the server is closed")
	}
	sb := &sandbox{store: s.cfg.Store}
	shared, isShared := sb.store.(store.Shared)
	key := s.cfg.SigningKey
	if key == nil && isShared {
		// Every replica must sign with one key, so that an upload URL one of them
		// handed out is valid on the replica the load balancer sends the PUT to.
		k, err := shared.SigningKey(ctx)
		if err != nil {
			return nil, err
		}
		key = k
	}
	if key == nil {
		key = files.KeyFromSeed(s.cfg.Seed)
	}
	if isShared {
		// Replicas draw ids at the same milliseconds: a node number per process keeps
		// their ids apart (the store's ErrIDTaken is the backstop).
		sb.ids.node = rand.Uint64N(1 << idNodeBits)
	}
	if sb.store == nil {
		m, err := store.NewMemory("")
		if err != nil {
			return nil, fmt.Errorf("open the in-memory store: %w", err)
		}
		sb.store, sb.owned = m, true
	}
	sb.signer = files.NewSigner(key)
	sb.deliverer = delivery.New(delivery.Config{
		Store: sb.store,
		Occur: func(ctx context.Context, e store.Event, now time.Time) (delivery.Occurrence, error) {
			return s.occur(ctx, sb, e, now)
		},
		Now:         s.now,
		AfterFunc:   s.cfg.AfterFunc,
		Timeout:     s.cfg.WebhookTimeout,
		MaxInFlight: s.cfg.MaxDeliveries,
		Lease:       s.cfg.WebhookLease,
		Poll:        deliveryPoll(isShared),
		UserAgent:   "morimock-webhooks/" + s.cfg.Version,
		Log:         s.log,
	})
	// The loop lives as long as the Server: Close ends it and waits for it.
	loopCtx, stop := context.WithCancel(context.Background())
	sb.stop, sb.done = stop, make(chan struct{})
	go func() { defer close(sb.done); sb.deliverer.Run(loopCtx) }()
	s.sb = sb
	s.sbOpen.Store(true)
	return sb, nil
}

// sharedPoll is how often a replica on a shared store looks for due webhook events
// it was not woken for: those another replica added or left behind when it died (its
// leases run out), and clocks moved through another replica.
const sharedPoll = time.Second

func deliveryPoll(shared bool) time.Duration {
	if shared {
		return sharedPoll
	}
	return 0 // one process: every change wakes the deliverer itself
}

// Start builds the sandbox now, so that its webhook deliverer runs: a replica on a
// shared store delivers its share of the due events even before it serves a request.
// serve calls it once the shared store answers; it is safe to call more than once.
func (s *Server) Start(ctx context.Context) error {
	_, err := s.sandbox(ctx)
	return err
}

// Close releases the store the Server opened for itself (none when Config.Store was
// given: its owner closes it).
func (s *Server) Close() error {
	s.sbMu.Lock()
	defer s.sbMu.Unlock()
	s.sbClosed = true // no store is opened after Close
	s.stopWork()
	if s.sb == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		s.sb.stop()
		<-s.sb.done
	})
	if s.sb.owned {
		return s.sb.store.Close()
	}
	return nil
}

// tenant is the account a bearer token stands for. id is a digest of the token: the
// token itself is never kept, logged or stored.
type tenant struct {
	id   string
	test bool // an sk_test_ key: test-upload URLs, no processed files
}

// tenantOf returns the tenant of a request that passed authentication (so its
// bearer token parses).
func tenantOf(r *http.Request) tenant {
	token, _ := bearerToken(r.Header.Values("Authorization"))
	sum := sha256.Sum256([]byte("morimock tenant\x00" + token))
	return tenant{id: hex.EncodeToString(sum[:16]), test: strings.HasPrefix(token, testKeyPrefix)}
}

// clock returns the tenant's now: the server's clock plus the tenant's offset.
func (s *Server) clock(ctx context.Context, sb *sandbox, tenantID string) (time.Time, error) {
	off, err := sb.store.ClockOffset(ctx, tenantID)
	if err != nil {
		return time.Time{}, err
	}
	return s.now().Add(off).UTC(), nil
}

// idSource hands out snowflake-like order ids: milliseconds since 2015 in the high
// bits, so ids sort by creation and have the 18-19 digits of the vendor's, and a
// counter below them, so that ids are unique within a process however fast orders
// come. The real clock is used, not a tenant's: a tenant's clock may move back.
//
// The counter starts at a random point, and jumps by a random step after an id
// turns out taken (collided): a process restarted on the same store under a frozen
// clock (--now) draws the same milliseconds as the one before, and must not walk
// through the ids that one handed out. With a shared store the bits below the
// milliseconds also start at the process's node number (node << 12), so that
// replicas drawing ids in the same millisecond mostly draw different ones; the
// store's ErrIDTaken is the backstop for both.
type idSource struct {
	node    uint64 // 0 for a lone process
	mu      sync.Mutex
	last    int64
	started bool
}

// idJump bounds the random start and step of the counter: it leaves half of the 22
// bits below the milliseconds for orders made within one millisecond.
const idJump = 1 << 21

// idNodeBits is the width of a node number: 1024 replicas.
const idNodeBits = 10

var snowflakeEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

func (g *idSource) next(now time.Time) string {
	v := now.Sub(snowflakeEpoch).Milliseconds()<<22 | int64(g.node<<12)
	g.mu.Lock()
	if !g.started {
		g.started = true
		v += rand.Int64N(idJump)
	}
	if v <= g.last {
		v = g.last + 1
	}
	g.last = v
	g.mu.Unlock()
	return strconv.FormatInt(v, 10)
}

// collided moves the counter past a run of ids another process may have used.
func (g *idSource) collided() {
	g.mu.Lock()
	g.last += 1 + rand.Int64N(idJump)
	g.mu.Unlock()
}

// call is one request to a stateful operation, authenticated and validated.
type call struct {
	route  *routers.Route
	params map[string]string
	tenant tenant
	sb     *sandbox
	now    time.Time // the tenant's clock when the request arrived
}

// opFunc serves one operation of the contract.
type opFunc func(w http.ResponseWriter, r *http.Request, c *call)

// stateful wraps an operation that needs the tenant and its clock.
func (s *Server) stateful(op opFunc) func(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string) {
	return func(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string) {
		sb, err := s.sandbox(r.Context())
		if err != nil {
			s.internal(w, err)
			return
		}
		c := &call{route: route, params: params, tenant: tenantOf(r), sb: sb}
		if c.now, err = s.clock(r.Context(), sb, c.tenant.id); err != nil {
			s.internal(w, err)
			return
		}
		op(w, r, c)
	}
}

// internal answers 500 for a failure of the sandbox itself (the store), logging the
// cause; the client sees only that the sandbox failed.
func (s *Server) internal(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		// Redis is away (down, restarting, loading): temporary, and said so. The
		// contract declares 500, not 503, on every operation, so the status stays 500;
		// Retry-After and the detail tell a client to try again.
		s.log.Warn("shared store unavailable", "err", err)
		s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, retryAfter: 1,
			detail: "the sandbox's shared store (Redis) is unavailable; retry shortly"})
		return
	}
	s.log.Error("sandbox failure", "err", err)
	s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, detail: "the sandbox failed; see its log"})
}

// reply writes a 200 JSON answer {"data": data}, checked against the contract first
// under --validate-responses.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, c *call, data any) {
	s.replyStatus(w, r, c, http.StatusOK, map[string]any{"data": data})
}

func (s *Server) replyStatus(w http.ResponseWriter, r *http.Request, c *call, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.internal(w, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = contentJSON
	h.Set(HeaderSource, "sandbox")
	if s.cfg.ValidateResponses && c.route != nil {
		if err := s.spec.ValidateResponse(r.Context(), r, c.route, c.params, status, h, body); err != nil {
			s.log.Error("response failed validation", "operation", c.route.Operation.OperationID, "err", err)
			s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, detail: "the sandbox's own answer broke the contract (--validate-responses): " + clip(err.Error())})
			return
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// decode reads a JSON body the contract has already validated into v.
// The body must be exactly one JSON value: anything after it (a second value, stray
// bytes) is refused, as the validator would have, had it not stopped at the first.
func decode(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "the body is not the JSON the contract asks for: " + clip(err.Error())}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "the body must be exactly one JSON value; more follows it"}
	}
	return nil
}

// lookupOrder returns the tenant's order id: 404 ORDER_NOT_FOUND when no tenant has
// it, 403 ORDER_NOT_OWNER when another tenant does (when the operation declares 403;
// else 404, so that no answer breaks the contract).
func (s *Server) lookupOrder(ctx context.Context, c *call, id string) (order.Record, *apiError, error) {
	rec, err := c.sb.store.GetOrder(ctx, c.tenant.id, id)
	if err == nil && s.retained(&rec, c.now) {
		return rec, nil, nil
	}
	if err == nil { // past the retention window on the tenant's clock: forgotten
		return rec, &apiError{status: http.StatusNotFound, code: codeOrderNotFound, detail: "order " + clip(id) + " is past the retention window (--retention)"}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return rec, nil, err
	}
	if exists, err := c.sb.store.OrderExists(ctx, id); err != nil {
		return rec, nil, err
	} else if exists && declares(c.route, http.StatusForbidden) {
		return rec, &apiError{status: http.StatusForbidden, code: codeOrderNotOwner, detail: "the order belongs to another API key"}, nil
	}
	return rec, &apiError{status: http.StatusNotFound, code: codeOrderNotFound, detail: "no order " + clip(id) + " for this API key"}, nil
}

// declares reports whether the route's operation declares the status.
func declares(route *routers.Route, status int) bool {
	return route != nil && route.Operation != nil && route.Operation.Responses.Status(status) != nil
}

// processFor draws how long an order stays inProgress, from --processing-time, the
// same for the same seed and order.
func (s *Server) processFor(id string) time.Duration {
	lo, hi := s.cfg.ProcessingTime.Min, s.cfg.ProcessingTime.Max
	if hi <= lo {
		return lo
	}
	r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), seedOf("processing", id)))
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// MaxProcessingTime bounds --processing-time: an order expires 7 days after its
// creation anyway, and the bound keeps the draw in processFor from overflowing.
const MaxProcessingTime = 365 * order.Day

// ParseProcessingTime reads --processing-time: a duration in order.ParseDuration's
// syntax ("5s", "90m", "2h", "1d"), a range "2s-8s" or "1h-2d" drawn per order, or "0"
// for at once.
func ParseProcessingTime(s string) (Latency, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (Latency, error) {
		return Latency{}, fmt.Errorf("processing time %q: %s (want e.g. 5s, 90m, 1d, a range 2s-8s, or 0)", s, why)
	}
	lo, hi, isRange := s, "", false
	if i := strings.IndexByte(s[min(1, len(s)):], '-'); i >= 0 { // a leading '-' is a sign, refused below
		lo, hi, isRange = strings.TrimSpace(s[:i+1]), strings.TrimSpace(s[i+2:]), true
	}
	var l Latency
	var err error
	if l.Min, err = order.ParseDuration(lo); err != nil {
		return bad(err.Error())
	}
	if isRange {
		if l.Max, err = order.ParseDuration(hi); err != nil {
			return bad(err.Error())
		}
		if l.Max < l.Min {
			return bad("the range must be LOW-HIGH with LOW <= HIGH")
		}
	}
	if l.Min < 0 || l.Min > MaxProcessingTime || l.Max > MaxProcessingTime {
		return bad("must be between 0 and 365d")
	}
	return l, nil
}

func seedOf(salt, id string) uint64 {
	sum := sha256.Sum256([]byte(salt + "\x00" + id))
	var v uint64
	for _, b := range sum[:8] {
		v = v<<8 | uint64(b)
	}
	return v
}

// retained reports whether an order is inside the retention window at the tenant's now.
func (s *Server) retained(rec *order.Record, now time.Time) bool {
	return now.Sub(rec.CreatedAt) < s.cfg.Retention
}
