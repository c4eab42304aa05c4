package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/morimock/morimock/webhook"
)

// receiver is the webhook endpoint of the lifecycle mix: each tenant registers
// http://<receiver>/hook/<name> with the sandbox, and every delivery is checked here
// with the public webhook package, as an integration's receiver would check it.
type receiver struct {
	url string
	srv *http.Server
	ln  net.Listener

	mu      sync.Mutex
	secrets map[string]string // hook name: its webhook's secret
	got     map[string][]delivery
	seen    map[string]int // eventId: deliveries answered 2xx
	twice   int            // deliveries of an eventId already delivered
	bad     []string       // what was wrong with a delivery, one line each
	arrived chan struct{}  // closed and replaced at each delivery: a broadcast
}

// delivery is what one POST carried.
type delivery struct {
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	Data      struct {
		OrderID string `json:"orderId"`
		Status  string `json:"status"`
	} `json:"data"`
}

// startReceiver listens on a free loopback port; stop ends it.
func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	rc := &receiver{url: "http://" + ln.Addr().String(), ln: ln, secrets: map[string]string{},
		got: map[string][]delivery{}, seen: map[string]int{}, arrived: make(chan struct{})}
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go rc.srv.Serve(ln) // ends with stop
	return rc, nil
}

func (rc *receiver) stop() { rc.srv.Close() }

// register makes name a hook with secret; forget ends it (later deliveries are 404).
func (rc *receiver) register(name, secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets[name] = secret
}

func (rc *receiver) forget(name string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delete(rc.secrets, name)
	delete(rc.got, name)
}

func (rc *receiver) serveHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/hook/")
	rc.mu.Lock()
	secret, known := rc.secrets[name]
	rc.mu.Unlock()
	if !ok || !known || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, err := webhook.VerifyRequest(r, secret)
	var d delivery
	if err == nil {
		err = json.Unmarshal(body, &d)
	}
	if err == nil && r.Header.Get("Content-Type") != "application/json" {
		err = fmt.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.bad = append(rc.bad, fmt.Sprintf("hook %s: %v: %s", name, err, clip(body)))
		http.Error(w, "bad delivery", http.StatusBadRequest)
		return
	}
	if rc.seen[d.EventID]++; rc.seen[d.EventID] > 1 {
		rc.twice++
	}
	rc.got[name] = append(rc.got[name], d)
	close(rc.arrived)
	rc.arrived = make(chan struct{})
	w.WriteHeader(http.StatusNoContent)
}

// errNoDelivery: the order's event did not arrive in time.
var errNoDelivery = errors.New("no delivery")

// await returns the delivery for orderID at hook name, waiting up to within for it:
// deliveries are made off the request path, a moment after the order ends.
func (rc *receiver) await(ctx context.Context, name, orderID string, within time.Duration) (delivery, error) {
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		rc.mu.Lock()
		for _, d := range rc.got[name] {
			if d.Data.OrderID == orderID {
				rc.mu.Unlock()
				return d, nil
			}
		}
		arrived := rc.arrived
		rc.mu.Unlock()
		select {
		case <-arrived:
		case <-timer.C:
			return delivery{}, errNoDelivery
		case <-ctx.Done():
			return delivery{}, ctx.Err()
		}
	}
}

// counts are the receiver's totals: deliveries of an eventId already delivered, and
// deliveries refused (bad signature, body or header) with their first example.
func (rc *receiver) counts() (twice int, bad []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.twice, append([]string(nil), rc.bad...)
}
