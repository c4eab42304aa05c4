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
				switch what := order.ConfirmOf(rec, t, b.IdempotencyKey, c.now); what {
				case order.ConfirmStarts:
					at := c.now
					rec.ConfirmedAt, rec.StartedAt, rec.ConfirmKey = &at, &at, b.IdempotencyKey
					return nil
				case order.ConfirmRepeat:
					return nil // the same confirm again: nothing changes
				default:
					return confirmRefused(what, rec, t, c)
				}
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

// confirmRefused is the vendor's error for a confirm order.ConfirmOf refuses.
func confirmRefused(what order.Confirm, rec *order.Record, t order.Type, c *call) *apiError {
	switch what {
	case order.ConfirmWrongType:
		return &apiError{status: http.StatusBadRequest, code: codeTypeNotMatch, detail: "order " + rec.ID + " is of type " + string(rec.Type) + "; this confirm is for " + string(t) + " orders"}
	case order.ConfirmAlreadyConfirmed:
		return &apiError{status: http.StatusBadRequest, code: codeAlreadyConfirmed, detail: "order " + rec.ID + " was confirmed already, with another idempotencyKey"}
	case order.ConfirmNotPending:
		return &apiError{status: http.StatusBadRequest, code: codeOrderNotPending, detail: "order " + rec.ID + " is " + string(statusAt(rec, c.now)) + ", not pending"}
	default: // order.ConfirmFilesMissing
		return &apiError{status: http.StatusBadRequest, code: codeFileNotUploaded, detail: "PUT every file to its uploadUrl before confirming"}
	}
}
