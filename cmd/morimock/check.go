package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/morimock/morimock/contract"
)

// checkOptions are the flags of `morimock check`.
type checkOptions struct {
	cfg       contract.Config
	junitFile string
	jsonFile  string
	quiet     bool
	rules     bool
}

// orderFlag collects --order, which may be given many times.
type orderFlag []string

func (o *orderFlag) String() string { return strings.Join(*o, ",") }

func (o *orderFlag) Set(v string) error {
	*o = append(*o, v)
	return nil
}

func parseCheck(args []string, getenv func(string) string, stderr io.Writer) (checkOptions, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: morimock check [flags]

Checks an API (the real one, a staging copy, or morimock) against the orders
contract: openapi.yaml and the domain rules. It sends GETs only, whatever a
server answers, unless you give --probe-writes; it follows no redirect (a 3xx
is an answer like any other), so the token goes to --base-url and nowhere else.
Against a remote host it sends 1 request a second unless --rate says otherwise.
Against morimock it covers every order type and status with no ids given.

It also reads the rest of the surface: the order list, a download, usage stats
and the webhooks. --lifecycle creates orders with a test key (sk_test_...) and
follows each type's flow; it refuses any other key before sending anything.

A rule the docs state fails; a rule that is only our reading of them warns,
except against morimock or with --strict (--rules lists them all).

Exit status: 0 all checks passed (warnings allowed), 1 a check failed, 2 the
suite could not run, was stopped (its deadline, a Retry-After over 60s) or was
inconclusive (a test environment that keeps no test orders); the reports are
written with what was checked until then.

Flags:
`)
		fs.PrintDefaults()
	}
	var o checkOptions
	var orders orderFlag
	var ordersFile string
	baseURL := getenv("MORIMOCK_BASE_URL")
	if baseURL == "" {
		baseURL = "http://127.0.0.1:8080"
	}
	fs.StringVar(&o.cfg.BaseURL, "base-url", baseURL, "the API's base URL (env MORIMOCK_BASE_URL)")
	// The token's default stays empty and the environment is read after parsing: a
	// flag's default is printed by -h and by every flag error, and the key must not be.
	fs.StringVar(&o.cfg.Token, "token", "", "API key sent as a Bearer token; never printed (env BIZMORI_API_TOKEN)")
	fs.Var(&orders, "order", "an order id to check (repeatable)")
	fs.StringVar(&ordersFile, "orders-file", "", "a file of order ids, one a line, # comments")
	fs.IntVar(&o.cfg.Discover, "discover", 0, "also check up to N orders listed by GET /api/v2/orders")
	fs.Float64Var(&o.cfg.Rate, "rate", 0, "most requests per second; 0 = 1/s (the Free plan's 60/min) for remote hosts, no limit for loopback")
	fs.BoolVar(&o.cfg.Strict, "strict", false, "turn warnings (unknown fields, documented drift) into failures")
	fs.DurationVar(&o.cfg.Timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.DurationVar(&o.cfg.Deadline, "deadline", 0, "bound on the whole run; 0 = --timeout plus the rate's interval per planned request, plus 5m for retries")
	fs.BoolVar(&o.cfg.ProbeWrites, "probe-writes", false, "also send POST and DELETE to one order to check they are refused (wrong_method); only to a server you own, such as a local morimock: a live API may carry them out")
	fs.StringVar(&o.junitFile, "junit", "", "write a JUnit XML report to FILE")
	fs.StringVar(&o.jsonFile, "json", "", "write a JSON report to FILE")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress and no table: only failures, warnings and the verdict")
	fs.BoolVar(&o.cfg.Lifecycle, "lifecycle", false, "also run every order type's documented flow (create, upload, confirm, poll, download); creates orders, so it needs a test key (sk_test_...) and refuses any other")
	fs.StringVar(&o.cfg.WebhookListen, "webhook-listen", "", "with --lifecycle: receive webhook deliveries on ADDR (e.g. 127.0.0.1:9099)")
	fs.StringVar(&o.cfg.WebhookPublicURL, "webhook-public-url", "", "with --lifecycle: the URL the API delivers to, which reaches --webhook-listen; a temporary webhook is registered there and deleted at the end")
	fs.BoolVar(&o.rules, "rules", false, "list every rule the suite applies with its basis (documented or inferred) and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.cfg.Token == "" {
		o.cfg.Token = getenv("BIZMORI_API_TOKEN")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("check takes no arguments, got %q (give ids with --order)", fs.Args())
	}
	if o.cfg.Discover < 0 {
		return o, fmt.Errorf("discover %d: want a number of orders, 0 or more", o.cfg.Discover)
	}
	if o.cfg.Rate < 0 || math.IsNaN(o.cfg.Rate) || math.IsInf(o.cfg.Rate, 0) {
		return o, fmt.Errorf("rate %v: want requests per second, 0 for the default", o.cfg.Rate)
	}
	if o.cfg.Timeout <= 0 {
		return o, fmt.Errorf("timeout %s: want a positive duration such as 10s", o.cfg.Timeout)
	}
	if o.cfg.Deadline < 0 {
		return o, fmt.Errorf("deadline %s: want a duration such as 30m, or 0 for the default", o.cfg.Deadline)
	}
	o.cfg.OrderIDs = orders
	if ordersFile != "" {
		f, err := os.Open(ordersFile)
		if err != nil {
			return o, fmt.Errorf("orders-file: %w", err)
		}
		defer f.Close()
		ids, err := contract.ReadOrderIDs(f)
		if err != nil {
			return o, fmt.Errorf("orders-file %s: %w", ordersFile, err)
		}
		o.cfg.OrderIDs = append(o.cfg.OrderIDs, ids...)
	}
	if o.cfg.Token == "" && !o.rules {
		// Every order read needs one: without it each would fail, as refused.
		return o, errors.New("no token: give --token or set BIZMORI_API_TOKEN (a mock started without --token takes any, such as --token x)")
	}
	return o, nil
}

// runCheck runs the contract suite: the summary to stdout, progress to stderr.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseCheck(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("check: %w", err)}
	}
	if o.rules {
		return contract.WriteRules(stdout)
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	} else if o.cfg.Lifecycle {
		// The request budget is printed even when quiet: it is what the run may cost.
		o.cfg.Progress = budgetOnly{stderr}
	}
	spec, err := loadSpec(ctx)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	rep, runErr := contract.Run(ctx, spec, o.cfg)
	if rep != nil {
		// Also when the run was stopped: what it checked until then is reported.
		if err := writeReports(rep, o, stdout); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("check: %w", err)}
		}
	}
	var inc *contract.InconclusiveError
	if errors.As(runErr, &inc) {
		return &exitError{code: 2, err: fmt.Errorf("check: %w", runErr)}
	}
	if runErr != nil {
		return &exitError{code: 2, err: fmt.Errorf("check: could not run: %w", runErr)}
	}
	if rep.Failed() {
		return &exitError{code: 1}
	}
	return nil
}

func writeReports(rep *contract.Report, o checkOptions, stdout io.Writer) error {
	write := rep.WriteText
	if o.quiet {
		write = rep.WriteFindings
	}
	if err := write(stdout); err != nil {
		return err
	}
	for _, f := range []struct {
		path  string
		write func(io.Writer) error
	}{{o.junitFile, rep.WriteJUnit}, {o.jsonFile, rep.WriteJSON}} {
		if f.path == "" {
			continue
		}
		if err := writeFile(f.path, f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// budgetOnly passes on the lifecycle's request budget line and nothing else.
type budgetOnly struct{ w io.Writer }

func (b budgetOnly) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "lifecycle:") {
		return b.w.Write(p)
	}
	return len(p), nil
}
