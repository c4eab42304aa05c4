package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/morimock/morimock/webhook"
)

// TestWebhookSendVerify: send posts a signed event that the receiver checks with the
// public package, and verify agrees on the same body (an openssl vector too).
func TestWebhookSendVerify(t *testing.T) {
	var body []byte
	var sig string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		sig = r.Header.Get(webhook.SignatureHeader)
	}))
	defer rc.Close()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"webhook", "send", "--url", rc.URL, "--secret", "whsec_s", "--event", "order.watermarkExtract.completed", "--order", "42"}, func(string) string { return "" }, nil, &out, &errb)
	if err != nil {
		t.Fatalf("webhook send: %v; %s", err, errb.String())
	}
	if !webhook.Verify("whsec_s", body, sig) || !strings.Contains(string(body), `"orderId":"42"`) || !strings.Contains(string(body), `"watermarkFound":true`) {
		t.Fatalf("received %s signed %s; want a verified extract event for order 42", body, sig)
	}
	// printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac whsec_s
	const vector = "395952681f134ebb1dc8eacc491fa4054877b4605653e3b3b2ff9f5d84a4b778"
	for _, tc := range []struct {
		name, sig, body string
		wantErr         bool
	}{
		{"sent", sig, string(body), false},
		{"changed", sig, string(body) + " ", true},
		{"vector", vector, `{"a":1}`, false},
	} {
		out.Reset()
		err := run(context.Background(), []string{"webhook", "verify", "--secret", "whsec_s", "--signature", tc.sig}, func(string) string { return "" }, strings.NewReader(tc.body), &out, &errb)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: verify error = %v (%s); want error %v", tc.name, err, out.String(), tc.wantErr)
		}
	}
	if err := run(context.Background(), []string{"webhook", "send", "--url", rc.URL, "--secret", "s", "--event", "order.nope.completed"}, func(string) string { return "" }, nil, &out, &errb); err == nil {
		t.Error("webhook send --event order.nope.completed: no error")
	}
}
