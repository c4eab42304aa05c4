//go:build unix

package main

import (
	"errors"
	"net"
	"syscall"
)

// unreadBytes reports whether c's socket holds bytes the server has not read, or
// whether that cannot be told (then c must be kept). Closing a socket with unread
// bytes would answer its client with a reset and lose the request they hold.
func unreadBytes(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	unread := true
	err = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read. 0 bytes and no error: the client has closed its side.
		unread = n > 0 || (err != nil && !errors.Is(err, syscall.EAGAIN))
	})
	return unread || err != nil
}
