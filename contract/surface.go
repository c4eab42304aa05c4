package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/morimock/morimock/order"
)

// surfaceBudget is how many requests the read surface sends at most.
const surfaceBudget = 12

// listItem is the part of a list item the suite compares with GET order.
type listItem struct {
	OrderID   string   `json:"orderId"`
	OrderName string   `json:"orderName"`
	Type      string   `json:"type"`
	Channel   string   `json:"channel"`
	Status    string   `json:"status"`
	FileCount int      `json:"fileCount"`
	CreatedAt string   `json:"createdAt"`
	Prob      *float64 `json:"probability"`
}

type listPage struct {
	Data struct {
		Orders   []listItem `json:"orders"`
		PageInfo struct {
			TotalItems   int `json:"totalItems"`
			TotalPages   int `json:"totalPages"`
			CurrentPage  int `json:"currentPage"`
			ItemsPerPage int `json:"itemsPerPage"`
		} `json:"pageInfo"`
	} `json:"data"`
}

// listLimit is the page size the list checks ask for.
const listLimit = 10

// listPath is the path of the order list.
const listPath = "/api/v2/orders"

// readSurface checks the documented reads beside GET order: the list, download,
// usage stats, the webhooks. GETs only, except the one order the download check
// makes on the sandbox when writes were allowed (probesDownload).
func (r *runner) readSurface(ctx context.Context) error {
	page, err := r.checkList(ctx)
	if err != nil {
		return err
	}
	if err := r.checkDownload(ctx, page); err != nil {
		return err
	}
	req := request{method: http.MethodGet, path: "/api/v2/orders/stats/recent", auth: authToken}
	resp, err := r.send(ctx, req)
	if err != nil {
		return err
	}
	r.add(Result{Request: req.String()}, CheckStats, r.answerFindings(req, resp, http.StatusOK), "")
	return r.checkWebhooksRead(ctx)
}

func (r *runner) getList(ctx context.Context, q url.Values) (request, *response, *listPage, error) {
	req := request{method: http.MethodGet, path: listPath, auth: authToken, query: q}
	resp, err := r.send(ctx, req)
	if err != nil {
		return req, nil, nil, err
	}
	var p listPage
	if resp.status != http.StatusOK || resp.unfit != nil || json.Unmarshal(resp.body, &p) != nil {
		return req, resp, nil, nil
	}
	return req, resp, &p, nil
}

// checkList: the first page is valid, newest first, its pageInfo adds up, its items
// are the orders GET answers, and the status and type filters hold.
func (r *runner) checkList(ctx context.Context) (*listPage, error) {
	q := url.Values{"page": {"1"}, "limit": {strconv.Itoa(listLimit)}}
	req, resp, page, err := r.getList(ctx, q)
	if err != nil {
		return nil, err
	}
	label := req.String() + "?" + q.Encode()
	fs := r.answerFindings(req, resp, http.StatusOK)
	if page != nil {
		fs = append(fs, pageFindings(page)...)
		// Each of the first three items is the order GET answers for its id.
		for _, it := range page.Data.Orders[:min(3, len(page.Data.Orders))] {
			if checkOrderID(it.OrderID) != nil {
				continue
			}
			greq := request{method: http.MethodGet, path: ordersPath(it.OrderID), auth: authToken}
			gresp, err := r.send(ctx, greq)
			if err != nil {
				return nil, err
			}
			fs = append(fs, itemFindings(it, gresp)...)
		}
	}
	r.add(Result{Request: label, Scenario: "first page"}, CheckListOrders, fs, "")
	if resp.status == http.StatusOK && resp.unfit == nil {
		r.addDrift(Result{Request: label, Scenario: "first page"}, CheckDriftExtract, listDrifts(resp.body), false)
	}

	for _, filter := range []struct{ key, value string }{{"status", string(order.Complete)}, {"type", string(order.AIDetection)}} {
		q := url.Values{"page": {"1"}, "limit": {strconv.Itoa(listLimit)}, filter.key: {filter.value}}
		freq, fresp, fpage, err := r.getList(ctx, q)
		if err != nil {
			return nil, err
		}
		fs := r.answerFindings(freq, fresp, http.StatusOK)
		if fpage != nil {
			fs = append(fs, pageFindings(fpage)...)
			for i, it := range fpage.Data.Orders {
				got := it.Status
				if filter.key == "type" {
					got = it.Type
				}
				if got != filter.value {
					fs = append(fs, Finding{Rule: "list_filter", Path: fmt.Sprintf("$.data.orders[%d].%s", i, filter.key), Message: fmt.Sprintf("the list filtered by %s=%s holds an order whose %s is %q", filter.key, filter.value, filter.key, got), Want: filter.value, Got: got, Fix: "apply the list's filters (facts §3 row 8)"})
					break
				}
			}
		}
		r.add(Result{Request: freq.String() + "?" + q.Encode(), Scenario: filter.key + "=" + filter.value}, CheckListOrders, fs, "")
	}
	return page, nil
}

// pageFindings: newest first, and pageInfo agrees with itself and with the page.
func pageFindings(p *listPage) []Finding {
	var fs []Finding
	fix := "answer the list newest first with a pageInfo that adds up (facts §3 row 8)"
	pi := p.Data.PageInfo
	n := len(p.Data.Orders)
	if n > listLimit {
		fs = append(fs, Finding{Rule: "page_size", Path: "$.data.orders", Message: fmt.Sprintf("a page of limit %d holds %d orders", listLimit, n), Want: "at most " + strconv.Itoa(listLimit), Got: strconv.Itoa(n), Fix: fix})
	}
	if pi.CurrentPage != 1 {
		fs = append(fs, Finding{Rule: "page_info", Path: "$.data.pageInfo.currentPage", Message: "the first page's currentPage is not 1", Want: "1", Got: strconv.Itoa(pi.CurrentPage), Fix: fix})
	}
	if want := (pi.TotalItems + listLimit - 1) / listLimit; pi.ItemsPerPage == listLimit && pi.TotalPages != want && !(pi.TotalItems == 0 && pi.TotalPages <= 1) {
		fs = append(fs, Finding{Rule: "page_info", Path: "$.data.pageInfo.totalPages", Message: fmt.Sprintf("%d items at %d a page make %d pages", pi.TotalItems, listLimit, want), Want: strconv.Itoa(want), Got: strconv.Itoa(pi.TotalPages), Fix: fix})
	}
	if want := min(listLimit, pi.TotalItems); n != want {
		fs = append(fs, Finding{Rule: "page_info", Path: "$.data.pageInfo.totalItems", Message: fmt.Sprintf("the first page holds %d orders of %d", n, pi.TotalItems), Want: strconv.Itoa(want) + " orders", Got: strconv.Itoa(n), Fix: fix})
	}
	for i := 1; i < n; i++ {
		a, errA := time.Parse(time.RFC3339Nano, p.Data.Orders[i-1].CreatedAt)
		b, errB := time.Parse(time.RFC3339Nano, p.Data.Orders[i].CreatedAt)
		if errA == nil && errB == nil && b.After(a) {
			fs = append(fs, Finding{Rule: "newest_first", Path: fmt.Sprintf("$.data.orders[%d].createdAt", i), Message: "the list is not newest first", Want: "at or before " + p.Data.Orders[i-1].CreatedAt, Got: p.Data.Orders[i].CreatedAt, Fix: fix})
			break
		}
	}
	return fs
}

// itemFindings: a list item says what GET order says of the same order; the status
// may only have moved on between the two reads.
func itemFindings(it listItem, resp *response) []Finding {
	path := "$.data.orders[" + it.OrderID + "]"
	if resp.status != http.StatusOK {
		return []Finding{{Rule: "list_item_exists", Path: path, Message: fmt.Sprintf("order %s is listed but GET answered %d", it.OrderID, resp.status), Want: "200", Got: strconv.Itoa(resp.status), Fix: "list only the account's orders that GET answers"}}
	}
	var env struct {
		Data listItem `json:"data"`
	}
	_ = json.Unmarshal(resp.body, &env)
	g := env.Data
	var fs []Finding
	cmp := func(field, list, get string) {
		if list != get {
			fs = append(fs, Finding{Rule: "list_item_matches", Path: path + "." + field, Message: fmt.Sprintf("the list and GET order %s disagree on %s", it.OrderID, field), Want: get + " (GET order)", Got: list + " (list)", Fix: "the list item and GET order show one order (facts §3 row 8)"})
		}
	}
	cmp("orderId", it.OrderID, g.OrderID)
	cmp("orderName", it.OrderName, g.OrderName)
	cmp("type", it.Type, g.Type)
	cmp("channel", it.Channel, g.Channel)
	cmp("fileCount", strconv.Itoa(it.FileCount), strconv.Itoa(g.FileCount))
	if !sameInstant(it.CreatedAt, g.CreatedAt) {
		cmp("createdAt", it.CreatedAt, g.CreatedAt)
	}
	if it.Status != g.Status && !reachable(order.Status(it.Status), order.Status(g.Status)) {
		cmp("status", it.Status, g.Status)
	}
	return fs
}

// checkDownload: a complete order that has a file answers a downloadUrl, which
// answers a GET without credentials. Against the sandbox with --probe-writes and a
// live key, when the list has no such order, it makes one (makeDownloadable).
func (r *runner) checkDownload(ctx context.Context, page *listPage) error {
	id := ""
	if page != nil {
		for _, it := range page.Data.Orders {
			if it.Status == string(order.Complete) && (it.Type == string(order.AntiAI) || it.Type == string(order.WatermarkEmbed)) && checkOrderID(it.OrderID) == nil {
				id = it.OrderID
				break
			}
		}
	}
	if id == "" && r.probesDownload() {
		made, why, restore, err := r.makeDownloadable(ctx)
		defer restore()
		if err != nil {
			return err
		}
		if made == "" {
			r.add(Result{Request: "GET /api/v2/orders/{orderId}/download"}, CheckDownload, nil, why)
			return nil
		}
		id = made
	}
	if id == "" {
		r.add(Result{Request: "GET /api/v2/orders/{orderId}/download"}, CheckDownload, nil, "no complete antiAi or watermarkEmbed order on the list's first page")
		return nil
	}
	req := request{method: http.MethodGet, path: ordersPath(id) + "/download", auth: authToken}
	resp, err := r.send(ctx, req)
	if err != nil {
		return err
	}
	base := Result{OrderID: id, Request: req.String()}
	if resp.status == http.StatusNotFound && resp.code() == "PROCESSED_FILE_NOT_FOUND" {
		// A test order has no result file (facts §11): documented, and nothing to fetch.
		r.add(base, CheckDownload, r.answerFindings(req, resp, http.StatusNotFound), "")
		return nil
	}
	fs, err := r.downloadFindings(ctx, req, resp)
	if err != nil {
		return err
	}
	r.add(base, CheckDownload, fs, "")
	return nil
}

// downloadFindings checks a download answer and GETs its downloadUrl without any
// credentials: the URL is presigned, and may name another host, which must never see
// the token. No redirect is followed and at most maxBody is read.
func (r *runner) downloadFindings(ctx context.Context, req request, resp *response) ([]Finding, error) {
	fs := r.answerFindings(req, resp, http.StatusOK)
	if resp.status != http.StatusOK {
		return fs, nil
	}
	var env struct {
		Data struct {
			DownloadURL string `json:"downloadUrl"`
		} `json:"data"`
	}
	if json.Unmarshal(resp.body, &env) != nil || env.Data.DownloadURL == "" {
		return fs, nil // the schema findings say what is missing
	}
	fix := "the downloadUrl is presigned: it answers a plain GET, without Authorization and without a redirect (facts §3 row 11)"
	got, err := r.c.direct(ctx, http.MethodGet, env.Data.DownloadURL, nil, "")
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return append(fs, Finding{Rule: "download_url", Path: "$.data.downloadUrl", Message: "the downloadUrl did not answer: " + err.Error(), Want: "2xx", Got: "no answer", Fix: fix}), nil
	}
	if got.status < 200 || got.status > 299 {
		fs = append(fs, Finding{Rule: "download_url", Path: "$.data.downloadUrl", Message: fmt.Sprintf("a GET of the downloadUrl without credentials answered %d", got.status), Want: "2xx", Got: strconv.Itoa(got.status), Fix: fix})
	}
	return fs, nil
}

// checkWebhooksRead reads the webhook list and one webhook's events. A server
// without the webhook endpoints (404 or 405) skips them.
func (r *runner) checkWebhooksRead(ctx context.Context) error {
	req := request{method: http.MethodGet, path: webhooksPath, auth: authToken}
	resp, err := r.send(ctx, req)
	if err != nil {
		return err
	}
	base := Result{Request: req.String()}
	if noWebhooks(resp) {
		r.add(base, CheckWebhooksRead, nil, fmt.Sprintf("the server answered %d: it has no webhook endpoints (yet)", resp.status))
		return nil
	}
	r.add(base, CheckWebhooksRead, r.answerFindings(req, resp, http.StatusOK), "")
	var list struct {
		Data struct {
			Webhooks []struct {
				ID json.Number `json:"id"`
			} `json:"webhooks"`
		} `json:"data"`
	}
	if resp.status != http.StatusOK || json.Unmarshal(resp.body, &list) != nil || len(list.Data.Webhooks) == 0 {
		return nil
	}
	id := list.Data.Webhooks[0].ID.String()
	if checkOrderID(id) != nil {
		return nil
	}
	ereq := request{method: http.MethodGet, path: webhooksPath + "/" + id + "/events", auth: authToken}
	eresp, err := r.send(ctx, ereq)
	if err != nil {
		return err
	}
	r.add(Result{Request: ereq.String()}, CheckWebhooksRead, r.answerFindings(ereq, eresp, http.StatusOK), "")
	return nil
}

// webhooksPath is the documented webhook collection (facts §3 row 13).
const webhooksPath = "/api/v2/orders/webhooks"

// noWebhooks: a server without webhook endpoints answers 404 or 405 there. (A GET of
// /api/v2/orders/webhooks may also be routed as GET order "webhooks": 404 too.)
func noWebhooks(resp *response) bool {
	return resp.status == http.StatusNotFound || resp.status == http.StatusMethodNotAllowed
}

// sameInstant reports whether two timestamps name one instant: the list and GET order
// may write it with other precision (the docs give date-time only; the timestamp
// format is a rule of its own).
func sameInstant(a, b string) bool {
	if a == b {
		return true
	}
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && errB == nil && ta.Equal(tb)
}
