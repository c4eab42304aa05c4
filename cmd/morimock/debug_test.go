package main

import "testing"

func TestCheckDebugAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"127.0.0.1:0", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{":6060", false},
		{"0.0.0.0:6060", false},
		{"192.0.2.1:6060", false},
		{"example.test:6060", false},
		{"6060", false},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			if err := checkDebugAddr(tt.addr); (err == nil) != tt.ok {
				t.Errorf("checkDebugAddr(%q) = %v; want ok %v", tt.addr, err, tt.ok)
			}
		})
	}
}
