package contract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listAPI adds GET /api/v2/orders to a fakeAPI: its orders in pages, newest first.
type listAPI struct {
	*fakeAPI
	ids   []string
	pages []string // the page and limit of each list request
}

func (l *listAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v2/orders" {
		l.fakeAPI.ServeHTTP(w, r)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	l.pages = append(l.pages, fmt.Sprintf("%d/%d", page, limit))
	var ids []string
	for _, id := range l.ids {
		if matchesFilters(l.Orders[id], r.URL.Query()) {
			ids = append(ids, id)
		}
	}
	from, to := min((page-1)*limit, len(ids)), min(page*limit, len(ids))
	var items []string
	for _, id := range ids[from:to] {
		items = append(items, string(listItemOf(l.Orders[id])))
	}
	total := (len(ids) + limit - 1) / limit
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"orders":[%s],"pageInfo":{"totalItems":%d,"totalPages":%d,"currentPage":%d,"itemsPerPage":%d}}}`,
		strings.Join(items, ","), len(ids), total, page, limit)
}

// listItemOf is the list item of a GET order body: the fields the list schema has,
// null where the order has none.
func listItemOf(body []byte) []byte {
	var env struct {
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	item := map[string]any{}
	for _, k := range []string{"orderId", "orderName", "type", "channel", "status", "fileCount", "thumbnailImageUrl", "createdAt", "updatedAt", "probability", "statusCode"} {
		item[k] = env.Data[k]
	}
	b, _ := json.Marshal(item)
	return b
}

// matchesFilters applies the list's status and type filters to a GET order body.
func matchesFilters(body []byte, q url.Values) bool {
	var env struct {
		Data struct{ Status, Type string } `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	return (q.Get("status") == "" || q.Get("status") == "all" || q.Get("status") == env.Data.Status) &&
		(q.Get("type") == "" || q.Get("type") == "all" || q.Get("type") == env.Data.Type)
}

func TestDiscover(t *testing.T) {
	api := &listAPI{fakeAPI: &fakeAPI{Orders: map[string][]byte{}}}
	for i := range 5 {
		id := fmt.Sprintf("123456789012345678%d", i)
		api.ids = append(api.ids, id)
		api.Orders[id] = []byte(strings.Replace(validAntiAI, validID, id, 1))
	}
	tests := []struct {
		name      string
		discover  int
		wantPages []string
		wantIDs   int
	}{
		{"fewer than listed", 3, []string{"1/3"}, 3},
		{"more than listed", 50, []string{"1/50"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api.pages = nil
			rep := runAgainst(t, api, Config{Discover: tt.discover})
			if diff := cmp.Diff(tt.wantPages, api.pages[:1]); diff != "" {
				t.Errorf("list requests mismatch (-want +got):\n%s", diff)
			}
			if rep.Orders != tt.wantIDs {
				t.Errorf("Orders = %d; want %d", rep.Orders, tt.wantIDs)
			}
			if rep.Failed() {
				t.Errorf("Failed() = true: %v", outcomes(rep, Failed))
			}
		})
	}
}

func TestNoIDsAgainstALiveAPIIsAnError(t *testing.T) {
	err := runAgainstErr(t, &fakeAPI{}, Config{})
	if err == nil || !strings.Contains(err.Error(), "--order") {
		t.Errorf("Run(no ids, not the mock) error = %v; want one that says how to give ids", err)
	}
}

// TestDownloadURLWithoutCredentials: the downloadUrl, on another host, gets a GET
// without the token; a redirect there is not followed and fails the check.
func TestDownloadURLWithoutCredentials(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		wantFail bool
	}{
		{"answers 200", http.StatusOK, false},
		{"redirects", http.StatusFound, true},
		{"refuses", http.StatusForbidden, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth []string
			var hits int
			files := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits++
				auth = append(auth, r.Header.Get("Authorization"))
				if tt.status == http.StatusFound {
					http.Redirect(w, r, "/elsewhere", http.StatusFound)
					return
				}
				w.WriteHeader(tt.status)
				w.Write([]byte("result bytes"))
			}))
			api := &listAPI{fakeAPI: &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}, DownloadURL: files + "/result.jpg?X-Amz-Signature=abc"}, ids: []string{validID}}
			rep := runAgainst(t, api, Config{OrderIDs: []string{validID}, Token: "sk_test_downloadsecret"})
			if hits != 1 || auth[0] != "" {
				t.Errorf("the download host got %d requests with Authorization %q; want one without", hits, auth)
			}
			_, failed := outcomes(rep, Failed)[CheckDownload]
			if failed != tt.wantFail {
				t.Errorf("download failed = %v; want %v (%v)", failed, tt.wantFail, outcomes(rep, Failed))
			}
		})
	}
}
