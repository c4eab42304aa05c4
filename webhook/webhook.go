// Package webhook checks and makes the signatures of BIZ MORI webhook deliveries, for
// receivers written in Go and for the morimock sandbox that sends them.
//
// A delivery is a POST whose X-MoriBiz-Signature header holds the lowercase hex
// HMAC-SHA256 of the raw request body, keyed with the webhook's whole secret
// (whsec_... included). Verify the bytes as they arrived: a body decoded and encoded
// again (JSON.stringify) need not have the same bytes.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// SignatureHeader is the header that carries a delivery's signature.
const SignatureHeader = "X-MoriBiz-Signature"

// MaxBody is the largest delivery body VerifyRequest reads; the vendor's events are a
// few hundred bytes.
const MaxBody = 1 << 20

// Sign returns the signature of body under secret: lowercase hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's signature under secret. The comparison
// takes the same time wherever the first difference lies. Upper-case hex is refused,
// as the vendor sends lower case.
func Verify(secret string, body []byte, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size || signature != hex.EncodeToString(got) {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(m.Sum(nil), got)
}

// ErrBadSignature is returned by VerifyRequest for a missing or wrong signature.
var ErrBadSignature = errors.New("webhook signature does not match")

// VerifyRequest reads r's body (at most MaxBody bytes) and checks its signature. It
// returns the body, which the caller decodes only when the error is nil.
func VerifyRequest(r *http.Request, secret string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read webhook body: %w", err)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("webhook body over %d bytes", MaxBody)
	}
	if !Verify(secret, body, r.Header.Get(SignatureHeader)) {
		return body, ErrBadSignature
	}
	return body, nil
}
