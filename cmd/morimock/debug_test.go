package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheckDebugAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"127.0.0.1:0", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{":6060", false},
		{"0.0.0.0:6060", false},
		{"192.0.2.1:6060", false},
		{"example.test:6060", false},
		{"6060", false},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			if err := checkDebugAddr(tt.addr); (err == nil) != tt.ok {
				t.Errorf("checkDebugAddr(%q) = %v; want ok %v", tt.addr, err, tt.ok)
			}
		})
	}
}

// TestDebugEndpointsHideTheCommandLine: the process's command line may hold --token
// (in-process, os.Args is the test binary's, so the test asserts that no command line
// is served at all).
func TestDebugEndpointsHideTheCommandLine(t *testing.T) {
	s := serveLoopback(t, "--debug-addr", "127.0.0.1:0")
	var debugBase string
	for i := 0; i < 200 && debugBase == ""; i++ {
		if _, after, ok := strings.Cut(s.stdout.String(), "debug endpoints on "); ok {
			debugBase, _, _ = strings.Cut(after, "\n")
			debugBase = strings.TrimSuffix(debugBase, "/debug/")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if debugBase == "" {
		t.Fatal("no debug endpoint line on stdout")
	}
	get := func(path string) (int, []byte) {
		res, err := http.Get(debugBase + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	status, body := get("/debug/vars")
	var vars map[string]json.RawMessage
	if status != 200 || json.Unmarshal(body, &vars) != nil {
		t.Fatalf("GET /debug/vars = %d %.200s; want 200 and a JSON object", status, body)
	}
	if _, ok := vars["cmdline"]; ok {
		t.Error("GET /debug/vars serves cmdline, which may hold --token")
	}
	if _, ok := vars["memstats"]; !ok {
		t.Error("GET /debug/vars has no memstats")
	}
	if status, body := get("/debug/pprof/cmdline"); status == 200 {
		t.Errorf("GET /debug/pprof/cmdline = 200 %.100q; want it not served", body)
	}
}
