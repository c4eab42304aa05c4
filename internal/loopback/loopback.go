// Package loopback says whether an address stays on this machine. The contract suite
// relaxes its rate limit for such hosts only, and the debug endpoint and the load test
// refuse any other.
package loopback

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// Host reports whether host, a name or an IP without a port, names this machine:
// localhost, 127.0.0.0/8 or ::1. Other names, those under .localhost included, do not
// count: Go may resolve them through DNS, which can answer any address.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Resolves reports whether every address host resolves to is a loopback address. An
// IP is its own address; a name that does not resolve is not loopback. The answer is
// as good as the resolver's, at the time it is asked.
func Resolves(ctx context.Context, host string) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.IsLoopback()
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return false
		}
	}
	return true
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
