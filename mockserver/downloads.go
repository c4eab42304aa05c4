package mockserver

import (
	"net/http"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

type download struct {
	DownloadURL string `json:"downloadUrl"`
	ExpiresIn   int    `json:"expiresIn"`
}

// handleDownload serves GET /api/v2/orders/{orderId}/download, its errors in the
// vendor's order: ORDER_NOT_FOUND, ORDER_TYPE_CANT_DOWNLOAD, ORDER_EXPIRED,
// ORDER_NOT_COMPLETED; then, for a test key's order, PROCESSED_FILE_NOT_FOUND as the
// real API answers. The URL gives the one file as itself, several as a zip.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, c *call) {
	rec, e, err := s.lookupOrder(r.Context(), c, c.params["orderId"])
	switch st := statusAt(&rec, c.now); {
	case err != nil:
		s.internal(w, err)
	case e != nil:
		s.fail(w, e)
	case !order.Downloadable(rec.Type):
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeTypeCantDownload, detail: string(rec.Type) + " orders have no file to download; their result is in GET order"})
	case st == order.Expired:
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeOrderExpired, detail: "results can be downloaded for 7 days after the order was created"})
	case st != order.Complete:
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeOrderNotCompleted, detail: "order " + rec.ID + " is " + string(st) + "; download works once it is complete"})
	case rec.Test:
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeProcessedFileNotFound, detail: "test orders are not processed, so they have no result file (as with the real API); use a live-style key (sk_...) for downloads"})
	default:
		key := store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobOutput + "0"
		if len(rec.Files) > 1 {
			key = store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobResultZip
		}
		u := s.getURL(r, c.sb, rec.Tenant, key, c.now.Truncate(time.Second))
		s.reply(w, r, c, download{DownloadURL: u, ExpiresIn: int(order.PresignedURLLifetime / time.Second)})
	}
}

type refreshFile struct {
	FileID    string `json:"fileId"`
	FileName  string `json:"fileName"`
	UploadURL string `json:"uploadUrl"`
	FileKey   string `json:"fileKey"`
}

// handleRefreshURLs serves POST /api/v2/orders/{orderId}/refresh-urls: new upload URLs,
// valid for an hour from the tenant's now, for a pending order's files that are not
// uploaded yet.
func (s *Server) handleRefreshURLs(w http.ResponseWriter, r *http.Request, c *call) {
	rec, e, err := s.lookupOrder(r.Context(), c, c.params["orderId"])
	switch st := statusAt(&rec, c.now); {
	case err != nil:
		s.internal(w, err)
	case e != nil:
		s.fail(w, e)
	case st != order.Pending:
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeOrderNotPending, detail: "order " + rec.ID + " is " + string(st) + "; upload URLs are refreshed for pending orders only"})
	default:
		out := struct {
			Files []refreshFile `json:"files"`
		}{Files: []refreshFile{}}
		for _, f := range rec.Files {
			if f.UploadedAt != nil { // uploaded, or fetched from its URL
				continue
			}
			out.Files = append(out.Files, refreshFile{FileID: itoa(f.ID), FileName: f.Name, FileKey: f.Key,
				UploadURL: s.uploadURL(r, c.sb, &rec, f.Key, c.now)})
		}
		s.reply(w, r, c, out)
	}
}
