package mockserver

import (
	"net/http"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// statusAt is an order's status at now (the tenant's clock); order decides it.
func statusAt(rec *order.Record, now time.Time) order.Status { return rec.StatusAt(now) }

// view is the order as GET order answers it at the tenant's now, with presigned GET
// URLs the sandbox serves, issued now and valid for an hour.
func (s *Server) view(r *http.Request, c *call, rec *order.Record) order.Order {
	issued := c.now.Truncate(time.Second)
	s.kickIfDue(c.sb, rec, c.now)
	return rec.Order(c.now, func(kind, key string) *string {
		switch kind {
		case order.URLOriginal:
		case order.URLThumbnail:
			key = store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobThumbnail
		case order.URLHeatmap:
			key = store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobHeatmap
		default:
			key = store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobOverlay
		}
		u := s.getURL(r, c.sb, rec.Tenant, key, issued)
		return &u
	})
}
