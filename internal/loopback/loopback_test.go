package loopback

import (
	"context"
	"testing"
)

func TestAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"127.8.9.10:1", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{"api.localhost:80", false}, // resolved through DNS, which may answer anything
		{":6060", false},
		{"0.0.0.0:6060", false},
		{"[::]:6060", false},
		{"10.0.0.1:6060", false},
		{"192.0.2.1:6060", false},
		{"example.test:6060", false},
		{"localhost.example.com:80", false},
		{"6060", false},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			if err := Addr(tt.addr); (err == nil) != tt.ok {
				t.Errorf("Addr(%q) = %v; want ok %v", tt.addr, err, tt.ok)
			}
		})
	}
}

func TestResolves(t *testing.T) {
	for _, tt := range []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"127.1.2.3", true},
		{"10.0.0.1", false},
		{"192.0.2.1", false},
		{"::ffff:10.0.0.1", false},
	} {
		if got := Resolves(context.Background(), tt.host); got != tt.want {
			t.Errorf("Resolves(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}
