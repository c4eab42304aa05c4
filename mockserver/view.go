package mockserver

import (
	"net/http"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// statusAt is an order's status at now (the tenant's clock).
func statusAt(rec *order.Record, now time.Time) order.Status {
	switch {
	case !now.Before(rec.CreatedAt.Add(order.ExpiresAfter)):
		return order.Expired
	case rec.StartedAt == nil:
		return order.Pending
	case now.Before(rec.StartedAt.Add(rec.ProcessFor)):
		return order.InProgress
	case rec.Outcome.Fail:
		return order.Failed
	}
	return order.Complete
}

// updatedAt is the instant of the order's latest change at or before now.
func updatedAt(rec *order.Record, now time.Time) time.Time {
	last := rec.CreatedAt
	later := func(t *time.Time) {
		if t != nil && t.After(last) && !t.After(now) {
			last = *t
		}
	}
	for i := range rec.Files {
		later(rec.Files[i].UploadedAt)
	}
	later(rec.ConfirmedAt)
	later(rec.StartedAt)
	if rec.StartedAt != nil {
		end := rec.StartedAt.Add(rec.ProcessFor)
		later(&end)
	}
	exp := rec.CreatedAt.Add(order.ExpiresAfter)
	later(&exp)
	return last.UTC()
}

// Blob names under store.OrderBlobPrefix of an order's outputs. Their bytes are
// placeholders until real image work lands.
const (
	blobThumbnail = "thumbnail.png"
	blobHeatmap   = "heatmap.png"
	blobOverlay   = "overlay.png"
	blobResultZip = "result.zip"
)

// view is the order as GET order answers it at now, with presigned GET URLs the
// sandbox serves (null when there is nothing to fetch yet, or any more).
func (s *Server) view(r *http.Request, c *call, rec *order.Record) order.Order {
	now := c.now
	st := statusAt(rec, now)
	o := order.Order{
		OrderID: rec.ID, OrderName: rec.Name, Type: rec.Type, Channel: rec.Channel, Status: st,
		FileCount: len(rec.Files), CreatedAt: rec.CreatedAt.UTC(), UpdatedAt: updatedAt(rec, now),
	}
	issued := now.Truncate(time.Second)
	url := func(name string) *string {
		u := s.getURL(r, c.sb, rec.Tenant, store.OrderBlobPrefix(rec.Tenant, rec.ID)+name, issued)
		return &u
	}
	switch st {
	case order.Failed:
		msg := rec.Outcome.ErrorMessage
		o.Errors = &msg
	case order.Complete:
		if rec.Type != order.AIDetection || (rec.Options != nil && rec.Options.GenerateThumbnail) {
			o.ThumbnailImageURL = url(blobThumbnail)
		}
	}
	switch rec.Type {
	case order.WatermarkEmbed:
		for _, f := range rec.Files {
			o.Watermarks = append(o.Watermarks, f.Watermarks...)
		}
	case order.WatermarkExtract:
		if st == order.Complete {
			code := order.Undetected
			if rec.Outcome.Detected {
				code = order.Detected
				text := rec.Outcome.WatermarkText
				o.WatermarkText = &text
			}
			o.StatusCode = &code
		}
	case order.AIDetection:
		if rec.Options != nil {
			opts := *rec.Options
			o.Options = &opts
		}
		if st != order.Pending && st != order.Expired {
			u := s.getURL(r, c.sb, rec.Tenant, rec.Files[0].Key, issued)
			o.OriginalImageURL = &u
		}
		if st == order.Complete {
			p := rec.Outcome.Probability
			code := order.StatusCodeFor(p)
			o.Probability, o.StatusCode = &p, &code
			if rec.Options != nil && rec.Options.GenerateHeatmap {
				o.HeatmapURL = url(blobHeatmap)
			}
			if rec.Options != nil && rec.Options.GenerateOverlay {
				o.OverlayURL = url(blobOverlay)
			}
		}
	}
	return o
}
