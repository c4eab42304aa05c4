package order

import "time"

// The kinds of presigned URL an order view asks for (see Record.Order).
const (
	URLThumbnail = "thumbnail"
	URLOriginal  = "original"
	URLHeatmap   = "heatmap"
	URLOverlay   = "overlay"
)

// DefaultFailure is the message of a failed order whose Outcome gives none.
const DefaultFailure = "Processing failed"

// Order returns the order as GET /api/v2/orders/{orderId} shows it at now. urls makes
// the presigned URL of a kind (URLThumbnail, URLOriginal, URLHeatmap, URLOverlay) for
// the storage key of the order's first file; it is called only for the URLs the order
// shows at now: none while pending or once expired, the thumbnail (and for aiDetection
// the original) once work has started, heatmap and overlay only on a complete
// aiDetection order whose options asked for them. Results (statusCode, probability,
// watermarkText) appear once complete and stay after expiry; errors only when failed.
func (r *Record) Order(now time.Time, urls func(kind, key string) *string) Order {
	st := r.StatusAt(now)
	o := Order{
		OrderID:   r.ID,
		OrderName: r.Name,
		Type:      r.Type,
		Channel:   r.Channel,
		Status:    st,
		FileCount: len(r.Files),
		CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt(now),
	}
	if SingleFile(r.Type) {
		// An extract's original is a reference for the one file inspected, not a
		// second input: fileCount stays 1.
		o.FileCount = 1
	}
	if st == Failed {
		msg := r.Outcome.ErrorMessage
		if msg == "" {
			msg = DefaultFailure
		}
		o.Errors = &msg
	}
	// A failed order never completed; an expired one may have.
	done := st == Complete || st == Expired && r.completed()
	showURLs := st == InProgress || st == Complete || st == Failed
	var key string
	if len(r.Files) > 0 {
		key = r.Files[0].Key
	}
	url := func(kind string) *string {
		if !showURLs || urls == nil {
			return nil
		}
		return urls(kind, key)
	}
	switch r.Type {
	case AntiAI, WatermarkExtract:
		o.ThumbnailImageURL = url(URLThumbnail)
	case WatermarkEmbed:
		o.ThumbnailImageURL = url(URLThumbnail)
		o.Watermarks = r.watermarks()
	case AIDetection:
		o.OriginalImageURL = url(URLOriginal)
		if r.Options != nil {
			opts := *r.Options
			o.Options = &opts
			if opts.GenerateThumbnail {
				o.ThumbnailImageURL = url(URLThumbnail)
			}
			if st == Complete && opts.GenerateHeatmap {
				o.HeatmapURL = url(URLHeatmap)
			}
			if st == Complete && opts.GenerateOverlay {
				o.OverlayURL = url(URLOverlay)
			}
		}
	}
	if done {
		switch r.Type {
		case WatermarkExtract:
			code := Undetected
			if r.Outcome.Detected {
				code = Detected
				text := r.Outcome.WatermarkText
				o.WatermarkText = &text
			}
			o.StatusCode = &code
		case AIDetection:
			p := r.Outcome.Probability
			code := StatusCodeFor(p)
			o.Probability, o.StatusCode = &p, &code
		}
	}
	return o
}

// completed reports whether the order's work ended in complete before it expired.
func (r *Record) completed() bool {
	all, n := r.life()
	for _, t := range all[:n] {
		if t.Status == Complete {
			return true
		}
	}
	return false
}

// watermarks lists the texts embedded in the order's files, each once, in file order.
func (r *Record) watermarks() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range r.Files {
		for _, w := range f.Watermarks {
			if w != "" && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
