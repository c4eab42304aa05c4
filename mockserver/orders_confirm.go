package mockserver

import (
	"errors"
	"net/http"

	"github.com/morimock/morimock/order"
)

type confirmBody struct {
	IdempotencyKey string `json:"idempotencyKey"`
	OrderID        string `json:"orderId"`
}

// confirmed is the AI confirm's answer, and the anti-AI confirm's data.
type confirmed struct {
	OrderID string       `json:"orderId"`
	Status  order.Status `json:"status"`
}

// handleConfirm serves anti-ai/confirm and ai-detection/confirm for orders of type t:
// it starts processing an order whose files are all uploaded. A confirm repeated with
// the idempotencyKey that started the order answers the current state.
func (s *Server) handleConfirm(t order.Type) opFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		var b confirmBody
		if e := decode(r, &b); e != nil {
			s.fail(w, e)
			return
		}
		rec, e, err := s.lookupOrder(r.Context(), c, b.OrderID)
		if err == nil && e == nil {
			rec, err = c.sb.store.UpdateOrder(r.Context(), c.tenant.id, b.OrderID, func(rec *order.Record) error {
				if e := confirmRule(rec, t, b.IdempotencyKey, c); e != nil {
					return e
				}
				if rec.ConfirmedAt != nil {
					return nil // the same confirm again: nothing changes
				}
				at := c.now
				rec.ConfirmedAt, rec.StartedAt, rec.ConfirmKey = &at, &at, b.IdempotencyKey
				return nil
			})
			errors.As(err, &e)
		}
		switch {
		case e != nil:
			s.fail(w, e)
		case err != nil:
			s.internal(w, err)
		default:
			s.orderChanged(r.Context(), c.sb, baseURL(r), rec)
			s.kickIfDue(c.sb, &rec, c.now)
			s.reply(w, r, c, confirmed{OrderID: rec.ID, Status: statusAt(&rec, c.now)})
		}
	}
}

// confirmRule is what must hold for a confirm, checked in the vendor's order.
func confirmRule(rec *order.Record, t order.Type, key string, c *call) *apiError {
	switch st := statusAt(rec, c.now); {
	case rec.Type != t:
		return &apiError{status: http.StatusBadRequest, code: codeTypeNotMatch, detail: "order " + rec.ID + " is a " + string(rec.Type) + " order; this confirm is for " + string(t)}
	case rec.ConfirmedAt != nil && rec.ConfirmKey == key:
		return nil
	case rec.ConfirmedAt != nil:
		return &apiError{status: http.StatusBadRequest, code: codeAlreadyConfirmed, detail: "order " + rec.ID + " was confirmed already, with another idempotencyKey"}
	case st != order.Pending:
		return &apiError{status: http.StatusBadRequest, code: codeOrderNotPending, detail: "order " + rec.ID + " is " + string(st) + ", not pending"}
	case !allUploaded(rec):
		return &apiError{status: http.StatusBadRequest, code: codeFileNotUploaded, detail: "PUT every file to its uploadUrl before confirming"}
	}
	return nil
}
