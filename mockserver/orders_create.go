package mockserver

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// The create bodies, as far as the sandbox reads them; the contract has validated them.
type (
	createFile struct {
		FileName        string `json:"fileName"`
		OriginalFileURL string `json:"originalFileUrl,omitempty"`
		ImageURL        string `json:"imageUrl,omitempty"` // with-urls
		Watermarks      []struct {
			Text string `json:"text"`
		} `json:"watermarks,omitempty"`
	}
	createBody struct {
		IdempotencyKey string `json:"idempotencyKey"`
		Mode           *struct {
			ZeroCopy bool `json:"zeroCopy"`
		} `json:"mode"`
		OutputTargets []struct{}   `json:"outputTargets"`
		OrderName     string       `json:"orderName"`
		Files         []createFile `json:"files"`
		Options       *struct {
			Strength          string `json:"strength"`
			GenerateHeatmap   bool   `json:"generateHeatmap"`
			GenerateOverlay   bool   `json:"generateOverlay"`
			GenerateThumbnail bool   `json:"generateThumbnail"`
		} `json:"options"`
		FileName string `json:"fileName"` // ai-detection
		File     *struct {
			FileName        string `json:"fileName"`
			IncludeOriginal bool   `json:"includeOriginal"`
			OriginalFile    *struct {
				FileName string `json:"fileName"`
			} `json:"originalFile"`
		} `json:"file"` // wtr-extract
	}
)

// createOp is what differs between the five creates: the order a body asks for (given
// its id) and the answer, rendered from the stored order alone, so that a create
// repeated with the same idempotencyKey answers exactly what the first did.
type createOp struct {
	build  func(b *createBody, id string) (order.Record, *apiError)
	render func(s *Server, r *http.Request, rec order.Record) any
	// successor is the v3 path of a v2 watermark endpoint, gone from 2026-10-09:
	// every answer names it in Link, with Deprecation and Sunset.
	successor string
}

func (s *Server) handleCreate(op createOp) opFunc {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		if op.successor != "" {
			h := w.Header()
			h.Set("Deprecation", "true")
			h.Set("Sunset", sunsetTime.Format(http.TimeFormat))
			h.Set("Link", "<"+op.successor+`>; rel="successor-version"`)
			if !c.now.Before(sunsetTime) {
				s.fail(w, &apiError{status: http.StatusGone, code: codeWatermarkSunset, detail: "the v2 watermark endpoints ended on " + sunsetAt + " (by this API key's clock); use v3, or set the clock back with POST /_morimock/clock"})
				return
			}
		}
		var b createBody
		if e := decode(r, &b); e != nil {
			s.fail(w, e)
			return
		}
		var stored order.Record
		for attempt := 0; ; attempt++ {
			rec, e := op.build(&b, c.sb.ids.next(s.now()))
			if e != nil {
				s.fail(w, e)
				return
			}
			rec.Tenant, rec.Test, rec.IdempotencyKey = c.tenant.id, c.tenant.test, b.IdempotencyKey
			rec.Channel, rec.CreatedAt = order.ChannelAPI, c.now
			markFetched(&rec)
			rec.ProcessFor = s.processFor(rec.ID)
			names := make([]string, len(rec.Files))
			for i, f := range rec.Files {
				names[i] = f.Name
			}
			rec.Outcome = s.outcome(c.tenant, rec.Type, rec.ID, names, c.now)
			if rec.Name == "" {
				rec.Name = order.DefaultName(rec.Type, c.now)
			}
			rec.AwaitsOutputs = true
			if order.StartsAtCreate(&rec) {
				rec.StartedAt = &rec.CreatedAt
			}
			var created bool
			var err error
			stored, created, err = c.sb.store.CreateOrder(r.Context(), rec)
			if errors.Is(err, store.ErrIDTaken) && attempt < 8 {
				c.sb.ids.collided() // another replica's or an earlier run's id
				continue
			}
			if err != nil {
				s.internal(w, err)
				return
			}
			if !created && !s.retained(&stored, c.now) && attempt < 8 {
				// The key's order is past the retention window: forgotten, and the key
				// with it. Sweep the tenant now so that the key is free, and create.
				s.sweepOnce(r.Context(), c.tenant.id)
				continue
			}
			if !created && (stored.Type != rec.Type || order.URLOnly(&stored) != order.URLOnly(&rec)) {
				s.fail(w, &apiError{status: http.StatusBadRequest, code: codeIdempotencyKeyInvalid, detail: "this idempotencyKey was used for an order of another kind"})
				return
			}
			if created {
				s.orderChanged(r.Context(), c.sb, baseURL(r), stored)
			}
			break
		}
		s.kickIfDue(c.sb, &stored, c.now)
		s.reply(w, r, c, op.render(s, r, stored))
	}
}

var sunsetTime, _ = time.Parse(time.RFC3339, sunsetAt)

// fileFormat returns a file name's fileFormat and fileType as the docs spell them.
func fileFormat(name string) (format, fileType string, ok bool) {
	switch strings.ToLower(strings.TrimPrefix(path.Ext(name), ".")) {
	case "jpg", "jpeg":
		return "JPG", "IMG", true
	case "png":
		return "PNG", "IMG", true
	case "webp":
		return "WEBP", "IMG", true
	case "bmp":
		return "BMP", "IMG", true
	case "tiff":
		return "TIFF", "IMG", true
	case "pdf":
		return "PDF", "DOCUMENT", true
	}
	return "", "", false
}

func badFormat(name string, allowed string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: fmt.Sprintf("file %s: want one of %s", clip(name), allowed)}
}

// The file-key shapes: each puts the order id second, which is how an upload finds
// its order (orderIDOfKey).
func keyAntiAI(id string, i int, name string) string {
	return "temp/" + id + "/" + strconv.Itoa(i) + "/" + path.Base(name)
}

func orderIDOfKey(key string) string {
	parts := strings.SplitN(key, "/", 4)
	if len(parts) < 3 {
		return ""
	}
	if parts[0] == "o" { // store.OrderBlobPrefix: o/<tenant>/<id>/...
		if len(parts) < 4 {
			return ""
		}
		return parts[2]
	}
	return parts[1]
}

// uploadURL is the presigned PUT URL of a file: the vendor's test-upload URL for a
// test key, an S3-style one otherwise; absolute, on the host the client called.
func (s *Server) uploadURL(r *http.Request, sb *sandbox, rec *order.Record, key string, issued time.Time) string {
	g := files.Grant{Method: http.MethodPut, Tenant: rec.Tenant, Key: key, Issued: issued, For: order.PresignedURLLifetime}
	if rec.Test {
		return baseURL(r) + sb.signer.TestUploadURL(g)
	}
	return baseURL(r) + sb.signer.S3URL(g)
}

// getURL is the presigned GET URL of a blob the sandbox serves.
func (s *Server) getURL(r *http.Request, sb *sandbox, tenantID, key string, issued time.Time) string {
	return baseURL(r) + sb.signer.S3URL(files.Grant{Method: http.MethodGet, Tenant: tenantID, Key: key, Issued: issued, For: order.PresignedURLLifetime})
}

// baseURL is the scheme and host the client reached the sandbox on.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}
