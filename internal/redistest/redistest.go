// Package redistest starts a real redis-server for tests: on a free loopback port,
// with its files in a temporary directory and append-only persistence on (so that a
// restart keeps every acknowledged write, as in production), stopped at the test's
// end. A test that needs one is skipped, saying why, when no redis-server binary is
// on PATH (.ci/run installs Debian's package, so CI always runs it).
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a redis-server a test started.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Available reports whether there is a redis-server on PATH for Start.
func Available() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start starts a redis-server, or skips the test when there is none on PATH.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("no redis-server on PATH: install Debian's redis-server package (.ci/run does) to run this test against a real Redis")
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), port: freePort(tb)}
	s.start()
	tb.Cleanup(s.Stop)
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is a redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

func (s *Server) start() {
	s.tb.Helper()
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nappendonly yes\nappendfsync always\nsave \"\"\ndaemonize no\nlogfile \"\"\nloglevel warning\n",
		s.port, s.dir)
	path := filepath.Join(s.dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		s.tb.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, path)
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done) // ends when the server exits
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Stop()
		s.tb.Fatalf("redis-server did not come up: %v", err)
	}
}

// waitReady polls PING until the server answers +PONG (not -LOADING).
func (s *Server) waitReady(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		select {
		case <-s.done:
			return errors.New("redis-server exited")
		default:
		}
		if last = ping(ctx, s.Addr()); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond): // polling a process we cannot be told about
		}
	}
	return last
}

func ping(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Stop stops the server gracefully (SIGTERM: it flushes its append-only file) and
// waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port and directory, with the data it
// had written; it waits until the server has loaded it.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
