package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
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
		// A mismatch must not print the signature the body should have had: in a CI
		// log it would sign whatever body a stranger got verified.
		if want := webhook.Sign("whsec_s", []byte(tc.body)); tc.wantErr && strings.Contains(out.String(), want) {
			t.Errorf("%s: verify printed the expected signature: %s", tc.name, out.String())
		}
	}
	if err := run(context.Background(), []string{"webhook", "send", "--url", rc.URL, "--secret", "s", "--event", "order.nope.completed"}, func(string) string { return "" }, nil, &out, &errb); err == nil {
		t.Error("webhook send --event order.nope.completed: no error")
	}
}

// TestWebhookVerifySecretSources: verify takes the secret from --secret-file or
// BIZMORI_WEBHOOK_SECRET too, so it need not show in ps; --help says so (review2 #10).
func TestWebhookVerifySecretSources(t *testing.T) {
	body := `{"a":1}`
	sig := webhook.Sign("whsec_s", []byte(body))
	file := t.TempDir() + "/secret"
	if err := os.WriteFile(file, []byte("whsec_s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "BIZMORI_WEBHOOK_SECRET" {
			return "whsec_s"
		}
		return ""
	}
	none := func(string) string { return "" }
	for _, tc := range []struct {
		name     string
		args     []string
		getenv   func(string) string
		wantCode int // 0: valid
	}{
		{"file", []string{"--secret-file", file}, none, 0},
		{"env", nil, env, 0},
		{"flag wins over env", []string{"--secret", "whsec_other"}, env, 1},
		{"missing", nil, none, 2},
		{"unreadable file", []string{"--secret-file", file + ".nope"}, env, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"webhook", "verify", "--signature", sig}, tc.args...)
			err := run(context.Background(), args, tc.getenv, strings.NewReader(body), &out, &errb)
			code := 0
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				code = -1
			}
			if code != tc.wantCode {
				t.Errorf("verify %v = exit %d (%v, %s); want %d", tc.args, code, err, out.String(), tc.wantCode)
			}
			if strings.Contains(out.String()+errb.String(), "whsec_s") {
				t.Errorf("verify %v printed the secret: %s%s", tc.args, out.String(), errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	_ = run(context.Background(), []string{"webhook", "verify", "--help"}, none, strings.NewReader(""), &out, &errb)
	if help := out.String() + errb.String(); !strings.Contains(help, "BIZMORI_WEBHOOK_SECRET") || !strings.Contains(help, "-secret-file") {
		t.Errorf("webhook verify --help = %q; want --secret-file and BIZMORI_WEBHOOK_SECRET named", help)
	}
}
