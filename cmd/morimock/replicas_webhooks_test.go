package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/redistest"
	"github.com/morimock/morimock/morimocktest"
)

// receiver is a webhook receiver in the test. It counts the deliveries it answered
// 204 by order; while holding, it answers none: each request waits until its sender
// gives up (its timeout) or dies (kill -9), so the attempt fails on the sender's side.
type receiver struct {
	mu        sync.Mutex
	hold      bool
	held      map[string]int // order id -> attempts held
	delivered map[string]int // order id -> deliveries answered 204
	events    map[string]string
	end       chan struct{} // closed when the test ends: held requests return
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		EventID string `json:"eventId"`
		Data    struct {
			OrderID string `json:"orderId"`
			Status  string `json:"status"`
		} `json:"data"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &ev); err != nil || ev.Data.OrderID == "" {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	if rc.hold {
		rc.held[ev.Data.OrderID]++
		rc.mu.Unlock()
		select {
		case <-r.Context().Done():
		case <-rc.end:
		}
		return
	}
	rc.delivered[ev.Data.OrderID]++
	if prev, ok := rc.events[ev.Data.OrderID]; ok && prev != ev.EventID {
		rc.mu.Unlock()
		panic(fmt.Sprintf("order %s delivered as events %s and %s", ev.Data.OrderID, prev, ev.EventID))
	}
	rc.events[ev.Data.OrderID] = ev.EventID
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) count(m func(*receiver) map[string]int, id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return m(rc)[id]
}

func (rc *receiver) setHold(h bool) {
	rc.mu.Lock()
	rc.hold = h
	rc.mu.Unlock()
}

// TestReplicaWebhooks: webhooks are delivered exactly once by two replicas' deliverers,
// one of them killed mid-delivery. It has its own redis-server and replicas, apart
// from TestReplicas, so that its wait for the dead replica's leases to run out
// overlaps TestReplicas' steps instead of following them.
func TestReplicaWebhooks(t *testing.T) {
	t.Parallel() // its own redis-server and replica processes; mostly waits on them
	if testing.Short() {
		t.Skip("starts redis-server and two processes")
	}
	rs := redistest.Start(t)
	a, b := startReplica(t, rs.URL()), startReplica(t, rs.URL())
	waitStatus(t, a.addr, http.StatusOK)
	waitStatus(t, b.addr, http.StatusOK)
	testReplicaWebhooks(t, a, b)
}

// testReplicaWebhooks registers a webhook through a and completes orders on both
// replicas, each running a deliverer: every order's event must reach the receiver
// exactly once and be SENT. Then, with the receiver holding every attempt, it kills a
// while it holds leases: b attempts those events once their leases run out (4 s, see
// TestReplicaProcess), and b's own held attempts are retried. a is dead when it returns.
func testReplicaWebhooks(t *testing.T, a, b *replica) {
	rc := &receiver{held: map[string]int{}, delivered: map[string]int{}, events: map[string]string{}, end: make(chan struct{})}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	defer close(rc.end)

	c := client{t: t, token: "sk_live_hooks"}
	created := c.ok(a.addr, "POST", "/api/v2/orders/webhooks", `{"name":"replicas","url":"`+hs.URL+`/hook"}`)
	var hook struct {
		Data struct{ ID int64 } `json:"data"`
	}
	if err := json.Unmarshal(created.body, &hook); err != nil || hook.Data.ID == 0 {
		t.Fatalf("create webhook = %s; want its id", created.body)
	}
	photo := string(morimocktest.PNG(32, 32))
	var all []string
	orders := func(round string, clockOn *replica) []string {
		var ids []string
		for i := range 4 {
			on, other := a, b
			if i%2 == 1 {
				on, other = b, a
			}
			o := c.ok(on.addr, "POST", "/api/v2/orders/ai-detection", fmt.Sprintf(`{"idempotencyKey":"hook-%s-%d","fileName":"p.png"}`, round, i))
			id := o.field("data", "orderId")
			c.ok(other.addr, "PUT", onReplica(o.field("data", "file", "uploadUrl"), on.addr, other.addr), photo)
			c.ok(other.addr, "POST", "/api/v2/orders/ai-detection/confirm", fmt.Sprintf(`{"idempotencyKey":"hook-%s-c%d","orderId":"%s"}`, round, i, id))
			ids = append(ids, id)
		}
		c.ok(clockOn.addr, "POST", "/_morimock/clock", `{"advance":"5s"}`)
		for _, id := range ids {
			c.waitOrder(clockOn.addr, id, "complete")
		}
		all = append(all, ids...)
		return ids
	}
	// waitSent waits until every order so far was delivered and its event is SENT.
	waitSent := func(on *replica) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			var list struct {
				Data struct {
					Events []struct{ Status string } `json:"events"`
				} `json:"data"`
			}
			got := c.ok(on.addr, "GET", fmt.Sprintf("/api/v2/orders/webhooks/%d/events?page=1&limit=100", hook.Data.ID), "")
			json.Unmarshal(got.body, &list)
			sent := 0
			for _, e := range list.Data.Events {
				if e.Status == "SENT" {
					sent++
				}
			}
			done := sent == len(all)
			for _, id := range all {
				done = done && rc.count(func(r *receiver) map[string]int { return r.delivered }, id) > 0
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 90 s: %d of %d events SENT (%s)", sent, len(all), got.body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Both replicas run a deliverer; the clock moves on b, so b is woken and a finds
	// the events by polling the store.
	orders("1", b)
	waitSent(b)

	// Every attempt is held; a is woken (the clock moves on a) and claims the events.
	rc.setHold(true)
	round2 := orders("2", a)
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := 0
		for _, id := range round2 {
			n += min(1, rc.count(func(r *receiver) map[string]int { return r.held }, id))
		}
		if n == len(round2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute %d of %d events were attempted", n, len(round2))
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.kill() // mid-delivery: the attempts it made die with it, its leases stay behind
	rc.setHold(false)
	waitSent(b)

	for _, id := range all {
		if n := rc.count(func(r *receiver) map[string]int { return r.delivered }, id); n != 1 {
			t.Errorf("order %s delivered %d times; want exactly once", id, n)
		}
	}
	// Events a held when it died are sent with no retry counted: a never recorded
	// its attempt, b took the event over when the lease ran out.
	var list struct {
		Data struct {
			Events []struct {
				Retries int `json:"retries"`
			} `json:"events"`
		} `json:"data"`
	}
	json.Unmarshal(c.ok(b.addr, "GET", fmt.Sprintf("/api/v2/orders/webhooks/%d/events?page=1&limit=100", hook.Data.ID), "").body, &list)
	takenOver := 0
	for _, e := range list.Data.Events[:len(round2)] {
		if e.Retries == 0 {
			takenOver++
		}
	}
	t.Logf("%d orders delivered once each; of the %d held when a was killed, %d were a's (taken over after the lease), %d b's (retried)",
		len(all), len(round2), takenOver, len(round2)-takenOver)
}
