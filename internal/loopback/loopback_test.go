package loopback

import "testing"

func TestAddr(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"127.8.9.10:1", true},
		{"[::1]:6060", true},
		{"localhost:6060", true},
		{"api.localhost:80", true},
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
