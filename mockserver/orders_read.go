package mockserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock/order"
)

// handleOwnOrder answers GET order for an order the tenant created. For any other id
// it reports false, and the caller answers as the stateless mock always has
// (generated orders, Prefer, fixtures), unless the sandbox is strict.
func (s *Server) handleOwnOrder(w http.ResponseWriter, r *http.Request, c *call, sc Scenario) bool {
	rec, e, err := s.lookupOrder(r.Context(), c, c.params["orderId"])
	switch {
	case err != nil:
		s.internal(w, err)
	case e != nil && e.status == http.StatusNotFound && !s.cfg.StrictUnknownOrders:
		if exists, _ := c.sb.store.OrderExists(r.Context(), c.params["orderId"]); !exists {
			return false
		}
		s.fail(w, e) // another tenant's: never a made-up stand-in for it
	case e != nil:
		s.fail(w, e)
	case sc.shapesOrder(): // an error asked for (code) was answered before the order was read
		s.refuseScenario(w, c.route, "order "+rec.ID+" is one this API key created: it is answered as stored; the scenario keys type, status, seed and example only make up orders no key has")
	default:
		s.countPoll(rec.Tenant, rec.ID)
		o := s.view(r, c, &rec)
		body := o.AppendResponse(make([]byte, 0, 1024))
		h := w.Header()
		h["Content-Type"] = contentJSON
		h.Set(HeaderSource, "sandbox")
		if s.cfg.ValidateResponses {
			if err := s.validate(r, c.params, h, body, c.now); err != nil {
				s.log.Error("response failed validation", "id", rec.ID, "source", "sandbox", "err", err)
				s.fail(w, &apiError{status: http.StatusInternalServerError, code: codeInternal, detail: "the sandbox's own answer broke the contract (--validate-responses): " + clip(err.Error())})
				return true
			}
		}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}
	return true
}

// listItem is one order of GET /api/v2/orders (the contract's Order schema).
type listItem struct {
	OrderID           string            `json:"orderId"`
	OrderName         string            `json:"orderName"`
	Type              order.Type        `json:"type"`
	Channel           order.Channel     `json:"channel"`
	Status            order.Status      `json:"status"`
	FileCount         int               `json:"fileCount"`
	ThumbnailImageURL *string           `json:"thumbnailImageUrl"`
	CreatedAt         string            `json:"createdAt"`
	UpdatedAt         string            `json:"updatedAt"`
	Probability       *float64          `json:"probability"`
	StatusCode        *order.StatusCode `json:"statusCode"`
}

type pageInfo struct {
	TotalItems   int `json:"totalItems"`
	TotalPages   int `json:"totalPages"`
	CurrentPage  int `json:"currentPage"`
	ItemsPerPage int `json:"itemsPerPage"`
}

type orderList struct {
	Orders   []listItem `json:"orders"`
	PageInfo pageInfo   `json:"pageInfo"`
}

// handleListOrders serves GET /api/v2/orders: the tenant's orders newest first,
// filtered by keyword (part of the name, any case, or the whole id), status (at the tenant's
// now), type and channel. page and limit are the contract's (limit 1 to 100: the
// description's limit=-1 "all", facts C16, is refused by its schema before this runs).
func (s *Server) handleListOrders(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	page, limit := intParam(q.Get("page"), 1), intParam(q.Get("limit"), 10)
	if page < 1 {
		page = 1
	}
	keyword := strings.ToLower(q.Get("keyword"))
	status, typ, channel := q.Get("status"), q.Get("type"), q.Get("channel")
	keep := func(rec *order.Record) bool {
		return s.retained(rec, c.now) && (keyword == "" || strings.Contains(strings.ToLower(rec.Name), keyword) || rec.ID == keyword) &&
			(status == "" || status == "all" || string(statusAt(rec, c.now)) == status) &&
			(typ == "" || typ == "all" || string(rec.Type) == typ) &&
			(channel == "" || channel == "all" || string(rec.Channel) == channel)
	}
	offset := (page - 1) * limit
	recs, total, err := c.sb.store.PageOrders(r.Context(), c.tenant.id, offset, limit, keep)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := orderList{Orders: make([]listItem, 0, len(recs))}
	for i := range recs {
		o := s.view(r, c, &recs[i])
		item := listItem{OrderID: o.OrderID, OrderName: o.OrderName, Type: o.Type, Channel: o.Channel, Status: o.Status,
			FileCount: o.FileCount, ThumbnailImageURL: o.ThumbnailImageURL, CreatedAt: o.CreatedAt.Format(order.TimeLayout),
			UpdatedAt: o.UpdatedAt.Format(order.TimeLayout)}
		item.Probability, item.StatusCode = o.Probability, o.StatusCode // null but on a result
		out.Orders = append(out.Orders, item)
	}
	out.PageInfo = pageInfo{TotalItems: total, TotalPages: (total + limit - 1) / limit, CurrentPage: page, ItemsPerPage: limit}
	s.reply(w, r, c, out)
}

func intParam(v string, def int) int {
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	return def
}

type dailyStat struct {
	UsageDate  string `json:"usageDate"`
	UsageCount int    `json:"usageCount"`
}

type recentStats struct {
	DailyStats []dailyStat `json:"dailyStats"`
	Domain     [2]int      `json:"domain"`
	Ticks      []int       `json:"ticks"`
}

// handleRecentStats serves GET /api/v2/orders/stats/recent: the tenant's orders per
// day (UTC) over the seven days ending on date, or on the tenant's today; days
// without orders count 0. domain is [0, top] and ticks 0, top/5, ... top, top being
// the busiest day rounded up to a multiple of 5 (at least 5), as openapi.yaml says.
func (s *Server) handleRecentStats(w http.ResponseWriter, r *http.Request, c *call) {
	end := c.now.UTC().Truncate(24 * time.Hour)
	if d := r.URL.Query().Get("date"); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			s.fail(w, &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, detail: "date: want YYYY-MM-DD"})
			return
		}
		end = t
	}
	start := end.AddDate(0, 0, -6)
	counts := make([]int, 7)
	_, _, err := c.sb.store.PageOrders(r.Context(), c.tenant.id, 0, 0, func(rec *order.Record) bool {
		day := rec.CreatedAt.UTC().Truncate(24 * time.Hour)
		if i := int(day.Sub(start) / (24 * time.Hour)); !day.Before(start) && i < 7 {
			counts[i]++
		}
		return false
	})
	if err != nil {
		s.internal(w, err)
		return
	}
	out := recentStats{DailyStats: make([]dailyStat, 7)}
	top := 5
	for i, n := range counts {
		out.DailyStats[i] = dailyStat{UsageDate: start.AddDate(0, 0, i).Format("01.02"), UsageCount: n}
		top = max(top, (n+4)/5*5)
	}
	out.Domain = [2]int{0, top}
	for i := 0; i <= 5; i++ {
		out.Ticks = append(out.Ticks, top*i/5)
	}
	s.reply(w, r, c, out)
}
