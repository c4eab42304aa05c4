package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/order"
)

// load is one run: the scenarios, sent by o.conns workers for o.duration.
type load struct {
	o         options
	spec      *morimock.Spec
	scenarios []scenario
	recv      *receiver // the lifecycle tenants' webhook receiver; nil without webhooks
}

// tally is what one worker saw; workers never share one, so it needs no lock.
type tally struct {
	latencies  []time.Duration
	statuses   map[int]int
	flows      int               // whole lifecycles done
	delivered  int               // webhook deliveries checked, one per order that ended
	sent       int               // events the events endpoint listed SENT, once each
	transport  int               // requests that got no answer
	unexpected map[string]int    // scenario: status it should not draw
	contract   map[string]int    // scenario: what broke
	examples   map[string]string // one full example per kind of failure
}

func newTally() *tally {
	return &tally{statuses: map[int]int{}, unexpected: map[string]int{}, contract: map[string]int{}, examples: map[string]string{}}
}

// memory is one sample of the server's memory and goroutines; -1 when unknown.
type memory struct {
	rssKiB     int64
	goroutines int
}

func (l *load) sample(ctx context.Context) memory {
	m := memory{rssKiB: -1, goroutines: -1}
	if l.o.pid > 0 {
		if kib, err := rssKiB(l.o.pid); err == nil {
			m.rssKiB = kib
		}
	}
	if l.o.debugAddr != "" {
		if n, err := goroutines(ctx, l.o.debugAddr); err == nil {
			m.goroutines = n
		}
	}
	return m
}

// report is the merged outcome of a run.
type report struct {
	tally
	elapsed       time.Duration
	twice         int      // webhook deliveries of an eventId already delivered
	badDeliveries []string // deliveries the receiver refused

	start, warm, peak    memory
	end, settled         memory
	duringLoadGoroutines int
}

func (l *load) run(ctx context.Context, progress io.Writer) (*report, error) {
	rep := &report{tally: *newTally()}
	rep.start = l.sample(ctx)
	rep.peak = rep.start

	transport := &http.Transport{
		MaxIdleConns: l.o.conns, MaxIdleConnsPerHost: l.o.conns, MaxConnsPerHost: l.o.conns,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport:     transport,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	runCtx, cancel := context.WithTimeout(ctx, l.o.duration)
	defer cancel()
	tallies := make([]*tally, l.o.conns)
	var wg sync.WaitGroup
	began := time.Now()
	for w := range tallies {
		tallies[w] = newTally()
		wg.Add(1)
		go func() { // ends when runCtx does (a lifecycle: its tenant's run after it)
			defer wg.Done()
			r := rand.New(rand.NewPCG(l.o.seed, uint64(w)))
			if w < l.o.lifecycle {
				(&lifecycle{l: l, client: client, r: r, t: tallies[w], worker: w}).run(ctx, runCtx)
				return
			}
			l.worker(runCtx, client, r, tallies[w])
		}()
	}

	// Sample memory after the warm-up, and every so often after that, until the end.
	every := max(l.o.duration/10, time.Second)
	warmup := time.After(l.o.warmup)
	tick := time.NewTicker(every)
	defer tick.Stop()
	warmed := false
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-warmup:
			rep.warm, warmed = l.sample(ctx), true
			rep.peak = peak(rep.peak, rep.warm)
			rep.duringLoadGoroutines = rep.warm.goroutines
		case <-tick.C:
			m := l.sample(ctx)
			rep.peak = peak(rep.peak, m)
			if l.o.soak {
				fmt.Fprintf(progress, "  %5.0fs  RSS %s  goroutines %s\n", time.Since(began).Seconds(), mib(m.rssKiB), count(m.goroutines))
			}
		}
	}
	wg.Wait()
	rep.elapsed = time.Since(began)
	if !warmed {
		rep.warm = rep.start
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.end = l.sample(ctx)
	rep.peak = peak(rep.peak, rep.end)

	// Once the load's connections are closed, the server's goroutines for them must
	// end: give them a moment, then take the count. The webhook receiver's
	// connections are the load's too: the sandbox keeps its delivery connections
	// to a receiver alive between events (a bounded pool, closed after 90 s idle),
	// so the receiver is closed first, as a receiver that goes away would be.
	transport.CloseIdleConnections()
	if l.recv != nil {
		l.recv.stop()
	}
	settleBy := time.Now().Add(5 * time.Second)
	for {
		rep.settled = l.sample(ctx)
		if rep.settled.goroutines <= rep.start.goroutines+l.o.pool() || time.Now().After(settleBy) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, t := range tallies {
		rep.merge(t)
	}
	if l.recv != nil {
		rep.twice, rep.badDeliveries = l.recv.counts()
	}
	return rep, nil
}

func peak(a, b memory) memory {
	return memory{rssKiB: max(a.rssKiB, b.rssKiB), goroutines: max(a.goroutines, b.goroutines)}
}

// worker sends one request after another until ctx ends.
func (l *load) worker(ctx context.Context, client *http.Client, r *rand.Rand, t *tally) {
	for ctx.Err() == nil {
		sc := l.scenarios[r.IntN(len(l.scenarios))]
		target := strings.ReplaceAll(sc.target, "{id}", randomID(r))
		var body io.Reader
		if sc.body != "" {
			body = strings.NewReader(sc.body)
		}
		req, err := http.NewRequestWithContext(ctx, sc.method, "http://"+l.o.addr+target, body)
		if err != nil {
			t.fail(t.contract, sc.name, "cannot build the request", err.Error())
			continue
		}
		for k, vs := range sc.header {
			req.Header[k] = vs
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				t.transport++
				t.fail(nil, sc.name, "no answer", err.Error())
			}
			continue
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			if ctx.Err() == nil {
				t.transport++
				t.fail(nil, sc.name, "body cut", err.Error())
			}
			continue
		}
		t.latencies = append(t.latencies, time.Since(start))
		t.statuses[res.StatusCode]++
		if !slices.Contains(sc.want, res.StatusCode) {
			t.fail(t.unexpected, sc.name, fmt.Sprintf("status %d, want %v", res.StatusCode, sc.want), string(got))
		}
		if kind, detail := l.check(req, res, got); kind != "" {
			t.fail(t.contract, sc.name, kind, detail)
		}
	}
}

// fail counts a failure under "scenario: kind" and keeps its first example.
func (t *tally) fail(in map[string]int, scenario, kind, detail string) {
	key := scenario + ": " + kind
	if in != nil {
		in[key]++
	}
	if _, ok := t.examples[key]; !ok {
		if len(detail) > 1500 { // room for a late delivery's event log
			detail = detail[:1500] + "..."
		}
		t.examples[key] = detail
	}
}

// check holds an answer to the contract: on the order route every answer must match
// openapi.yaml and every 200 the domain rules; off it, errors are JSON with a code.
func (l *load) check(req *http.Request, res *http.Response, body []byte) (kind, detail string) {
	if req.URL.Path == "/healthz" {
		return "", ""
	}
	route, params, err := l.spec.FindRoute(req)
	if err == nil && req.Method == http.MethodGet {
		if err := l.spec.ValidateResponse(req.Context(), req, route, params, res.StatusCode, res.Header, body); err != nil {
			return fmt.Sprintf("%d breaks openapi.yaml", res.StatusCode), err.Error()
		}
		if res.StatusCode == http.StatusOK {
			now, _ := http.ParseTime(res.Header.Get("Date"))
			if vs := order.CheckResponse(body, order.CheckOptions{OrderID: params["orderId"], Now: now}); len(vs) > 0 {
				return "200 breaks the rules", fmt.Sprint(vs)
			}
		}
		return "", ""
	}
	if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
		return fmt.Sprintf("%d off the contract (want 404 or 405)", res.StatusCode), string(body)
	}
	if req.Method == http.MethodHead {
		return "", ""
	}
	var e struct {
		Code *string `json:"code"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == nil {
		return fmt.Sprintf("%d body is not {\"code\": ...}", res.StatusCode), string(body)
	}
	return "", ""
}

func (r *report) merge(t *tally) {
	r.latencies = append(r.latencies, t.latencies...)
	r.transport += t.transport
	r.flows += t.flows
	r.delivered += t.delivered
	r.sent += t.sent
	for k, v := range t.statuses {
		r.statuses[k] += v
	}
	for k, v := range t.unexpected {
		r.unexpected[k] += v
	}
	for k, v := range t.contract {
		r.contract[k] += v
	}
	for k, v := range t.examples {
		if _, ok := r.examples[k]; !ok {
			r.examples[k] = v
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// problems lists what fails the run.
func (r *report) problems(o options) []string {
	var p []string
	if n := sum(r.contract); n > 0 {
		p = append(p, fmt.Sprintf("%d answer(s) broke the contract", n))
	}
	if n := sum(r.unexpected); n > 0 {
		p = append(p, fmt.Sprintf("%d answer(s) had a status their scenario does not allow", n))
	}
	if r.transport > 0 {
		p = append(p, fmt.Sprintf("%d request(s) got no answer", r.transport))
	}
	if len(r.latencies) == 0 {
		p = append(p, "no request was answered")
	}
	if o.lifecycle > 0 && r.flows == 0 {
		p = append(p, "no order lifecycle finished")
	}
	if r.twice > 0 {
		p = append(p, fmt.Sprintf("%d webhook event(s) delivered twice", r.twice))
	}
	if len(r.badDeliveries) > 0 {
		p = append(p, fmt.Sprintf("%d webhook delivery(ies) refused by the receiver", len(r.badDeliveries)))
	}
	if o.soak {
		if g := r.end.rssKiB - r.warm.rssKiB; r.warm.rssKiB > 0 && g > o.maxGrowth {
			p = append(p, fmt.Sprintf("RSS grew %s after the warm-up (bound %s)", mib(g), mib(o.maxGrowth)))
		}
		if r.start.goroutines > 0 && r.settled.goroutines > r.start.goroutines+o.pool() {
			p = append(p, fmt.Sprintf("goroutines: %d after the load, %d before it and %d the sandbox keeps once used", r.settled.goroutines, r.start.goroutines, o.pool()))
		}
	}
	return p
}

func (r *report) print(w io.Writer, o options) {
	n := len(r.latencies)
	fmt.Fprintf(w, "requests            %d in %.1fs (%.0f/s)\n", n, r.elapsed.Seconds(), float64(n)/r.elapsed.Seconds())
	if n > 0 {
		sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
		q := func(p float64) time.Duration { return r.latencies[min(n-1, int(p*float64(n)))] }
		fmt.Fprintf(w, "latency             p50 %s  p90 %s  p99 %s  max %s\n", ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(r.latencies[n-1]))
	}
	codes := make([]int, 0, len(r.statuses))
	for c := range r.statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d: %d", c, r.statuses[c]))
	}
	fmt.Fprintf(w, "statuses            %s\n", strings.Join(parts, "  "))
	if o.lifecycle > 0 {
		fmt.Fprintf(w, "lifecycles          %d whole antiAi flows (%.0f/s) on %d connections, each checked end to end\n", r.flows, float64(r.flows)/r.elapsed.Seconds(), o.lifecycle)
	}
	if o.lifecycle > 0 && o.webhooks {
		fmt.Fprintf(w, "webhooks            %d deliveries signed and matching their order, %d events SENT once, %d delivered twice, %d refused\n", r.delivered, r.sent, r.twice, len(r.badDeliveries))
		if len(r.badDeliveries) > 0 {
			fmt.Fprintf(w, "          e.g. %s\n", r.badDeliveries[0])
		}
	}
	fmt.Fprintf(w, "no answer           %d\n", r.transport)
	fmt.Fprintf(w, "unexpected status   %d\n", sum(r.unexpected))
	fmt.Fprintf(w, "contract failures   %d\n", sum(r.contract))
	for _, m := range []map[string]int{r.unexpected, r.contract} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n          e.g. %s\n", m[k], k, r.examples[k])
		}
	}
	if r.start.rssKiB >= 0 {
		bound := ""
		if o.soak {
			bound = fmt.Sprintf(", bound %s", mib(o.maxGrowth))
		}
		fmt.Fprintf(w, "server RSS          start %s  after warm-up (%s) %s  peak %s  end %s  (growth after warm-up %s%s)\n",
			mib(r.start.rssKiB), o.warmup, mib(r.warm.rssKiB), mib(r.peak.rssKiB), mib(r.end.rssKiB), mibSigned(r.end.rssKiB-r.warm.rssKiB), bound)
	} else {
		fmt.Fprintln(w, "server RSS          unknown (give -pid with -addr)")
	}
	if r.start.goroutines >= 0 {
		fmt.Fprintf(w, "server goroutines   start %d  under load %d  end of load %d  after closing connections %d\n",
			r.start.goroutines, r.duringLoadGoroutines, r.end.goroutines, r.settled.goroutines)
	} else {
		fmt.Fprintln(w, "server goroutines   unknown (give -debug-addr with -addr)")
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string {
	if kib < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

func mibSigned(kib int64) string { return fmt.Sprintf("%+.1f MiB", float64(kib)/1024) }

func count(n int) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}
