package contract

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/morimock/morimock/order"
)

// target is one order the suite fetches.
type target struct {
	id       string
	scenario string      // how it was chosen, for the report
	header   http.Header // e.g. a Prefer scenario for the mock
	// wantType and wantStatus are what a mock scenario asked for; empty otherwise.
	wantType   order.Type
	wantStatus order.Status
	// fixture: the id is a built-in fixture's, which the mock leaves out when its
	// clock is frozen before the fixture fits.
	fixture bool
}

// defaultPerScenario is how many ids the suite asks the mock for per type and status.
const defaultPerScenario = 10

// targets decides which orders to fetch: the given ids, then discovered ones; against
// the mock with neither, every type x status, every fixture and every example.
func (r *runner) targets(ctx context.Context) ([]target, error) {
	var ts []target
	seen := map[string]bool{}
	addID := func(id, scenario string) {
		if !seen[id] {
			seen[id] = true
			ts = append(ts, target{id: id, scenario: scenario})
		}
	}
	for _, id := range r.cfg.OrderIDs {
		addID(id, "")
	}
	if r.cfg.Discover > 0 {
		ids, err := r.discover(ctx, r.cfg.Discover)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := checkOrderID(id); err != nil {
				return nil, fmt.Errorf("discover: GET /api/v2/orders listed %w", err)
			}
			addID(id, "discovered")
		}
	}
	if len(ts) > 0 || !r.report.Mock {
		return ts, nil
	}
	return r.mockTargets()
}

// mockTargets covers the mock: PerScenario ids for every type x status (chosen with
// Prefer: type=..., status=...), every builtin fixture, and every named example of the
// 200 answer (Prefer: example=...).
func (r *runner) mockTargets() ([]target, error) {
	per := r.cfg.PerScenario
	if per <= 0 {
		per = defaultPerScenario
	}
	var ts []target
	for ti, typ := range order.Types() {
		for si, st := range order.Statuses() {
			for i := range per {
				pref := fmt.Sprintf("type=%s, status=%s", typ, st)
				ts = append(ts, target{
					id:       fmt.Sprintf("42%d%d%06d", ti+1, si+1, i+1),
					scenario: pref,
					header:   http.Header{"Prefer": {pref}},
					wantType: typ, wantStatus: st,
				})
			}
		}
	}
	fx, err := r.fixtureTargets()
	if err != nil {
		return nil, err
	}
	ts = append(ts, fx...)
	ex, err := r.exampleTargets()
	if err != nil {
		return nil, err
	}
	return append(ts, ex...), nil
}

// exampleTargets asks the mock for each named example of the 200 answer, by the
// example's own id so that the echoed orderId matches.
func (r *runner) exampleTargets() ([]target, error) {
	examples, err := r.spec.OrderExamples()
	if err != nil {
		return nil, err
	}
	var ts []target
	for _, ex := range examples {
		typ, _ := ex.Data[order.FieldType].(string)
		status, _ := ex.Data[order.FieldStatus].(string)
		pref := "example=" + ex.Name
		ts = append(ts, target{id: ex.ID, scenario: pref, header: http.Header{"Prefer": {pref}}, wantType: order.Type(typ), wantStatus: order.Status(status)})
	}
	return ts, nil
}

// maxDiscoverPages bounds discovery, whatever the list answers.
const maxDiscoverPages = 100

// discover takes up to n order ids from the documented, read-only list endpoint
// GET /api/v2/orders (newest first).
func (r *runner) discover(ctx context.Context, n int) ([]string, error) {
	limit := min(n, 100)
	var ids []string
	for page := 1; len(ids) < n && page <= maxDiscoverPages; page++ {
		req := request{method: http.MethodGet, path: listPath, auth: authToken,
			query: url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(limit)}}}
		resp, err := r.c.do(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("discover: %w", err)
		}
		if resp.status != http.StatusOK {
			return nil, fmt.Errorf("discover: GET /api/v2/orders?page=%d answered %d %q", page, resp.status, resp.code())
		}
		if resp.tooLarge {
			return nil, fmt.Errorf("discover: GET /api/v2/orders?page=%d answered more than %d MiB", page, maxBody>>20)
		}
		var list struct {
			Data struct {
				Orders []struct {
					OrderID string `json:"orderId"`
				} `json:"orders"`
				PageInfo struct {
					TotalPages int `json:"totalPages"`
				} `json:"pageInfo"`
			} `json:"data"`
		}
		if err := json.Unmarshal(resp.body, &list); err != nil {
			return nil, fmt.Errorf("discover: GET /api/v2/orders answered a body that is not an order list: %w", err)
		}
		for _, o := range list.Data.Orders {
			if o.OrderID != "" && len(ids) < n {
				ids = append(ids, o.OrderID)
			}
		}
		if len(list.Data.Orders) < limit || page >= list.Data.PageInfo.TotalPages {
			break
		}
	}
	return ids, nil
}

// ReadOrderIDs reads order ids, one a line. Blank lines and text from # on are
// ignored; an id is one word of at most 64 bytes.
func ReadOrderIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := checkOrderID(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read order ids: %w", err)
	}
	return ids, nil
}

// checkOrderID refuses what cannot be one path segment of an order URL. The API's
// ids are digit strings, but the suite checks whatever ids a user has.
func checkOrderID(id string) error {
	if id == "" || id == "." || id == ".." || len(id) > 64 || strings.ContainsAny(id, " \t\r\n/?#%\\") ||
		strings.IndexFunc(id, func(r rune) bool { return r == utf8.RuneError || !strconv.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%q is not an order id", clip(id))
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
