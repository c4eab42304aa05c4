// Package loopback says whether an address stays on this machine. The contract suite
// relaxes its limits for such hosts only (no rate limit, methods other than GET), and
// the debug endpoint and the load test refuse any other.
package loopback

import (
	"fmt"
	"net"
	"strings"
)

// Host reports whether host, a name or an IP without a port, names this machine:
// localhost, a name under .localhost, 127.0.0.0/8 or ::1.
func Host(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr returns an error unless addr is a host:port on this machine. An empty host
// (":8080") listens on every interface, so it is refused too.
func Addr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !Host(host) {
		return fmt.Errorf("%s is not a loopback address (127.0.0.0/8, ::1, localhost)", addr)
	}
	return nil
}
