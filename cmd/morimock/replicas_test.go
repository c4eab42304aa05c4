package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/redistest"
	"github.com/morimock/morimock/internal/syncbuf"
	"github.com/morimock/morimock/morimocktest"
)

// replicaEnv marks a run of the test binary as a replica process of TestReplicas.
const replicaEnv = "MORIMOCK_TEST_REPLICA"

// TestReplicaProcess is not a test: TestReplicas runs the test binary with
// replicaEnv set to start a `morimock serve` process it can kill -9 (no go build
// needed). Its flags come from the environment, as in a container.
func TestReplicaProcess(t *testing.T) {
	if os.Getenv(replicaEnv) == "" {
		t.Skip("the replica process of TestReplicas; runs only when started by it")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseServe([]string{"--quiet"}, os.Getenv, os.Stderr)
	if err == nil {
		// A lease that runs out in seconds, so that an event a killed replica held is
		// attempted by the other one within the test (the default is 30 s).
		o.timeouts.webhook, o.timeouts.webhookLease = 2*time.Second, 4*time.Second
		err = serve(ctx, o, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// replica is a `morimock serve` process sharing a Redis with others.
type replica struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func startReplica(t *testing.T, redisURL string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$")
	cmd.Env = append(os.Environ(), replicaEnv+"=1", "MORIMOCK_ADDR=127.0.0.1:0", "MORIMOCK_REDIS_URL="+redisURL,
		"MORIMOCK_REDIS_PREFIX=replicas:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() { // ends when the process closes its stdout (exits)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, a, ok := strings.Cut(sc.Text(), "listening on http://"); ok {
				addr <- a
			}
		}
		cmd.Wait()
		close(r.done)
	}()
	select {
	case r.addr = <-addr:
	case <-r.done:
		t.Fatal("replica exited before it listened")
	case <-time.After(60 * time.Second):
		t.Fatal("replica did not listen within a minute")
	}
	t.Cleanup(r.kill)
	return r
}

// kill stops the replica as a crash would: kill -9.
func (r *replica) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// client talks to the replicas with one tenant's token.
type client struct {
	t     *testing.T
	token string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) field(path ...string) string {
	var v any
	json.Unmarshal(a.body, &v)
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0] // the first file
		}
	}
	s, _ := v.(string)
	return s
}

func (c client) do(addr, method, path, body string) answer {
	c.t.Helper()
	url := path
	if !strings.HasPrefix(url, "http") {
		url = "http://" + addr + path
	}
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if strings.HasPrefix(path, "/") {
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil { // Errorf, not Fatalf: do runs in goroutines too
		c.t.Errorf("%s %s: %v", method, url, err)
		return answer{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

func (c client) ok(addr, method, path, body string) answer {
	c.t.Helper()
	a := c.do(addr, method, path, body)
	if a.status != http.StatusOK && a.status != http.StatusNoContent {
		c.t.Fatalf("%s %s on %s = %d %s (%s)", method, path, addr, a.status, a.body, a.header.Get("X-Morimock-Error"))
	}
	return a
}

// waitOrder polls the order until its status is want: the replica makes its output
// files off the request path, and the order completes once they exist.
func (c client) waitOrder(addr, id, want string) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := c.ok(addr, "GET", "/api/v2/orders/"+id, "").field("data", "status")
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("order %s on %s is %q after a minute; want %q", id, addr, st, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// onReplica points a URL a replica handed out at another replica, as a load
// balancer in front of both would send it anywhere.
func onReplica(url, from, to string) string { return strings.Replace(url, from, to, 1) }

// waitStatus polls /healthz until it answers want (the replicas are other processes:
// there is no clock to move).
func waitStatus(t *testing.T, addr string, want int) answer {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == want {
				return answer{res.StatusCode, res.Header, b}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz on %s did not answer %d within a minute (last: %v)", addr, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplicas runs two `morimock serve` processes on one real redis-server, as
// compose.yaml does behind nginx, and sends each step of a session to one or the
// other: the README's lifecycle, one idempotency key from 50 clients at once, a
// tenant's clock, a replica killed with kill -9 and Redis restarted mid-run. The
// webhooks across replicas are TestReplicaWebhooks.
func TestReplicas(t *testing.T) {
	t.Parallel() // its own redis-server, replica processes and prefix; mostly waits on them
	if testing.Short() {
		t.Skip("starts redis-server and two processes")
	}
	rs := redistest.Start(t)

	// A replica starts before its Redis: it serves, and says it is not ready.
	rs.Stop()
	a := startReplica(t, rs.URL())
	if h := waitStatus(t, a.addr, http.StatusServiceUnavailable); !json.Valid(h.body) || !strings.Contains(string(h.body), "not ready") {
		t.Errorf("/healthz without Redis = %s; want a JSON body saying not ready", h.body)
	}
	c := client{t: t, token: "sk_live_replicas"}
	if got := c.do(a.addr, "GET", "/api/v2/orders?page=1&limit=10", ""); got.status != http.StatusInternalServerError ||
		got.field("code") != "SERVER_INTERNAL_ERROR" || got.header.Get("Retry-After") == "" || got.header.Get("X-Morimock-Error") == "" {
		t.Errorf("list without Redis = %d %s, Retry-After %q; want 500 SERVER_INTERNAL_ERROR with Retry-After and X-Morimock-Error",
			got.status, got.body, got.header.Get("Retry-After"))
	}
	rs.Restart()
	waitStatus(t, a.addr, http.StatusOK)
	b := startReplica(t, rs.URL())
	waitStatus(t, b.addr, http.StatusOK)

	t.Run("lifecycle across replicas", func(t *testing.T) {
		c := client{t: t, token: "sk_live_readme"}
		photo := string(morimocktest.PNG(64, 48))
		o := c.ok(a.addr, "POST", "/api/v2/orders/anti-ai", `{"idempotencyKey":"readme-1","files":[{"fileName":"photo.png"}]}`)
		id, up := o.field("data", "orderId"), o.field("data", "files", "uploadUrl")
		c.ok(b.addr, "PUT", onReplica(up, a.addr, b.addr), photo)
		c.ok(a.addr, "POST", "/api/v2/orders/anti-ai/confirm", `{"idempotencyKey":"readme-c1","orderId":"`+id+`"}`)
		c.ok(b.addr, "POST", "/_morimock/clock", `{"advance":"5s"}`)
		c.waitOrder(a.addr, id, "complete")
		dl := c.ok(b.addr, "GET", "/api/v2/orders/"+id+"/download", "").field("data", "downloadUrl")
		got := c.ok(a.addr, "GET", onReplica(dl, b.addr, a.addr), "")
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(got.body)); err != nil || cfg.Width != 64 || cfg.Height != 48 || string(got.body) == photo {
			t.Errorf("download through the other replica: %d bytes, %v; want a protected 64x48 copy of the upload", len(got.body), err)
		}
		ai := c.ok(b.addr, "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"readme-2","fileName":"cat_ai.png"}`)
		aiID := ai.field("data", "orderId")
		c.ok(a.addr, "PUT", onReplica(ai.field("data", "file", "uploadUrl"), b.addr, a.addr), photo)
		c.ok(b.addr, "POST", "/api/v2/orders/ai-detection/confirm", `{"idempotencyKey":"readme-c2","orderId":"`+aiID+`"}`)
		c.ok(a.addr, "POST", "/_morimock/clock", `{"advance":"5s"}`)
		c.waitOrder(b.addr, aiID, "complete")
		c.ok(a.addr, "POST", "/_morimock/reset", "")
		if got := c.ok(b.addr, "GET", "/api/v2/orders?page=1&limit=10", ""); strings.Contains(string(got.body), `"orderId"`) {
			t.Errorf("list on b after a reset on a = %s; want no orders", got.body)
		}
	})

	t.Run("one idempotency key from 50 clients", func(t *testing.T) {
		c := client{t: t, token: "sk_live_idem"}
		ids := make([]string, 50)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				addr := []string{a.addr, b.addr}[i%2]
				got := c.do(addr, "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"same","fileName":"x.png"}`)
				ids[i] = fmt.Sprint(got.status, " ", got.field("data", "orderId"))
			}()
		}
		wg.Wait()
		for i, id := range ids {
			if id != ids[0] || !strings.HasPrefix(id, "200 ") {
				t.Errorf("create #%d = %s; #0 = %s; want one order for all", i, id, ids[0])
			}
		}
		list := c.ok(b.addr, "GET", "/api/v2/orders?page=1&limit=100", "")
		if n := strings.Count(string(list.body), `"orderId"`); n != 1 {
			t.Errorf("the tenant lists %d orders; want 1", n)
		}
	})

	t.Run("a clock moved on one is the clock on all", func(t *testing.T) {
		c := client{t: t, token: "sk_live_clock"}
		c.ok(a.addr, "POST", "/_morimock/clock", `{"set":"2026-09-01T09:00:00Z"}`)
		if now := c.ok(b.addr, "GET", "/_morimock/clock", "").field("now"); !strings.HasPrefix(now, "2026-09-01T09:00:0") {
			t.Errorf("clock on b = %q; want 2026-09-01T09:00:0x (set on a)", now)
		}
	})

	t.Run("kill -9 and a Redis restart lose nothing acknowledged", func(t *testing.T) {
		c := client{t: t, token: "sk_live_chaos"}
		var mu sync.Mutex
		var acked []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() { // ends when stop closes
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					addr := b.addr // a is killed midway: the load balancer sends to b
					got := c.do(addr, "POST", "/api/v2/orders/ai-detection", fmt.Sprintf(`{"idempotencyKey":"chaos-%d-%d","fileName":"x.png"}`, w, i))
					switch {
					case got.status == http.StatusOK:
						mu.Lock()
						acked = append(acked, got.field("data", "orderId"))
						mu.Unlock()
					case got.status != http.StatusInternalServerError || got.field("code") != "SERVER_INTERNAL_ERROR":
						t.Errorf("create during the chaos = %d %s; want 200 or 500 SERVER_INTERNAL_ERROR", got.status, got.body)
					}
				}
			}()
		}
		before := c.ok(a.addr, "POST", "/api/v2/orders/ai-detection", `{"idempotencyKey":"before-kill","fileName":"x.png"}`).field("data", "orderId")
		a.kill()
		rs.Restart() // SIGTERM, start again on the same files: the append-only file holds every acknowledged write
		waitStatus(t, b.addr, http.StatusOK)
		a = startReplica(t, rs.URL())
		waitStatus(t, a.addr, http.StatusOK)
		close(stop)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(acked) == 0 {
			t.Fatal("no create was acknowledged during the run")
		}
		for _, id := range append(acked, before) {
			if got := c.do(a.addr, "GET", "/api/v2/orders/"+id, ""); got.status != http.StatusOK {
				t.Errorf("acknowledged order %s after kill -9 and a Redis restart = %d %s", id, got.status, got.body)
			}
		}
		t.Logf("%d creates acknowledged across the kill and the restart, all found", len(acked))
	})
}

// TestRedisClientLinesAreTheServers: while Redis is away, the Redis client's own
// complaints go through the server's logger, so that with --log-format json the
// process writes nothing but JSON lines to stderr.
func TestRedisClientLinesAreTheServers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	away := ln.Addr().String() // a port where no Redis answers
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$")
	cmd.Env = append(os.Environ(), replicaEnv+"=1", "MORIMOCK_ADDR=127.0.0.1:0",
		"MORIMOCK_REDIS_URL=redis://"+away+"/0", "MORIMOCK_LOG_FORMAT=json")
	var stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(syscall.SIGKILL)
	// Three of the server's own warnings: the client has dialled and failed by then.
	for deadline := time.Now().Add(60 * time.Second); strings.Count(stderr.String(), "waiting for the shared store") < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the shared store within a minute:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("a line on stderr is not JSON: %s", line)
		}
	}
}
