package main

import (
	"net"
	"net/http"
	"sync"
)

// limitListener accepts at most n connections at once; the rest wait in the kernel's
// backlog until one closes, so a flood of connections cannot exhaust memory or files.
// Idle keep-alive connections do not hold a place against a new client: when every
// place is taken, one idle connection is closed to make room (clients retry a GET on
// a closed idle connection). Pass ConnState to the http.Server so it knows which are idle.
func limitListener(l net.Listener, n int) *limitedListener {
	return &limitedListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{}), idle: map[net.Conn]struct{}{}, freed: make(chan struct{}, 1)}
}

type limitedListener struct {
	net.Listener
	sem       chan struct{}
	closeOnce sync.Once
	done      chan struct{}

	mu    sync.Mutex
	idle  map[net.Conn]struct{} // at most n entries: only accepted connections
	freed chan struct{}         // signalled when a connection turns idle
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.sem <- struct{}{}:
			c, err := l.Listener.Accept()
			if err != nil {
				<-l.sem
				return nil, err
			}
			return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
		case <-l.done:
			return nil, net.ErrClosed
		default:
		}
		// Full: close an idle connection, or wait until one closes or turns idle.
		if !l.closeIdle() {
			select {
			case l.sem <- struct{}{}:
				<-l.sem // a place is free: take it at the top of the loop
			case <-l.freed:
			case <-l.done:
				return nil, net.ErrClosed
			}
		}
	}
}

// closeIdle closes one idle connection and reports whether there was one.
func (l *limitedListener) closeIdle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.idle {
		delete(l.idle, c)
		c.Close()
		return true
	}
	return false
}

// ConnState tracks which connections are idle; it is the http.Server's ConnState hook.
func (l *limitedListener) ConnState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle {
		l.idle[c] = struct{}{}
		select {
		case l.freed <- struct{}{}:
		default:
		}
		return
	}
	delete(l.idle, c)
}

func (l *limitedListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
