package main

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener serves at most n connections at once, so that a flood of connections
// cannot exhaust memory or files. The n+1st is accepted (so a client is known to be
// really waiting) but not served until a place is free. To free one for it, the
// listener closes a connection that holds its place for nothing: the one quiet for
// longest of those quiet for silentGrace at least, quiet
// meaning idle between keep-alive requests or silent since it was accepted. It closes
// one only while the server is blocked reading it and its socket holds no unread byte,
// so that a request already sent is never thrown away. With n clients or fewer
// nothing is ever closed, and those sending without a pause are never closed. Pass ConnState to the http.Server so the listener knows
// each connection's state.
func limitListener(l net.Listener, n int, silentGrace time.Duration) *limitedListener {
	return &limitedListener{
		Listener: l, slots: make(chan struct{}, n), grace: silentGrace,
		done: make(chan struct{}), draining: make(chan struct{}),
		conns: map[*limitedConn]struct{}{}, changed: make(chan struct{}, 1),
	}
}

type limitedListener struct {
	net.Listener
	slots chan struct{} // one per connection being served
	grace time.Duration

	lnOnce    sync.Once // closes Listener (closeListener)
	closeOnce sync.Once
	done      chan struct{} // closed by Close
	drainOnce sync.Once
	draining  chan struct{} // closed by drain: serve what is in the backlog, then stop

	mu      sync.Mutex
	conns   map[*limitedConn]struct{} // served and not yet closed
	changed chan struct{}             // signalled when a connection may have become closable
}

// Accept waits for a client, then for a place to serve it.
func (l *limitedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		select {
		case <-l.draining: // the backlog is empty: the drain's deadline ended the accepting
			l.closeListener()
			return nil, net.ErrClosed
		default:
		}
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return l.track(c, true), nil
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		case <-l.draining: // the client connected before the signal: serve it anyway
			return l.track(c, false), nil
		default:
		}
		l.closeQuiet(time.Now(), true)
		wait := time.NewTimer(l.grace) // a silent connection may become closable by then
		select {
		case l.slots <- struct{}{}:
			wait.Stop()
			return l.track(c, true), nil
		case <-l.changed:
		case <-wait.C:
		case <-l.done:
			wait.Stop()
			c.Close()
			return nil, net.ErrClosed
		case <-l.draining:
			wait.Stop()
			return l.track(c, false), nil
		}
		wait.Stop()
	}
}

func (l *limitedListener) track(c net.Conn, slot bool) *limitedConn {
	lc := &limitedConn{Conn: c, l: l, slot: slot, accepted: time.Now()}
	l.mu.Lock()
	l.conns[lc] = struct{}{}
	l.mu.Unlock()
	return lc
}

// closeQuiet closes connections that hold nothing to answer (see limitListener). For a
// waiting client (withGrace), it closes one: the one quiet for longest (idle, or
// silent since it was accepted) of those quiet for the grace at least, so that a busy
// keep-alive client, idle for a moment between its requests, is left alone. Draining,
// it closes every quiet connection. It reports how many connections are left open
// that are not being answered right now.
func (l *limitedListener) closeQuiet(now time.Time, withGrace bool) (waiting int) {
	type candidate struct {
		c     *limitedConn
		since int64
	}
	l.mu.Lock()
	var quiet []candidate
	for c := range l.conns {
		if http.ConnState(c.state.Load()) == http.StateActive {
			continue
		}
		waiting++
		if since, ok := c.quietSince(); ok && (!withGrace || now.Sub(time.Unix(0, since)) >= l.grace) {
			quiet = append(quiet, candidate{c, since})
		}
	}
	// Oldest first; only the socket of each one tried is looked into, a system call.
	slices.SortFunc(quiet, func(a, b candidate) int { return cmp.Compare(a.since, b.since) })
	var victims []*limitedConn
	for _, q := range quiet {
		if st := peekSocket(q.c.Conn); st != socketEmpty && st != socketClosed {
			continue
		}
		victims = append(victims, q.c)
		delete(l.conns, q.c)
		if withGrace {
			break
		}
	}
	waiting -= len(victims)
	l.mu.Unlock()
	for _, c := range victims {
		c.Close()
	}
	return waiting
}

// ConnState records each connection's state; it is the http.Server's ConnState hook.
func (l *limitedListener) ConnState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	lc.state.Store(int32(st))
	switch st {
	case http.StateIdle:
		lc.idleSince.Store(time.Now().UnixNano())
		select {
		case l.changed <- struct{}{}:
		default:
		}
	case http.StateClosed, http.StateHijacked:
		l.forget(lc)
	}
}

func (l *limitedListener) forget(c *limitedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// drain stops accepting: connections the kernel has completed already (clients that
// connected before the signal) are still accepted and served, then the listener
// closes. For the window, requests arriving on open connections are answered; then
// every connection with nothing to answer is closed, until only those with a request
// in flight are left (http.Server.Shutdown waits for those), or ctx ends.
func (l *limitedListener) drain(ctx context.Context, window time.Duration) {
	l.drainOnce.Do(func() { close(l.draining) })
	if dl, ok := l.Listener.(interface{ SetDeadline(time.Time) error }); ok {
		dl.SetDeadline(time.Now()) // Accept takes what is queued, then times out
	} else {
		l.closeListener()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	end := time.NewTimer(window)
	defer end.Stop()
	for windowOpen := true; ; {
		if windowOpen {
			if l.open() == 0 {
				return
			}
		} else if l.closeQuiet(time.Now(), false) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			windowOpen = false
		case <-tick.C:
		}
	}
}

func (l *limitedListener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Close closes the listener and ends the waits of Accept. http.Server.Shutdown calls
// it and returns what it returns, so a listener a drain has closed already (see
// closeListener) is no error: that would report a clean stop as cut requests.
func (l *limitedListener) Close() error {
	err := l.closeListener()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// closeListener closes the listener being wrapped, once; a later call returns nil.
func (l *limitedListener) closeListener() error {
	var err error
	l.lnOnce.Do(func() { err = l.Listener.Close() })
	return err
}

// limitedConn is a served connection: what the listener needs to know to tell
// whether closing it could lose a request.
type limitedConn struct {
	net.Conn
	l        *limitedListener
	slot     bool // holds a place (not one accepted while draining)
	accepted time.Time

	state     atomic.Int32 // http.ConnState, from the ConnState hook
	idleSince atomic.Int64 // unix nanoseconds of its last turn to idle
	reading   atomic.Int32 // Reads in progress: the server waits for bytes
	gotBytes  atomic.Bool  // any byte ever read

	once sync.Once
}

func (c *limitedConn) Read(p []byte) (int, error) {
	c.reading.Add(1)
	n, err := c.Conn.Read(p)
	c.reading.Add(-1)
	if n > 0 {
		c.gotBytes.Store(true)
	}
	return n, err
}

// quietSince reports since when (unix nanoseconds) c has been quiet, if it is: the
// server waits on it in a Read (so its own buffer holds no request), and it is idle,
// or new without a byte sent. Whether its socket holds a byte is peekSocket's to tell.
func (c *limitedConn) quietSince() (int64, bool) {
	if c.reading.Load() == 0 {
		return 0, false
	}
	switch http.ConnState(c.state.Load()) {
	case http.StateIdle:
		return c.idleSince.Load(), true
	case http.StateNew:
		if c.gotBytes.Load() {
			return 0, false
		}
		return c.accepted.UnixNano(), true
	}
	return 0, false
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.forget(c)
		if c.slot {
			<-c.l.slots
		}
		select {
		case c.l.changed <- struct{}{}:
		default:
		}
	})
	return err
}

// socketState is what peekSocket sees in a socket.
type socketState int

const (
	socketUnknown socketState = iota // cannot tell: keep the connection
	socketEmpty                      // nothing to read: closing it loses nothing sent
	socketUnread                     // bytes the server has not read yet
	socketClosed                     // the client has closed its side
)
