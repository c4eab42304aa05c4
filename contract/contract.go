// Package contract is the contract suite for the BIZ MORI v2 orders API: it checks
// that a base URL (the real API, a staging copy, or morimock) keeps the contract of
// openapi.yaml and the rules of the order package, and returns a Report.
//
// It is read-only (GETs only) unless Config.ProbeWrites or Config.Lifecycle (with a
// test key only) asks for more, whatever a server answers; it never sends the token
// to the upload and download URLs a server names; it follows no redirect, is rate-limited, bounds the time and memory
// each answer costs, and never writes the token anywhere. Against morimock it covers
// every order type and status by itself.
package contract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/morimock/morimock"
)

// Config says what to check and how. Its zero value, with a BaseURL, works.
type Config struct {
	// BaseURL is the API's root, e.g. https://api.bizmori.com or http://127.0.0.1:8080.
	BaseURL string
	// Token is the API key sent as a Bearer token. It never appears in a report.
	Token string
	// OrderIDs are the orders to fetch and check.
	OrderIDs []string
	// Discover takes up to this many more ids from GET /api/v2/orders.
	Discover int
	// Rate is the most requests per second. 0 means 1 a second (the Free plan's 60 a
	// minute) for any host but this machine, and no limit for loopback hosts.
	Rate float64
	// Strict turns warnings into failures.
	Strict bool
	// Timeout bounds each request; 0 means 10s.
	Timeout time.Duration
	// Deadline bounds the whole run; 0 means Timeout plus the rate's interval for
	// each request the run plans, plus 5m for retries after 429s. When it passes, Run
	// returns the report so far with an error.
	Deadline time.Duration
	// ProbeWrites sends POST and DELETE to one order, to check that the API refuses
	// them (wrong_method). Only the person running the suite may ask for it: a live API
	// might carry them out.
	ProbeWrites bool
	// Backoff is the first wait after a 429 that has no Retry-After; it doubles with
	// each retry. 0 means 1s.
	Backoff time.Duration
	// PerScenario is how many ids the suite asks the mock for per type and status
	// when no ids are given; 0 means 10.
	PerScenario int
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Progress, when set, receives a line now and then while orders are checked.
	Progress io.Writer
	// Now is the clock used when an answer has no Date header; nil means time.Now.
	Now func() time.Time

	// Lifecycle runs the documented flow of every order type: it creates orders, so it
	// needs a test key (sk_test_...), whatever the server; Run refuses any other key
	// before sending anything.
	Lifecycle bool
	// WebhookListen and WebhookPublicURL (both or neither) make --lifecycle register
	// a temporary webhook at WebhookPublicURL, receive its deliveries on
	// WebhookListen, check their signatures and delete it at the end.
	WebhookListen    string
	WebhookPublicURL string
	// WebhookWait bounds the wait for the deliveries; 0 means 15s.
	WebhookWait time.Duration
	// PollWait is the first wait between two polls of an order on a server without a
	// clock to move (it doubles, up to 16s); 0 means 1s.
	PollWait time.Duration
	// MaxPolls bounds the polls of one order; 0 means 8.
	MaxPolls int
}

// runner is one run of the suite.
type runner struct {
	spec   *morimock.Spec
	cfg    Config
	c      *client
	report *Report

	runID    string    // names what the lifecycle creates
	sandbox  bool      // /_morimock/clock answered
	moved    bool      // the lifecycle moved the sandbox key's clock
	lastDate time.Time // the last Date header the API sent
}

// Run checks cfg.BaseURL against the contract and returns what it found. The error
// is set only when the suite could not run: a bad configuration, a host that does
// not answer, no ids to check. A contract break is a failed check in the report,
// not an error.
func Run(ctx context.Context, spec *morimock.Spec, cfg Config) (*Report, error) {
	if spec == nil {
		return nil, errors.New("contract: no spec")
	}
	if cfg.Lifecycle && !strings.HasPrefix(cfg.Token, testKeyPrefix) {
		return nil, fmt.Errorf("contract: %w", LifecycleKeyError)
	}
	if (cfg.WebhookListen == "") != (cfg.WebhookPublicURL == "") {
		return nil, fmt.Errorf("contract: %w", errWebhookFlags)
	}
	if cfg.WebhookPublicURL != "" {
		if u, err := url.Parse(cfg.WebhookPublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("contract: webhook public URL %q: want http(s)://host[:port]/path", clip(cfg.WebhookPublicURL))
		}
	}
	c, err := newClient(ctx, cfg)
	if err != nil {
		return nil, redactError("contract: ", err, cfg.Token)
	}
	for _, id := range cfg.OrderIDs {
		if err := checkOrderID(id); err != nil {
			return nil, fmt.Errorf("contract: %w", err)
		}
	}
	r := &runner{spec: spec, cfg: cfg, c: c, report: &Report{Target: c.base.String(), Strict: cfg.Strict}}
	err = r.run(ctx)
	r.report.Requests = c.requests
	r.report.RateLimited = c.rateLimited
	var inc *InconclusiveError
	if err != nil && !errors.As(err, &inc) {
		err = redactError("contract: ", err, cfg.Token)
		r.report.Stopped = err.Error()
	}
	r.report.finish(cfg.Token)
	return r.report, err
}

// retryAllowance is what the default deadline adds for waits after 429 answers.
const retryAllowance = 5 * time.Minute

// deadline is the default bound of a run that plans n requests.
func (r *runner) deadline(n int) time.Duration {
	return time.Duration(n)*(r.c.timeout+r.c.interval) + retryAllowance
}

func (r *runner) run(ctx context.Context) error {
	// Config.Deadline bounds the whole run; without it, the run is bounded in two
	// steps: the requests that find the targets, then those that check them.
	find, check := ctx, ctx
	if r.cfg.Deadline > 0 {
		var cancel context.CancelFunc
		find, cancel = context.WithTimeout(ctx, r.cfg.Deadline)
		defer cancel()
		check = find
	} else {
		pages := 0
		if r.cfg.Discover > 0 {
			pages = min(maxDiscoverPages, (r.cfg.Discover+99)/100)
		}
		var cancel context.CancelFunc
		find, cancel = context.WithTimeout(ctx, r.deadline(1+pages))
		defer cancel()
	}
	if err := r.checkNotFound(find); err != nil {
		return deadlineError(ctx, find, err, "before the orders were known")
	}
	r.report.MockVersion = r.c.mockVersion
	r.report.Mock = r.c.mockVersion != ""
	targets, err := r.targets(find)
	if err != nil {
		return deadlineError(ctx, find, err, "before the orders were known")
	}
	if len(targets) == 0 && !r.cfg.Lifecycle {
		return errors.New("no orders to check: give --order, --orders-file or --discover N, or --lifecycle with a test key (only the mock is covered without ids)")
	}
	if r.cfg.Deadline <= 0 {
		n := len(targets) + 4 + surfaceBudget
		if r.probesDownload() {
			n += downloadProbeBudget
		}
		var waits time.Duration
		if r.cfg.Lifecycle {
			n += lifecycleBudget(len(lifecycleFlows()), r.maxPolls(), r.cfg.WebhookListen != "")
			// Polls back off up to 16s each on a server without a clock.
			waits = time.Duration(len(lifecycleFlows())*r.maxPolls())*16*time.Second + r.cfg.WebhookWait + 15*time.Second
		}
		var cancel context.CancelFunc
		check, cancel = context.WithTimeout(ctx, r.deadline(n)+waits)
		defer cancel()
	}
	err = r.checkAll(check, targets)
	r.rateLimitResults()
	var inc *InconclusiveError
	if errors.As(err, &inc) {
		return err
	}
	return deadlineError(ctx, check, err, fmt.Sprintf("after %d of %d orders", r.report.Orders, len(targets)))
}

// deadlineError says so when err came from the run's deadline (bounded, an ended
// child of ctx) rather than from ctx itself or one request's timeout.
func deadlineError(ctx, bounded context.Context, err error, when string) error {
	if err == nil || ctx.Err() != nil || bounded.Err() == nil {
		return err
	}
	return fmt.Errorf("the run's deadline passed %s; give --deadline more time: %w", when, err)
}

// checkAll checks the given orders, runs the lifecycle when asked, then reads the
// rest of the surface (after the lifecycle, so that its orders are listed).
func (r *runner) checkAll(ctx context.Context, targets []target) error {
	if len(targets) > 0 {
		if err := r.checkTargets(ctx, targets); err != nil {
			return err
		}
	}
	if r.cfg.Lifecycle {
		if err := r.lifecycle(ctx); err != nil {
			return err
		}
	}
	return r.readSurface(ctx)
}

func (r *runner) checkTargets(ctx context.Context, targets []target) error {
	if err := r.checkAuth(ctx, targets[0].id); err != nil {
		return err
	}
	if err := r.checkWrongMethod(ctx, targets[0].id); err != nil {
		return err
	}
	for i, t := range targets {
		if err := r.checkOrder(ctx, t); err != nil {
			return err
		}
		r.progress(i+1, len(targets))
	}
	return nil
}

// rateLimitResults reports the 429 answers that were retried: they are counted, not
// failed, but their code may drift from the contract.
func (r *runner) rateLimitResults() {
	base := Result{Request: "any request answered 429"}
	if len(r.c.limited) == 0 {
		r.add(base, CheckDriftRateLimit, nil, "no 429 answer was seen")
		return
	}
	var fs []Finding
	for _, resp := range r.c.limited {
		for _, d := range answerDrifts(&resp) {
			if d.check == CheckDriftRateLimit {
				fs = append(fs, d.finding)
				break
			}
		}
	}
	if len(fs) > 1 {
		fs[0].Message += fmt.Sprintf(" (%d of %d answers)", len(fs), len(r.c.limited))
		fs = fs[:1]
	}
	r.add(base, CheckDriftRateLimit, fs, "")
}

// add records one result; its outcome follows from the findings, the check's
// severity and reason (set when the check was skipped).
func (r *runner) add(base Result, check string, findings []Finding, reason string) {
	res := base
	info := checkInfo(check)
	findings, inferred := r.judge(check, "", findings)
	res.Check, res.Severity, res.Findings, res.Reason = check, info.Severity, findings, reason
	switch {
	case reason != "":
		res.Outcome = Skipped
	case len(findings) == 0:
		res.Outcome = Passed
	case info.Severity == SeverityWarning:
		res.Outcome = Warned
	case inferred && !r.strict():
		// Only rules the docs leave open broke: a named warning, not a failure.
		res.Outcome = Warned
	default:
		res.Outcome = Failed
	}
	r.report.Results = append(r.report.Results, res)
}

func (r *runner) progress(done, total int) {
	if r.cfg.Progress == nil || total < 10 {
		return
	}
	if done%25 != 0 && done != total {
		return
	}
	failed := 0
	for _, res := range r.report.Results {
		if res.Outcome == Failed {
			failed++
		}
	}
	fmt.Fprintf(r.cfg.Progress, "checked %d/%d orders (%d failed results so far)\n", done, total, failed)
}

func (r *runner) now() time.Time {
	if r.cfg.Now != nil {
		return r.cfg.Now()
	}
	return time.Now()
}
