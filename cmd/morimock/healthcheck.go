package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck probes a server's /healthz and exits 0 when it answers 200. It needs
// no shell or curl, so a distroless image can use it as its HEALTHCHECK.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", healthURL(getenv), "the health endpoint to probe (default: where serve listens, from MORIMOCK_ADDR or PORT)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: 2, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("healthcheck: %w", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("healthcheck: %w", err)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)}
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// healthURL is /healthz where `morimock serve` listens given the same environment:
// MORIMOCK_ADDR wins over PORT, and a wildcard host is probed on loopback.
func healthURL(getenv func(string) string) string {
	addr := ":8080"
	if p := getenv("PORT"); p != "" {
		addr = ":" + p
	}
	if a := getenv("MORIMOCK_ADDR"); a != "" {
		addr = a
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://127.0.0.1:8080/healthz"
	}
	return "http://" + dialAddr(host, port) + "/healthz"
}
