package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// mock is a morimock serve subprocess on a loopback port.
type mock struct {
	cmd       *exec.Cmd
	addr      string // host:port of the API
	debugAddr string // host:port of expvar and pprof
	exited    chan struct{}
	stderr    *tailBuffer
}

// buildMock compiles ./cmd/morimock of the module that holds the working directory.
func buildMock(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the load test inside the morimock module, or pass -bin or -addr")
	}
	bin := filepath.Join(dir, "morimock")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/morimock")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/morimock: %w\n%s", err, out)
	}
	return bin, nil
}

// startMock starts bin serve on free loopback ports, with its debug endpoints, and
// waits until it listens. On Linux the process dies with the load test (Pdeathsig).
func startMock(ctx context.Context, bin string, args ...string) (*mock, error) {
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0", "--quiet"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{} // the flags say everything; no MORIMOCK_* from the caller's shell
	dieWithParent(cmd)
	m := &mock{cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{max: 8 << 10}}
	cmd.Stderr = m.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	lines := make(chan string)
	go func() { // ends when the process closes its stdout, at exit
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		cmd.Wait()
		close(m.exited)
	}()
	timeout := time.After(30 * time.Second)
	for m.addr == "" || m.debugAddr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("%s exited before it listened:\n%s", bin, m.stderr)
			}
			if _, a, ok := strings.Cut(line, "listening on http://"); ok {
				m.addr = a
			}
			if _, a, ok := strings.Cut(line, "debug endpoints on http://"); ok {
				m.debugAddr = strings.TrimSuffix(a, "/debug/")
			}
		case <-timeout:
			m.stop()
			return nil, fmt.Errorf("%s did not listen within 30s:\n%s", bin, m.stderr)
		case <-ctx.Done():
			m.stop()
			return nil, ctx.Err()
		}
	}
	go func() { // drains stdout so the process never blocks on it; ends at exit
		for range lines {
		}
	}()
	return m, nil
}

// stop sends SIGTERM, as an orchestrator would, and kills the process if it has not
// exited within 15s. It reports whether the process stopped on its own, with exit 0.
func (m *mock) stop() error {
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(15 * time.Second):
		m.cmd.Process.Kill()
		<-m.exited
		return fmt.Errorf("the mock did not stop within 15s of SIGTERM; killed")
	}
	if code := m.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("the mock exited %d after SIGTERM:\n%s", code, m.stderr)
	}
	return nil
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// goroutines reads the goroutine count from the debug endpoint's goroutine profile,
// whose first line is "goroutine profile: total N".
func goroutines(ctx context.Context, debugAddr string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+debugAddr+"/debug/pprof/goroutine?debug=1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(io.LimitReader(res.Body, 256)).ReadString('\n')
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("goroutine profile starts %q", line)
	}
	return strconv.Atoi(n)
}

// tailBuffer keeps the last max bytes written to it, for an error message.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
