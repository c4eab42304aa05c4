// Command morimock is a sandbox and contract-testing kit for the BIZ MORI v2 orders
// API: `morimock serve` runs the mock server, `morimock check` runs the contract
// suite against any base URL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/morimock/morimock/mockserver"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if tunesGC(os.Args[1:], os.Getenv) {
		startGCFloor()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if workProcs(os.Args[1:], os.Getenv) {
		p := &procsForWork{base: runtime.GOMAXPROCS(0)}
		ctx = context.WithValue(ctx, longWorkKey{}, p.longWork)
	}
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "morimock:", ee.err)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "morimock:", err)
		os.Exit(2)
	}
}

// workProcs says whether main gives serve's image work a P of its own while it may
// hold one up (see procsForWork): for serve, unless GOMAXPROCS is set (then it is
// Go's to apply) or its flags do not parse (run reports that). It is main's to
// decide, as tunesGC is: GOMAXPROCS is a setting of the whole process.
func workProcs(args []string, getenv func(string) string) bool {
	if len(args) == 0 || args[0] != "serve" || getenv("GOMAXPROCS") != "" {
		return false
	}
	_, err := parseServe(args[1:], getenv, io.Discard)
	return err == nil
}

// procsForWork raises GOMAXPROCS by one while mockserver.Config.LongWork says so (for
// each image job expected to take long, done in the server; for each duty cycle of an
// image worker process, whose thread holds a P while it sleeps), and lowers it again
// after. A worker busy with a large photo holds a P for as long as Go lets it (it is
// preempted every 10 ms at best); on a one-core server (taskset, a container with one
// CPU) that is the only P, and a GET waits behind the photo. With a P more, a request that arrives
// meanwhile runs at once, and the kernel shares the core between the two threads,
// favouring the request's (a worker's thread runs at a lower priority: mockserver's
// workthread_linux.go). The P is not kept when no such job runs: on one core, two Ps
// cost plain serving about a tenth of its requests per second (bench/run.sh). Setting
// GOMAXPROCS stops Go from following a container's CPU limit as the limit changes.
type procsForWork struct {
	mu   sync.Mutex
	base int
	busy int
}

func (p *procsForWork) longWork(start bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if start {
		p.busy++
	} else {
		p.busy--
	}
	runtime.GOMAXPROCS(p.base + p.busy) // a stop of the world, twice per LongWork: tens of microseconds
}

// longWorkKey carries main's procsForWork.longWork to serve in the context.
type longWorkKey struct{}

// exitError asks main to exit with code; err, when set, is printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

const usage = `morimock: a sandbox and contract suite for the BIZ MORI v2 orders API

Usage:
  morimock serve [flags]        run the mock server (default :8080)
  morimock check [flags]        check an API (the real one, or the mock) against the contract
  morimock healthcheck [flags]  probe a running server's /healthz (for container health checks)
  morimock webhook send|verify  post a signed sample event to a receiver, or check a signature
  morimock version              print the version

Run 'morimock COMMAND -h' for a command's flags.
`

// run is the whole program; main only calls it, so tests can too.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, getenv, stdout, stderr)
	case "webhook":
		return runWebhook(ctx, rest, getenv, stdin, stdout, stderr)
	case "image-worker":
		// Not in the usage: the process serve starts for its image work
		// (--image-work process), answering jobs on stdin and stdout.
		if len(rest) > 0 {
			return &exitError{code: 2, err: errors.New("image-worker takes no arguments: serve starts it")}
		}
		if f, ok := stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				// A terminal (or /dev/null), not serve's pipe: it would wait for a
				// job no one sends.
				return &exitError{code: 2, err: errors.New("image-worker reads the image jobs serve sends it on a pipe; it is not a command to run yourself (run morimock serve)")}
			}
		}
		return mockserver.ServeImageWork(stdin, stdout)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "morimock", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, err: fmt.Errorf("unknown command %q", cmd)}
}
