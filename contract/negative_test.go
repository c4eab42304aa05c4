package contract

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/morimock/morimock/internal/spectest"
)

// validAntiAI is a valid 200 body for order 1234567890123456789.
const validAntiAI = `{"data":{"type":"antiAi","orderId":"1234567890123456789","channel":"api","thumbnailImageUrl":"https://s3.amazonaws.com/t.jpg","status":"complete","orderName":"anti_ai_2026-03-12","fileCount":3,"createdAt":"2026-03-12T10:00:00.000Z","updatedAt":"2026-03-12T10:05:00.000Z","errors":null}}`

const validID = "1234567890123456789"

func TestNegativeContract(t *testing.T) {
	tests := []struct {
		name string
		api  *fakeAPI
		// failed and warned are the checks that must fail or warn, and no others.
		failed, warned []string
		// message is a piece of the first failure's message.
		message string
		// probeWrites is Config.ProbeWrites.
		probeWrites bool
	}{
		{
			name:   "keeps the contract",
			api:    &fakeAPI{},
			failed: nil,
		},
		{
			name:    "200 without auth",
			api:     &fakeAPI{NoAuth: true},
			failed:  []string{CheckAuthMalformed, CheckAuthMissingToken},
			message: "anyone can read orders",
		},
		{
			name:    "500 for an existing order",
			api:     &fakeAPI{Status: http.StatusInternalServerError},
			failed:  []string{CheckResponseSchema, CheckStatusCode},
			message: "should exist",
		},
		{
			name:    "text/html",
			api:     &fakeAPI{ContentType: "text/html; charset=utf-8"},
			failed:  []string{CheckContentType},
			message: "not JSON",
		},
		{
			name:   "404 RESOURCE_NOT_FOUND",
			api:    &fakeAPI{NotFoundBody: `{"code":"RESOURCE_NOT_FOUND"}`},
			warned: []string{CheckDriftNotFoundCode},
		},
		{
			name:    "404 with an undocumented code",
			api:     &fakeAPI{NotFoundBody: `{"code":"NO_SUCH_THING"}`},
			failed:  []string{CheckNotFound},
			message: "does not match openapi.yaml",
		},
		{
			name:        "2xx on DELETE",
			api:         &fakeAPI{OtherMethods: http.StatusOK, Mock: true},
			probeWrites: true,
			failed:      []string{CheckWrongMethod},
			message:     "accepted a method it does not declare",
		},
		{
			name:        "5xx on DELETE",
			api:         &fakeAPI{OtherMethods: http.StatusInternalServerError, Mock: true},
			probeWrites: true,
			failed:      []string{CheckWrongMethod},
			message:     "the server failed",
		},
		{
			name:    "undeclared status",
			api:     &fakeAPI{Status: http.StatusTeapot},
			failed:  []string{CheckStatusCode},
			message: "not declared",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.api.Orders == nil {
				tt.api.Orders = map[string][]byte{validID: []byte(validAntiAI)}
			}
			rep := runAgainst(t, tt.api, Config{OrderIDs: []string{validID}, ProbeWrites: tt.probeWrites})
			if diff := cmp.Diff(tt.failed, keys(outcomes(rep, Failed)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("failed checks mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warned, keys(outcomes(rep, Warned)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warned checks mismatch (-want +got):\n%s", diff)
			}
			if got := rep.Failed(); got != (len(tt.failed) > 0) {
				t.Errorf("Failed() = %v; want %v", got, len(tt.failed) > 0)
			}
			if tt.message != "" && !strings.Contains(firstFailure(rep), tt.message) {
				t.Errorf("first failure = %q; want it to say %q", firstFailure(rep), tt.message)
			}
			assertActionable(t, rep)
		})
	}
}

// firstFailure is the message of the first failed finding of a check named in
// the table, skipping response_schema_conformance, which only follows from the others.
func firstFailure(rep *Report) string {
	for _, res := range rep.Results {
		if res.Outcome == Failed && res.Check != CheckResponseSchema {
			return res.Findings[0].Message
		}
	}
	return ""
}

func TestOnlyGETsToLiveHosts(t *testing.T) {
	api := &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}}
	cfg := Config{
		BaseURL:    "https://api.bizmori.example",
		Token:      "sk_live_x",
		OrderIDs:   []string{validID},
		Rate:       1000, // the default would wait a second between requests
		HTTPClient: &http.Client{Transport: handlerTransport{api}},
	}
	rep, err := Run(t.Context(), spectest.Load(t), cfg)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	for _, m := range api.sent() {
		if m != http.MethodGet {
			t.Errorf("the suite sent %s to a live host; want GETs only", m)
		}
	}
	var skipped int
	for _, res := range rep.Results {
		if res.Check == CheckWrongMethod {
			if res.Outcome != Skipped || !strings.Contains(res.Reason, "GETs only") {
				t.Errorf("wrong_method result = %+v; want skipped, saying why", res)
			}
			skipped++
		}
	}
	if skipped == 0 {
		t.Error("no wrong_method result; want it reported as skipped")
	}
}

func TestDefaultRate(t *testing.T) {
	tests := []struct {
		name, base string
		rate       float64
		want       string // the least time between requests
	}{
		{"live host", "https://api.bizmori.com", 0, "1s"},
		{"loopback", "http://127.0.0.1:8080", 0, "0s"},
		{"localhost", "http://localhost:8080", 0, "0s"},
		{"ipv6 loopback", "http://[::1]:8080", 0, "0s"},
		{"given", "https://api.bizmori.com", 5, "200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newClient(t.Context(), Config{BaseURL: tt.base, Rate: tt.rate})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.interval.String(); got != tt.want {
				t.Errorf("newClient(%s, rate %v).interval = %s; want %s", tt.base, tt.rate, got, tt.want)
			}
		})
	}
}

// failureOf is the message of the first failed finding of check.
func failureOf(rep *Report, check string) string {
	for _, res := range rep.Results {
		if res.Outcome == Failed && res.Check == check {
			return res.Findings[0].Message
		}
	}
	return ""
}

// TestOnlyGETsToLoopbackThatIsNotTheMock: a loopback address may be a tunnel to a
// live API (a port-forward to staging), so only the mock is sent other methods.
func TestOnlyGETsToLoopbackThatIsNotTheMock(t *testing.T) {
	api := &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}}
	rep := runAgainst(t, api, Config{OrderIDs: []string{validID}})
	for _, m := range api.sent() {
		if m != http.MethodGet {
			t.Errorf("the suite sent %s to a loopback API that is not the mock; want GETs only", m)
		}
	}
	for _, res := range rep.Results {
		if res.Check == CheckWrongMethod && res.Outcome != Skipped {
			t.Errorf("wrong_method result = %+v; want skipped", res)
		}
	}
}
