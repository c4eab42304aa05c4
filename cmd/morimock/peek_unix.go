//go:build unix

package main

import (
	"errors"
	"net"
	"syscall"
)

// peekSocket tells, without reading it, whether c's socket holds bytes the server has
// not read, whether its client has closed it, or neither. Closing a socket with
// unread bytes would answer its client with a reset and lose the request they hold.
func peekSocket(c net.Conn) socketState {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return socketUnknown
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return socketUnknown
	}
	st := socketUnknown
	err = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			st = socketUnread
		case err == nil: // no byte and no error: the end of the stream
			st = socketClosed
		case errors.Is(err, syscall.EAGAIN):
			st = socketEmpty
		}
	})
	if err != nil {
		return socketUnknown
	}
	return st
}
