// Command loadtest drives a morimock server over loopback for a bounded time with a
// mix of every scenario, every declared error and bad input of every kind, checks
// every answer against openapi.yaml and the domain rules, and reports throughput,
// latency percentiles, every status seen, and the server's memory and goroutines.
//
//	go run ./internal/loadtest                  # 10s, 50 connections, builds and starts the mock
//	go run ./internal/loadtest -soak            # 5 minutes: fails if memory or goroutines grow
//	go run ./internal/loadtest -addr 127.0.0.1:8080 -pid $(pgrep -n morimock)
//
// It exits 1 when any answer breaks the contract or draws a status its scenario does
// not allow, when a request fails, or, with -soak, when the server's RSS grows past
// -max-growth after the warm-up or its goroutines do not return to their count at start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/internal/loopback"
	"github.com/morimock/morimock/mockserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	duration  time.Duration
	warmup    time.Duration
	conns     int
	addr      string
	pid       int
	debugAddr string
	bin       string
	token     string
	soak      bool
	maxGrowth int64 // KiB of RSS the server may gain after the warm-up, in soak mode
	seed      uint64
	lifecycle int    // of conns, how many play tenants' whole order flows
	advance   string // how far a lifecycle tenant moves its clock to end processing
	webhooks  bool   // lifecycle tenants register a webhook at the load test's receiver
	workers   int    // the server's --image-workers
	imageWork string // the server's --image-work: process or inline
}

// pool is how many goroutines the sandbox starts with its first order and keeps:
// its image workers (in process mode each with the goroutine that waits for its
// process), and the webhook deliverer once a webhook exists. They are not
// connections' goroutines, so the soak's count at the end allows for them.
func (o options) pool() int {
	if o.lifecycle == 0 {
		return 0
	}
	n := o.workers
	if o.imageWork == "process" {
		n += o.workers
	}
	if o.webhooks {
		n++
	}
	return n
}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var maxGrowthMiB int64
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send requests (-soak: 5m unless given)")
	fs.DurationVar(&o.warmup, "warmup", 0, "how long before the after-warm-up memory sample; 0 is a fifth of -duration, at most 30s")
	fs.IntVar(&o.conns, "conns", 50, "concurrent connections, each sending one request after another")
	fs.StringVar(&o.addr, "addr", "", "host:port of a running mock on loopback; empty builds and starts one")
	fs.IntVar(&o.pid, "pid", 0, "with -addr: the server's process id, to read its memory from /proc")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "with -addr: the server's --debug-addr, to count its goroutines")
	fs.StringVar(&o.bin, "bin", "", "without -addr: a morimock binary to start instead of building ./cmd/morimock")
	fs.StringVar(&o.token, "token", "sk_test_loadtest", "the bearer token to send (and to start the mock with)")
	fs.BoolVar(&o.soak, "soak", false, "soak preset: 5 minutes, 30s warm-up, and fail when memory or goroutines grow")
	fs.Int64Var(&maxGrowthMiB, "max-growth", 16, "with -soak: MiB of RSS the server may gain between the warm-up and the end")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the choice of scenarios and ids")
	fs.IntVar(&o.lifecycle, "lifecycle", -1, "of -conns, how many play tenants' whole antiAi flows (create, upload, confirm, clock, poll, download, expiry); -1 is a fifth, at least 1; 0 is none. Needs a server without --token")
	fs.StringVar(&o.advance, "advance", "5s", "how far a lifecycle tenant moves its clock after confirming: the server's --processing-time or more")
	fs.BoolVar(&o.webhooks, "webhooks", true, "lifecycle tenants register a webhook at a receiver this command runs on loopback, and every ended order must be delivered once, signed")
	fs.IntVar(&o.workers, "image-workers", 1, "the server's --image-workers (given to the server it starts; with -addr, what it was started with): a pool its first order starts and keeps")
	fs.StringVar(&o.imageWork, "image-work", mockserver.DefaultImageWork, "the server's --image-work, process or inline (given to the server it starts; with -addr, what it was started with): in process mode each image worker keeps a goroutine that waits for its process")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.soak && !set["duration"] {
		o.duration = 5 * time.Minute
	}
	if o.lifecycle < 0 {
		o.lifecycle = max(1, o.conns/5)
	}
	if o.warmup == 0 {
		o.warmup = min(o.duration/5, 30*time.Second)
	}
	o.maxGrowth = maxGrowthMiB << 10
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("loadtest takes no arguments, got %q", fs.Args())
	case o.duration <= 0 || o.duration > 2*time.Hour:
		return o, fmt.Errorf("duration %s: want more than 0 and at most 2h", o.duration)
	case o.warmup >= o.duration:
		return o, fmt.Errorf("warmup %s: want less than the duration %s", o.warmup, o.duration)
	case o.conns < 1 || o.conns > 10000:
		return o, fmt.Errorf("conns %d: want 1 to 10000", o.conns)
	case o.lifecycle > o.conns:
		return o, fmt.Errorf("lifecycle %d: want at most -conns (%d)", o.lifecycle, o.conns)
	case o.imageWork != "process" && o.imageWork != "inline":
		return o, fmt.Errorf("image-work %q: want process or inline", o.imageWork)
	}
	if o.addr != "" {
		if err := checkLoopback(o.addr); err != nil {
			return o, err
		}
	}
	if o.debugAddr != "" {
		if err := checkLoopback(o.debugAddr); err != nil {
			return o, err
		}
	}
	return o, nil
}

// checkLoopback refuses any target but this machine: a load test never leaves it.
func checkLoopback(addr string) error {
	if err := loopback.Addr(addr); err != nil {
		return fmt.Errorf("address %q: the load test only targets loopback: %w", addr, err)
	}
	return nil
}

// run is the whole command; main only calls it, so the test can too.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		return err
	}
	origin := "given"
	tokenChecked := false
	if o.addr == "" {
		dir, err := os.MkdirTemp("", "morimock-loadtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin := o.bin
		if bin == "" {
			fmt.Fprintln(stdout, "building ./cmd/morimock ...")
			if bin, err = buildMock(ctx, dir); err != nil {
				return err
			}
		}
		args := []string{"--token", o.token, "--seed", "1"}
		if o.lifecycle > 0 {
			args = args[2:] // lifecycle tenants are tokens of their own
		}
		args = append(args, "--image-workers", fmt.Sprint(o.workers), "--image-work", o.imageWork)
		m, err := startMock(ctx, bin, args...)
		if err != nil {
			return err
		}
		defer func() {
			if serr := m.stop(); serr != nil && err == nil {
				err = serr
			}
		}()
		o.addr, o.pid, o.debugAddr = m.addr, m.cmd.Process.Pid, m.debugAddr
		origin, tokenChecked = fmt.Sprintf("started here, pid %d", o.pid), o.lifecycle == 0
	} else {
		if tokenChecked, err = checksToken(ctx, o.addr); err != nil {
			return err
		}
		if tokenChecked && o.lifecycle > 0 {
			return fmt.Errorf("the server at %s accepts only its --token; the lifecycle mix needs one token per tenant: restart it without --token, or give -lifecycle 0", o.addr)
		}
	}
	scenarios, err := mix(spec, o.token, tokenChecked)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "morimock load test: %s, %d connections (%d playing whole order lifecycles), %d scenarios, http://%s (%s)\n", o.duration, o.conns, o.lifecycle, len(scenarios), o.addr, origin)

	l := &load{o: o, spec: spec, scenarios: scenarios}
	if o.lifecycle > 0 && o.webhooks {
		if l.recv, err = startReceiver(); err != nil {
			return err
		}
		defer l.recv.stop()
	}
	rep, err := l.run(ctx, stdout)
	if err != nil {
		return err
	}
	rep.print(stdout, o)
	if failures := rep.problems(o); len(failures) > 0 {
		fmt.Fprintln(stdout, "result: FAIL")
		return fmt.Errorf("%d problem(s): %v", len(failures), failures)
	}
	fmt.Fprintln(stdout, "result: PASS")
	return nil
}

// checksToken asks a running server whether it checks the bearer token: a server
// started without --token accepts any.
func checksToken(ctx context.Context, addr string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+morimock.OrderURLPath("1"), nil)
	req.Header.Set("Authorization", "Bearer sk_test_not_the_one")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("probe %s: %w", addr, err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusUnauthorized, nil
}
