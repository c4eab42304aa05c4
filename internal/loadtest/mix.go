package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/order"
)

// scenario is one kind of request in the mix and the statuses it may draw.
type scenario struct {
	name   string
	method string
	// target is the path and query; {id} is replaced by a fresh random order id.
	target string
	header http.Header
	body   string
	want   []int
}

// mix builds every scenario: each type and status through Prefer, the fixtures, the
// spec's examples, each declared error code, and bad input of every kind.
func mix(spec *morimock.Spec, token string, tokenChecked bool) ([]scenario, error) {
	orderPath := morimock.OrderURLPath("") // scenarios append the id
	auth := func(extra ...string) http.Header {
		h := http.Header{"Authorization": {"Bearer " + token}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Add(extra[i], extra[i+1])
		}
		return h
	}
	var sc []scenario
	add := func(name, method, target string, h http.Header, body string, want ...int) {
		sc = append(sc, scenario{name: name, method: method, target: target, header: h, body: body, want: want})
	}
	for _, t := range order.Types() {
		for _, st := range order.Statuses() {
			add("prefer "+string(t)+"/"+string(st), "GET", orderPath+"{id}", auth("Prefer", fmt.Sprintf("type=%s, status=%s", t, st)), "", 200)
		}
		add("query __type="+string(t), "GET", orderPath+"{id}?__type="+string(t), auth(), "", 200)
	}
	add("id alone", "GET", orderPath+"{id}", auth(), "", 200)
	add("prefer seed", "GET", orderPath+"{id}", auth("Prefer", "seed=42"), "", 200)
	add("prefer code=200", "GET", orderPath+"{id}", auth("Prefer", "code=200"), "", 200)

	builtin, err := fixtures.Builtin()
	if err != nil {
		return nil, err
	}
	for _, f := range builtin {
		add("fixture "+f.Name, "GET", orderPath+f.ID, auth(), "", 200)
	}
	examples, err := spec.OrderExamples()
	if err != nil {
		return nil, err
	}
	for _, ex := range examples {
		add("example "+ex.Name, "GET", orderPath+"{id}", auth("Prefer", "example="+ex.Name), "", 200)
	}
	for _, c := range spec.OrderStatuses() {
		if c == 200 {
			continue
		}
		add(fmt.Sprintf("prefer code=%d", c), "GET", orderPath+"{id}", auth("Prefer", fmt.Sprintf("code=%d", c)), "", c)
	}

	// Bad input: every one must draw a declared error, never a crash or a 5xx.
	add("id not digits", "GET", orderPath+"abc", auth(), "", 404)
	add("id 21 digits", "GET", orderPath+strings.Repeat("9", 21), auth(), "", 404)
	add("id 10 kB", "GET", orderPath+strings.Repeat("7", 10<<10), auth(), "", 404)
	add("id unicode", "GET", orderPath+"%E6%B3%A8%E6%96%87", auth(), "", 404)
	add("id %2e%2e", "GET", orderPath+"%2e%2e", auth(), "", 404)
	add("id %2F", "GET", orderPath+"12%2F34", auth(), "", 404)
	add("id negative", "GET", orderPath+"-1", auth(), "", 404)
	add("prefer bad type", "GET", orderPath+"{id}", auth("Prefer", "type=nope"), "", 400)
	add("prefer bad status", "GET", orderPath+"{id}", auth("Prefer", "status=done"), "", 400)
	add("prefer bad code", "GET", orderPath+"{id}", auth("Prefer", "code=abc"), "", 400)
	add("prefer undeclared code", "GET", orderPath+"{id}", auth("Prefer", "code=302"), "", 400)
	add("prefer unknown key", "GET", orderPath+"{id}", auth("Prefer", "colour=blue"), "", 400)
	add("prefer bad delay", "GET", orderPath+"{id}", auth("Prefer", "delay=forever"), "", 400)
	add("prefer unknown example", "GET", orderPath+"{id}", auth("Prefer", "example=nope"), "", 400)
	add("prefer conflict", "GET", orderPath+"{id}", auth("Prefer", "type=antiAi", "Prefer", "type=aiDetection"), "", 400)
	add("query bad status", "GET", orderPath+"{id}?__status=nope", auth(), "", 400)
	add("auth missing", "GET", orderPath+"{id}", http.Header{}, "", 401)
	add("auth basic", "GET", orderPath+"{id}", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "", 401)
	add("auth bearer empty", "GET", orderPath+"{id}", http.Header{"Authorization": {"Bearer "}}, "", 401)
	add("auth twice", "GET", orderPath+"{id}", http.Header{"Authorization": {"Bearer " + token, "Bearer " + token}}, "", 401)
	wrongToken := 200
	if tokenChecked {
		wrongToken = 401
	}
	add("auth wrong token", "GET", orderPath+"{id}", http.Header{"Authorization": {"Bearer sk_test_not_the_one"}}, "", wrongToken)
	add("body on GET", "GET", orderPath+"{id}", auth("Content-Type", "application/json"), `{"orderId":"1"}`, 200)
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE", "HEAD"} {
		add("method "+m, m, orderPath+"{id}", auth(), "", 405)
	}
	add("path unknown", "GET", "/api/v1/orders/{id}", auth(), "", 404)
	add("path dot segment", "GET", "/api/v2/orders/../orders/{id}", auth(), "", 404)
	add("path trailing slash", "GET", orderPath+"{id}/", auth(), "", 404)
	add("healthz", "GET", "/healthz", nil, "", 200)
	return sc, nil
}

// randomID returns an order id of 19 digits; over a run they are nearly all distinct,
// so a cache keyed by id would show as growing memory.
func randomID(r *rand.Rand) string {
	return strconv.FormatUint(1e18+r.Uint64N(9e18), 10)
}
