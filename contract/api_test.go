package contract

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/morimock/morimock/internal/spectest"
)

// fakeAPI answers GET /api/v2/orders/{id} like the real API: the body of a known id
// with 200, 401 without a Bearer token, 404 ORDER_NOT_FOUND for any other id, and 405
// for any other method. Its fields break that contract on purpose, one at a time.
type fakeAPI struct {
	Orders map[string][]byte
	// Status, ContentType answer known ids; 0 and "" mean 200 and application/json.
	Status      int
	ContentType string
	// NoAuth answers without asking for a token.
	NoAuth bool
	// NotFoundBody replaces {"code":"ORDER_NOT_FOUND"}.
	NotFoundBody string
	// OtherMethods answers methods other than GET with this status instead of 405.
	OtherMethods int
	// Date, when set, is sent as the Date header.
	Date string
	// Mock makes it present itself as morimock, which the suite may send POST and DELETE.
	Mock bool
	// DownloadURL, when set, is the downloadUrl of every known order's /download.
	DownloadURL string

	mu      sync.Mutex
	methods []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.methods = append(f.methods, r.Method)
	f.mu.Unlock()
	if f.Date != "" {
		w.Header().Set("Date", f.Date)
	}
	if f.Mock {
		w.Header().Set(MockHeader, "test")
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v2/orders":
		// The list and the stats, empty but as documented: this fake holds no account.
		w.Write([]byte(`{"data":{"orders":[],"pageInfo":{"totalItems":0,"totalPages":0,"currentPage":1,"itemsPerPage":10}}}`))
		return
	case "/api/v2/orders/stats/recent":
		w.Write([]byte(`{"data":{"dailyStats":[{"usageDate":"03.06","usageCount":0},{"usageDate":"03.07","usageCount":0},{"usageDate":"03.08","usageCount":0},{"usageDate":"03.09","usageCount":0},{"usageDate":"03.10","usageCount":0},{"usageDate":"03.11","usageCount":0},{"usageDate":"03.12","usageCount":0}],"domain":[0,5],"ticks":[0,1,2,3,4,5]}}`))
		return
	}
	if id, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v2/orders/"), "/download"); ok && f.Orders[id] != nil && f.DownloadURL != "" {
		fmt.Fprintf(w, `{"data":{"downloadUrl":%q,"expiresIn":3600}}`, f.DownloadURL)
		return
	}
	if id, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v2/orders/"), "/download"); ok && f.Orders[id] != nil {
		// The fake's orders are a test key's: no result file (facts §11).
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"code":"PROCESSED_FILE_NOT_FOUND"}`))
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/api/v2/orders/")
	if !ok || strings.Contains(id, "/") {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"code":"ORDER_NOT_FOUND"}`))
		return
	}
	if r.Method != http.MethodGet {
		if f.OtherMethods != 0 {
			w.WriteHeader(f.OtherMethods)
			w.Write([]byte(`{"data":null}`))
			return
		}
		w.Header().Set("Allow", "GET")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write([]byte(`{"code":"METHOD_NOT_ALLOWED"}`))
		return
	}
	if !f.NoAuth && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":"AUTH_NOT_AUTHENTICATED"}`))
		return
	}
	body, ok := f.Orders[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		nf := f.NotFoundBody
		if nf == "" {
			nf = `{"code":"ORDER_NOT_FOUND"}`
		}
		w.Write([]byte(nf))
		return
	}
	if f.ContentType != "" {
		w.Header().Set("Content-Type", f.ContentType)
	}
	if f.Status != 0 {
		w.WriteHeader(f.Status)
	}
	w.Write(body)
}

// sent returns the methods the API received.
func (f *fakeAPI) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.methods...)
}

// newServer starts h for the test and returns its URL.
func newServer(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// runAgainst starts h and runs the suite against it with cfg (BaseURL filled in).
func runAgainst(tb testing.TB, h http.Handler, cfg Config) *Report {
	tb.Helper()
	cfg.BaseURL = newServer(tb, h)
	if cfg.Token == "" {
		cfg.Token = "sk_test_secret"
	}
	rep, err := Run(context.Background(), spectest.Load(tb), cfg)
	if err != nil {
		tb.Fatalf("Run() error = %v", err)
	}
	return rep
}

// outcomes returns check -> rules of every result with outcome, e.g.
// {"domain_rules": ["probability_band"]}.
func outcomes(rep *Report, outcome Outcome) map[string][]string {
	out := map[string][]string{}
	for _, res := range rep.Results {
		if res.Outcome != outcome {
			continue
		}
		for _, f := range res.Findings {
			out[res.Check] = appendUnique(out[res.Check], f.Rule)
		}
	}
	return out
}

func appendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}
