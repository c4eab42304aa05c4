//go:build !unix

package main

import "net"

// unreadBytes cannot peek at a socket here, so it keeps every connection: a waiting
// client then waits for one to close by itself rather than a request being lost.
func unreadBytes(net.Conn) bool { return true }
