// Command firstok starts a server and reports how long it took from the start of the
// process to its first 200 answer, polling every 100 µs. It leaves the server running
// and prints its pid, so bench/run.sh can load it and stop it afterwards.
//
//	firstok -url http://127.0.0.1:18080/healthz -- morimock serve --addr 127.0.0.1:18080
//
// prints "PID MILLISECONDS". The poll gives up after -timeout and then kills the server.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"
)

func main() {
	url := flag.String("url", "", "URL that answers 200 once the server is up")
	auth := flag.String("auth", "", "Authorization header to send, if any")
	timeout := flag.Duration("timeout", 10*time.Second, "give up after this long")
	logFile := flag.String("log", "/dev/null", "where the server's stdout and stderr go")
	flag.Parse()
	if *url == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: firstok -url URL [-auth HEADER] -- command args...")
		os.Exit(2)
	}
	out, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "firstok:", err)
		os.Exit(1)
	}
	req, err := http.NewRequest(http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "firstok:", err)
		os.Exit(2)
	}
	if *auth != "" {
		req.Header.Set("Authorization", *auth)
	}
	// A fresh connection per poll: a refused dial must be retried at once, and a kept
	// connection would hide nothing here anyway.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}

	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "firstok:", err)
		os.Exit(1)
	}
	for time.Since(start) < *timeout {
		res, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				fmt.Printf("%d %.2f\n", cmd.Process.Pid, float64(time.Since(start).Microseconds())/1000)
				return // the server goes on; the caller stops it
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Process.Kill()
	fmt.Fprintf(os.Stderr, "firstok: no 200 from %s within %s\n", *url, *timeout)
	os.Exit(1)
}
