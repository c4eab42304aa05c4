package webhook_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/morimock/morimock/webhook"
)

// The vector was computed outside Go:
//
//	printf '%s' "$body" | openssl dgst -sha256 -hmac 'whsec_test_vector_secret'
const (
	vectorSecret = "whsec_test_vector_secret"
	vectorBody   = `{"eventId":"550e8400-e29b-41d4-a716-446655440000","eventType":"order.antiAi.completed","occurredAt":"2026-02-19T12:00:00.000Z","data":{"orderId":"123456789","status":"complete"}}`
	vectorSig    = "7035ced942202ef7898eb44db57515d9c135dde6eae66b1c3b6c342c2d7df5c1"
)

func TestSignVector(t *testing.T) {
	if got := webhook.Sign(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Errorf("Sign(%q, vector) = %q; want %q", vectorSecret, got, vectorSig)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name, secret, body, sig string
		want                    bool
	}{
		{"vector", vectorSecret, vectorBody, vectorSig, true},
		{"upper-case hex", vectorSecret, vectorBody, strings.ToUpper(vectorSig), false},
		{"other secret", "whsec_other", vectorBody, vectorSig, false},
		{"secret without prefix", strings.TrimPrefix(vectorSecret, "whsec_"), vectorBody, vectorSig, false},
		{"body re-encoded with spaces", vectorSecret, strings.ReplaceAll(vectorBody, ",", ", "), vectorSig, false},
		{"empty signature", vectorSecret, vectorBody, "", false},
		{"not hex", vectorSecret, vectorBody, "zz" + vectorSig[2:], false},
		{"short", vectorSecret, vectorBody, vectorSig[:62], false},
		{"sha256= prefix", vectorSecret, vectorBody, "sha256=" + vectorSig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := webhook.Verify(tt.secret, []byte(tt.body), tt.sig); got != tt.want {
				t.Errorf("Verify(%q, body, %q) = %v; want %v", tt.secret, tt.sig, got, tt.want)
			}
		})
	}
}

func TestVerifyRequest(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(vectorBody))
	r.Header.Set(webhook.SignatureHeader, vectorSig)
	body, err := webhook.VerifyRequest(r, vectorSecret)
	if err != nil || string(body) != vectorBody {
		t.Fatalf("VerifyRequest = %q, %v; want the body and no error", body, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(vectorBody+" "))
	r.Header.Set(webhook.SignatureHeader, vectorSig)
	if _, err := webhook.VerifyRequest(r, vectorSecret); err != webhook.ErrBadSignature {
		t.Fatalf("VerifyRequest(changed body) error = %v; want ErrBadSignature", err)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(vectorSecret, vectorBody, vectorSig)
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, secret, body, sig string) {
		ok := webhook.Verify(secret, []byte(body), sig)
		if ok != (sig == webhook.Sign(secret, []byte(body))) {
			t.Fatalf("Verify(%q, %q, %q) = %v, disagrees with Sign", secret, body, sig, ok)
		}
	})
}

// A receiver in a few lines: check the signature over the raw body, answer 2xx fast.
func ExampleVerifyRequest() {
	secret := "whsec_test_vector_secret" // shown once, when the webhook was created
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.VerifyRequest(r, secret)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_ = body // decode and queue the event; the same eventId may come again
		w.WriteHeader(http.StatusNoContent)
	})
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(vectorBody))
	r.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, []byte(vectorBody)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output: 204
}
