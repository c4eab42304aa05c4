package mockserver

import (
	"net/http/httptest"
	"testing"
)

// TestTenantIsTheAuthenticatedToken: every spelling of one bearer token that
// authentication lets in keeps its orders under one tenant, and another token under
// another; both read the header with bearerToken.
func TestTenantIsTheAuthenticatedToken(t *testing.T) {
	want := tenantFor(t, "Bearer sk_live_abc")
	for _, h := range []string{"Bearer sk_live_abc", "bearer sk_live_abc", "  BEARER   sk_live_abc  ", "Bearer\tsk_live_abc"} {
		if _, e := bearerToken([]string{h}); e != nil {
			continue // not let in: no tenant to compare
		}
		if got := tenantFor(t, h); got != want {
			t.Errorf("tenantOf(%q) = %+v; want %+v (the tenant of Bearer sk_live_abc)", h, got, want)
		}
	}
	if other := tenantFor(t, "Bearer sk_live_abd"); other == want {
		t.Errorf("two tokens share tenant %+v", want)
	}
	if test := tenantFor(t, "Bearer sk_test_abc"); !test.test {
		t.Errorf("tenantOf(sk_test_ key).test = false; want true")
	}
}

func tenantFor(t *testing.T, authorization string) tenant {
	t.Helper()
	r := httptest.NewRequest("GET", "/api/v2/orders", nil)
	r.Header.Set("Authorization", authorization)
	return tenantOf(r)
}
