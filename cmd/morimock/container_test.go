//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// dockerfile is what the container test needs from ../../Dockerfile: the build line
// and the runtime settings of the final image.
type dockerfile struct {
	buildEnv   []string // NAME=VALUE words before `go build`
	buildArgs  []string // the words after `go build`
	output     string   // the -o path in the builder
	args       map[string]string
	copied     string // where the final stage puts the binary
	uid, gid   int
	entrypoint []string
	cmd        []string
	healthArgs []string
	env        []string
}

// readDockerfile parses the few instructions the test relies on. It is no general
// Dockerfile parser: it fails loudly when the file leaves the shape it knows, so the
// file and the test cannot drift apart silently.
func readDockerfile(tb testing.TB, path string) dockerfile {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	df := dockerfile{args: map[string]string{}}
	var builds int
	for _, line := range logicalLines(string(data)) {
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "ARG":
			name, val, _ := strings.Cut(rest, "=")
			df.args[name] = val
		case "RUN":
			words, err := shellWords(rest)
			if err != nil {
				tb.Fatalf("Dockerfile: RUN %s: %v", rest, err)
			}
			for len(words) > 0 && strings.HasPrefix(words[0], "--") { // --mount=... and the like
				words = words[1:]
			}
			i := 0
			for i < len(words) && isAssignment(words[i]) {
				i++
			}
			if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
				continue
			}
			builds++
			df.buildEnv = words[:i]
			df.buildArgs = words[i+2:]
		case "COPY":
			if words, _ := shellWords(rest); len(words) == 3 && strings.HasPrefix(words[0], "--from=") {
				df.copied = words[2]
			}
		case "USER":
			u, g, ok := strings.Cut(rest, ":")
			df.uid, err = strconv.Atoi(u)
			if err == nil && ok {
				df.gid, err = strconv.Atoi(g)
			}
			if err != nil || !ok {
				tb.Fatalf("Dockerfile: USER %s: want numeric UID:GID, so that a runtime can tell it is not root", rest)
			}
		case "ENV":
			df.env = append(df.env, strings.Fields(rest)...)
		case "ENTRYPOINT":
			df.entrypoint = execForm(tb, line, rest)
		case "CMD":
			df.cmd = execForm(tb, line, rest)
		case "HEALTHCHECK":
			_, after, ok := strings.Cut(rest, " CMD ")
			if !ok {
				tb.Fatalf("Dockerfile: %s: want HEALTHCHECK [options] CMD [...]", line)
			}
			df.healthArgs = execForm(tb, line, after)
		}
	}
	if builds != 1 {
		tb.Fatalf("Dockerfile has %d `go build` lines; want exactly one", builds)
	}
	for i := 0; i < len(df.buildArgs); i++ {
		if df.buildArgs[i] == "-o" && i+1 < len(df.buildArgs) {
			df.output = df.buildArgs[i+1]
		}
	}
	return df
}

// logicalLines joins continuation lines and drops comments and blank lines.
func logicalLines(s string) []string {
	var out []string
	var cur strings.Builder
	for _, raw := range strings.Split(s, "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// shellWords splits a shell command line into words, honouring single and double
// quotes. It knows no other shell syntax, which is the point: the build line must stay
// a plain command.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune("|&;<>()`\\", r):
			return nil, fmt.Errorf("shell syntax %q is not understood here", r)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	return ok && name != "" && !strings.HasPrefix(name, "-")
}

// execForm reads the JSON array of an exec-form instruction; a shell form fails,
// because the image has no shell to run it.
func execForm(tb testing.TB, line, s string) []string {
	tb.Helper()
	var words []string
	if err := json.Unmarshal([]byte(s), &words); err != nil {
		tb.Fatalf("Dockerfile: %s: want the exec form [\"...\"]; the image has no shell", line)
	}
	return words
}

// expand replaces ${NAME} and $NAME with build arguments.
func expand(s string, args map[string]string) string {
	return os.Expand(s, func(name string) string { return args[name] })
}

// TestContainerImage builds the binary exactly as the Dockerfile does and runs it the
// way the image would: alone in an empty root, as the image's user, configured only
// through its arguments and environment.
func TestContainerImage(t *testing.T) {
	t.Parallel() // builds into its own temp dir; mostly waits on go build
	if runtime.GOOS != "linux" {
		t.Skip("the empty-root run needs Linux chroot")
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot and switching to the image's uid need root; run as root to prove the image runs with nothing but the binary")
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build the binary with")
	}
	moduleRoot, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	df := readDockerfile(t, filepath.Join(moduleRoot, "Dockerfile"))
	checkImageSettings(t, df)

	// Build with the Dockerfile's own words; only the output path and the version
	// differ, as a --build-arg would make them.
	const version = "container-test"
	buildArgs := map[string]string{}
	for k, v := range df.args {
		buildArgs[k] = v
	}
	buildArgs["VERSION"] = version
	root := t.TempDir()
	binName := strings.TrimPrefix(df.copied, "/")
	bin := filepath.Join(root, binName)
	args := []string{"build"}
	for i := 0; i < len(df.buildArgs); i++ {
		a := expand(df.buildArgs[i], buildArgs)
		if df.buildArgs[i] == "-o" {
			args = append(args, "-o", bin)
			i++
			continue
		}
		args = append(args, a)
	}
	build := exec.Command(goTool, args...)
	build.Dir = moduleRoot
	build.Env = append(os.Environ(), df.buildEnv...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s %s (env %s): %v\n%s", goTool, strings.Join(args, " "), df.buildEnv, err, out)
	}
	t.Logf("built: %s go %s", strings.Join(df.buildEnv, " "), strings.Join(args, " "))
	checkStatic(t, bin)
	// The root and the binary must be usable by the image's user; nothing else is there.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Fatalf("the root holds %d entries; want only the binary", len(entries))
	}

	jail := &syscall.SysProcAttr{
		Chroot:     root,
		Credential: &syscall.Credential{Uid: uint32(df.uid), Gid: uint32(df.gid)},
		Setpgid:    true,
	}
	entry := df.entrypoint[0]

	out := runJailed(t, jail, df.env, entry, "version")
	if want := "morimock " + version; strings.TrimSpace(out) != want {
		t.Errorf("version = %q; want %q (the -X flag of the build line did not take)", strings.TrimSpace(out), want)
	}

	// The image's CMD, on a loopback port the test picks (flags win over PORT).
	serveArgs := append(append([]string{}, df.cmd...), "--addr", "127.0.0.1:0", "--token", "sk_test_container")
	srv := exec.Command(entry, serveArgs...)
	srv.SysProcAttr = jail
	srv.Dir = "/"
	srv.Env = df.env
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("start %s %s in the empty root: %v", entry, serveArgs, err)
	}
	exited := make(chan error, 1)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			srv.Process.Kill()
			<-exited
		}
	})
	lines := bufio.NewReader(stdout)
	addr, err := listenAddr(lines)
	go func() { io.Copy(io.Discard, lines); exited <- srv.Wait() }() // ends when the process exits
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	base := "http://" + addr
	waitHealthy(t, base+"/healthz")

	req, _ := http.NewRequest(http.MethodGet, base+"/api/v2/orders/1234567890123456789", nil)
	req.Header.Set("Authorization", "Bearer sk_test_container")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET order: %s, Content-Type %q; want 200 application/json\n%s", res.Status, res.Header.Get("Content-Type"), body)
	}
	now, _ := http.ParseTime(res.Header.Get("Date"))
	if vs := order.CheckResponse(body, order.CheckOptions{OrderID: "1234567890123456789", Now: now}); len(vs) > 0 {
		t.Errorf("GET order: the body breaks the rules: %v\n%s", vs, body)
	}

	// The HEALTHCHECK, as the runtime would run it: inside the container, with the
	// image's environment and the port the server really listens on.
	_, port, _ := strings.Cut(addr, ":")
	healthEnv := append(append([]string{}, df.env...), "PORT="+port)
	if out := runJailed(t, jail, healthEnv, df.healthArgs[0], df.healthArgs[1:]...); strings.TrimSpace(out) != "ok" {
		t.Errorf("healthcheck printed %q; want ok", out)
	}

	// docker stop sends SIGTERM; the server must stop cleanly with exit 0.
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("after SIGTERM: %v; want exit 0\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM\n%s", stderr.String())
	}
}

// checkImageSettings asserts what the image promises: the binary at the root, a
// non-root user, PORT, and exec forms that need no shell.
func checkImageSettings(t *testing.T, df dockerfile) {
	t.Helper()
	if df.output == "" || df.copied == "" {
		t.Fatalf("Dockerfile: want `go build ... -o PATH` and `COPY --from=build PATH /morimock`; got -o %q, copied to %q", df.output, df.copied)
	}
	if df.uid == 0 || df.gid == 0 {
		t.Errorf("Dockerfile: USER %d:%d; want a non-root user", df.uid, df.gid)
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"ENTRYPOINT", df.entrypoint, []string{df.copied}},
		{"CMD", df.cmd, []string{"serve"}},
		{"HEALTHCHECK CMD", df.healthArgs, []string{df.copied, "healthcheck"}},
	} {
		if strings.Join(c.got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("Dockerfile: %s %q; want %q", c.what, c.got, c.want)
		}
	}
	if !containsString(df.env, "PORT=8080") {
		t.Errorf("Dockerfile: ENV %q; want PORT=8080", df.env)
	}
	if !containsString(df.buildEnv, "CGO_ENABLED=0") || !containsString(df.buildArgs, "-trimpath") {
		t.Errorf("Dockerfile: build line %q %q; want CGO_ENABLED=0 and -trimpath for a static, reproducible binary", df.buildEnv, df.buildArgs)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkStatic fails when the binary asks for a dynamic loader, which the image lacks.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked; the image has no loader", bin)
		}
	}
}

// runJailed runs one command in the empty root and returns its stdout; it fails the
// test unless the command exits 0 within a bound.
func runJailed(t *testing.T, jail *syscall.SysProcAttr, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = jail
	cmd.Dir = "/"
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s in the empty root: %v\nstdout: %s\nstderr: %s", name, args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// listenAddr reads the server's first line, "morimock VERSION listening on http://ADDR".
func listenAddr(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	_, addr, ok := strings.Cut(strings.TrimSpace(line), "listening on http://")
	if err != nil || !ok {
		return "", fmt.Errorf("first line %q, %v; want \"morimock VERSION listening on http://ADDR\"", line, err)
	}
	return addr, nil
}

// waitHealthy polls url until it answers 200.
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 15s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
