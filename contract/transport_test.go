package contract

import (
	"net/http"
	"net/http/httptest"
)

// handlerTransport answers requests with a handler, without a network: tests use it
// to stand in for hosts that are not this machine.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
