// Package morimocktest starts the morimock sandbox inside a Go test: a stateful BIZ MORI
// v2 orders API on a free loopback port, with its own clock that the test moves
// instead of sleeping.
//
//	s := morimocktest.Start(t)
//	client := bizmori.New(s.URL, s.Token) // your client, pointed at the sandbox
//	... create an order, PUT its file, confirm ...
//	s.Advance(5 * time.Second)            // processing is done
package morimocktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/mockserver"
)

// The bearer tokens a Sandbox hands out. Every token is its own account in the
// sandbox; these two are the documented kinds.
const (
	TestToken = "sk_test_morimocktest" // a test key: test-upload URLs, no downloads
	LiveToken = "sk_live_morimocktest" // a live-style key: S3-style URLs, downloads
)

// Sandbox is a running sandbox.
type Sandbox struct {
	URL   string // base URL, e.g. http://127.0.0.1:43117
	Token string // a test key (TestToken) the clock methods act for

	srv  *mockserver.Server
	hs   *http.Server
	done chan struct{}
}

// Config is mockserver.Config: ProcessingTime, FailureRate, Seed and the rest.
type Config = mockserver.Config

// Latency is a duration or a range, as Config.ProcessingTime takes it.
type Latency = mockserver.Latency

// Start starts a sandbox with the default settings (orders processed at once,
// responses checked against the contract) and stops it when the test ends.
func Start(tb testing.TB) *Sandbox {
	tb.Helper()
	return StartWith(tb, Config{ValidateResponses: true})
}

// StartWith is Start with a configuration.
func StartWith(tb testing.TB, cfg Config) *Sandbox {
	tb.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("morimocktest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("morimocktest: %v", err)
		}
	})
	return s
}

// New starts a sandbox outside a test; Close stops it.
func New(ctx context.Context, cfg Config) (*Sandbox, error) {
	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		return nil, err
	}
	srv, err := mockserver.New(ctx, spec, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Sandbox{URL: "http://" + ln.Addr().String(), Token: TestToken, srv: srv, done: make(chan struct{}),
		hs: &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}}
	go func() { // ends when Close shuts the server down
		defer close(s.done)
		s.hs.Serve(ln)
	}()
	return s, nil
}

// Close stops the server and forgets its state.
func (s *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.hs.Shutdown(ctx)
	<-s.done
	return errors.Join(err, s.srv.Close())
}

// Advance moves the clock of s.Token forward by d (at least a nanosecond), once the
// sandbox has made the files of every order that has started: an order whose
// processing time is over is then complete (or failed), never still waiting for them.
func (s *Sandbox) Advance(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("advance %s: want a positive duration", d)
	}
	if err := s.srv.WaitIdle(context.Background()); err != nil {
		return err
	}
	_, err := s.clock(map[string]string{"advance": d.String()})
	return err
}

// SetNow sets the clock of s.Token to t, once every started order's files are made
// (see Advance); it keeps running from there.
func (s *Sandbox) SetNow(t time.Time) error {
	if err := s.srv.WaitIdle(context.Background()); err != nil {
		return err
	}
	_, err := s.clock(map[string]string{"set": t.UTC().Format(time.RFC3339Nano)})
	return err
}

// Now returns the clock of s.Token.
func (s *Sandbox) Now() (time.Time, error) { return s.clock(nil) }

func (s *Sandbox) clock(move map[string]string) (time.Time, error) {
	method, body := http.MethodGet, io.Reader(nil)
	if move != nil {
		b, _ := json.Marshal(move)
		method, body = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+"/_morimock/clock", body)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock: %w", err)
	}
	defer res.Body.Close()
	var out struct{ Now time.Time }
	if res.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("clock: %s: %s", res.Status, res.Header.Get(mockserver.HeaderError))
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return time.Time{}, fmt.Errorf("clock: %w", err)
	}
	return out.Now, nil
}

// PNG returns a w x h PNG image with a colour gradient: an input the sandbox
// processes (it reads uploads as the real service does, and fails an order whose
// file is not the image its name says).
func PNG(w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, max(1, w), max(1, h)))
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / max(1, w)), uint8(y * 255 / max(1, h)), 160, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m) // writing to memory cannot fail
	return b.Bytes()
}
