package mockserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/morimock/morimock/order"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type clockAnswer struct {
	Now string `json:"now"`
}

// handleClock serves GET and POST /_morimock/clock for the calling tenant. POST moves
// its clock: {"advance": "90s"} (Go durations and d for days, negative allowed) or
// {"set": "<RFC 3339>"}. Only the offset is kept, so the clock keeps running.
func (s *Server) handleClock(w http.ResponseWriter, r *http.Request, c *call) {
	if r.Method == http.MethodPost {
		var b struct {
			Advance *string `json:"advance"`
			Set     *string `json:"set"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil || (b.Advance == nil) == (b.Set == nil) {
			s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: `want {"advance": "90s"} or {"set": "2026-09-01T09:00:00Z"}`})
			return
		}
		target := c.now
		if b.Advance != nil {
			d, err := order.ParseDuration(*b.Advance)
			if err != nil {
				s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "advance: " + err.Error()})
				return
			}
			target = target.Add(d)
		} else {
			t, err := time.Parse(time.RFC3339Nano, *b.Set)
			if err != nil {
				s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "set: want an RFC 3339 time such as 2026-09-01T09:00:00Z"})
				return
			}
			target = t
		}
		if err := c.sb.store.SetClockOffset(r.Context(), c.tenant.id, target.Sub(s.now())); err != nil {
			s.internal(w, err)
			return
		}
		c.now = target.UTC()
		// Orders the move made expire lose their files now, and orders it took past the
		// retention window go, not at the next hourly sweep: storage follows what reads show.
		s.sweepOnce(r.Context(), c.tenant.id)
		c.sb.deliverer.Wake() // retries and order ends may be due on the new clock
	}
	s.replyStatus(w, r, c, http.StatusOK, clockAnswer{Now: c.now.UTC().Format(order.TimeLayout)})
}

// handleReset serves POST /_morimock/reset: the tenant's orders, files, keys and
// clock offset are forgotten.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request, c *call) {
	if err := c.sb.store.Reset(r.Context(), c.tenant.id); err != nil {
		s.internal(w, err)
		return
	}
	w.Header().Set(HeaderSource, "sandbox")
	w.WriteHeader(http.StatusNoContent)
}
