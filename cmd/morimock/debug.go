package main

import (
	"context"
	"expvar"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/morimock/morimock/internal/loopback"
)

// serveDebug serves expvar (/debug/vars: memstats) and pprof (/debug/pprof/, whose
// goroutine profile counts goroutines) on their own listener, apart from the API, for
// the load and soak test. Neither shows the command line: it may hold --token. It refuses any address but loopback: profiles must
// never be reachable from outside the machine. The server stops when ctx ends.
func serveDebug(ctx context.Context, addr string, stdout io.Writer) error {
	if err := checkDebugAddr(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on debug-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/vars", varsWithoutCmdline)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "morimock debug endpoints on http://%s/debug/\n", ln.Addr())
	go hs.Serve(ln) // ends when the goroutine below closes the server
	go func() {     // ends with ctx
		<-ctx.Done()
		hs.Close()
	}()
	return nil
}

// checkDebugAddr refuses a debug address that is not on loopback.
func checkDebugAddr(addr string) error {
	if err := loopback.Addr(addr); err != nil {
		return fmt.Errorf("debug-addr %q: want a loopback address such as 127.0.0.1:6060: %w", addr, err)
	}
	return nil
}

// varsWithoutCmdline is expvar's handler less the "cmdline" variable that expvar
// publishes by itself: the command line may hold --token.
func varsWithoutCmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, "{\n")
	first := true
	expvar.Do(func(kv expvar.KeyValue) {
		if kv.Key == "cmdline" {
			return
		}
		if !first {
			io.WriteString(w, ",\n")
		}
		first = false
		fmt.Fprintf(w, "%q: %s", kv.Key, kv.Value)
	})
	io.WriteString(w, "\n}\n")
}
