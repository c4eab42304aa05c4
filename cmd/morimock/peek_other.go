//go:build !unix

package main

import "net"

// peekSocket cannot look into a socket here, so it keeps every connection: a waiting
// client then waits for one to close by itself rather than a request being lost.
func peekSocket(net.Conn) socketState { return socketUnknown }
