package order

import "time"

// The lifecycle rules, each in its positive form: what an order of a type in a status
// holds. The sandbox calls them to decide what to generate (and, with a Record, what
// to show at an instant); Check calls the same functions to judge an order, so a rule
// is never written twice. Check is lenient only where a real API may lawfully show
// less than the sandbox does, and says so through Settled.

// CanMove reports whether an order may go from status from to status to in one step:
// pending -> inProgress -> complete or failed, and from any other status to expired
// once ExpiresAfter has passed since it was created. An order never moves backwards,
// never skips inProgress, never leaves expired, and staying put is not a move.
func CanMove(from, to Status) bool {
	switch to {
	case InProgress:
		return from == Pending
	case Complete, Failed:
		return from == InProgress
	case Expired:
		return from == Pending || from == InProgress || from == Complete || from == Failed
	}
	return false
}

// ExpiresAt is when an order created at created becomes expired.
func ExpiresAt(created time.Time) time.Time { return created.Add(ExpiresAfter) }

// Uploaded reports whether an order in status st has received its input: every
// status but pending. An expired order was uploaded too; only its links are gone
// (see URLsNull).
func Uploaded(st Status) bool {
	return st == InProgress || st == Complete || st == Failed || st == Expired
}

// URLsNull reports whether every presigned URL of an order in status st is null: a
// pending order has nothing uploaded yet, and an expired order's links have lapsed.
// In every other status the input's URLs (thumbnailImageUrl, and originalImageUrl on
// aiDetection) are set; aiDetection's outputs follow OutputSet.
func URLsNull(st Status) bool { return !Uploaded(st) || st == Expired }

// HasErrors reports whether an order in status st says what went wrong in errors (a
// non-empty message): exactly when it failed. In every other status errors is null.
func HasErrors(st Status) bool { return st == Failed }

// HasResult reports whether an order of type t in status st carries its result
// (statusCode, and probability or watermarkText): only watermarkExtract and
// aiDetection have one, from the moment they complete, and an order that expired
// after completing keeps it. A pending, inProgress or failed order has none.
func HasResult(t Type, st Status) bool {
	return (t == WatermarkExtract || t == AIDetection) && (st == Complete || st == Expired)
}

// Settled reports whether an order in status st shows everything it will ever show:
// only a complete order does. An order can expire before it completes, and an
// inProgress one may still be rendering its thumbnail, so a check requires a result or
// an output that HasResult or OutputSet promises only when Settled; it forbids one
// they rule out in every status.
func Settled(st Status) bool { return st == Complete }

// StatusCodes returns the result codes an order of type t may carry: detected or
// undetected for watermarkExtract, the four bands of StatusCodeFor for aiDetection,
// none for the other types.
func StatusCodes(t Type) []StatusCode {
	switch t {
	case WatermarkExtract:
		return []StatusCode{Detected, Undetected}
	case AIDetection:
		return []StatusCode{LikelyReal, UncertainReal, UncertainAI, LikelyAI}
	}
	return nil
}

// WatermarkTextSet reports whether a watermarkExtract order whose result is code
// carries the text it found: exactly when code is detected.
func WatermarkTextSet(code StatusCode) bool { return code == Detected }

// OutputSet reports whether the aiDetection output field (thumbnailImageUrl,
// heatmapUrl or overlayUrl) holds a URL in status st, for an order created with
// opts: only when opts asked for it, the thumbnail once the image is uploaded and
// while its links live, the heatmap and overlay only on a complete order. It is false
// for any other field.
func OutputSet(field string, st Status, opts Options) bool {
	switch field {
	case FieldThumbnailImageURL:
		return opts.GenerateThumbnail && !URLsNull(st)
	case FieldHeatmapURL:
		return opts.GenerateHeatmap && st == Complete
	case FieldOverlayURL:
		return opts.GenerateOverlay && st == Complete
	}
	return false
}

// SingleFile reports whether orders of type t always hold exactly one file
// (fileCount 1); the others hold one or more.
func SingleFile(t Type) bool { return t == WatermarkExtract || t == AIDetection }

// NeedsConfirm reports whether an order of type t waits for a confirm after its
// uploads (antiAi, aiDetection); watermark orders start once every file is uploaded.
func NeedsConfirm(t Type) bool { return t == AntiAI || t == AIDetection }

// Downloadable reports whether an order of type t has processed files to download
// (antiAi and watermarkEmbed); the others end in a result only.
func Downloadable(t Type) bool { return t == AntiAI || t == WatermarkEmbed }

// StartsAtCreate reports whether an order is inProgress from the moment it is made:
// an antiAi or watermarkEmbed order whose every file comes from a URL (the server
// fetches them itself; embed then starts without a confirm, as after uploads).
func StartsAtCreate(rec *Record) bool {
	if !Downloadable(rec.Type) {
		return false
	}
	for _, f := range rec.Files {
		if f.SourceURL == "" {
			return false
		}
	}
	return true
}

// URLOnly reports whether rec is an antiAi order made from URLs (with-urls), which an
// idempotencyKey of a plain antiAi create must not answer.
func URLOnly(rec *Record) bool { return rec.Type == AntiAI && StartsAtCreate(rec) }

// TakesUploads reports whether an upload may (re)place a file of rec at now: the
// order is pending and was never confirmed or started, whatever the clock reads now
// (a clock moved back shows a started order as pending again; its files stay).
func TakesUploads(rec *Record, now time.Time) bool {
	return rec.ConfirmedAt == nil && rec.StartedAt == nil && rec.StatusAt(now) == Pending
}

// AppendDefaultName appends the vendor's auto-generated name of an order of type t
// made at created.
func AppendDefaultName(b []byte, t Type, created time.Time) []byte {
	switch t {
	case AntiAI:
		return created.AppendFormat(append(b, "anti_ai_"...), "2006-01-02")
	case WatermarkEmbed:
		return created.AppendFormat(append(b, "wtr_embed_"...), "20060102150405.000")
	case WatermarkExtract:
		return created.AppendFormat(append(b, "wtr_extract_"...), "2006-01-02")
	}
	return created.AppendFormat(append(b, "ai_detection_"...), "2006-01-02")
}

// DefaultName is AppendDefaultName as a string.
func DefaultName(t Type, created time.Time) string {
	return string(AppendDefaultName(nil, t, created))
}

// AllUploaded reports whether every file of rec has been uploaded at least once.
func (rec *Record) AllUploaded() bool {
	for i := range rec.Files {
		if rec.Files[i].UploadedAt == nil {
			return false
		}
	}
	return true
}

// Confirm is what a confirm does to an order: start it, answer it as it stands, or
// one of the vendor's refusals.
type Confirm int

// The outcomes of a confirm, in the order the vendor checks them.
const (
	// ConfirmStarts: the order was waiting for this confirm and starts now.
	ConfirmStarts Confirm = iota
	// ConfirmRepeat: the confirm that started the order, sent again with its
	// idempotencyKey; it changes nothing and answers the current state.
	ConfirmRepeat
	// ConfirmWrongType: the order is not of the confirm's type (ORDER_TYPE_NOT_MATCH).
	ConfirmWrongType
	// ConfirmAlreadyConfirmed: confirmed before, with another idempotencyKey
	// (ORDER_ALREADY_CONFIRMED).
	ConfirmAlreadyConfirmed
	// ConfirmNotPending: the order is no longer pending (ORDER_NOT_PENDING).
	ConfirmNotPending
	// ConfirmFilesMissing: a file has not been uploaded yet (ORDER_FILE_NOT_UPLOADED).
	ConfirmFilesMissing
)

// ConfirmOf decides what a confirm for orders of type t, sent with idempotencyKey
// key at now (the tenant's clock), does to rec: only a pending order of type t whose
// every file is uploaded starts; the one confirm that started it may be repeated.
func ConfirmOf(rec *Record, t Type, key string, now time.Time) Confirm {
	switch {
	case rec.Type != t:
		return ConfirmWrongType
	case rec.ConfirmedAt != nil && rec.ConfirmKey == key:
		return ConfirmRepeat
	case rec.ConfirmedAt != nil:
		return ConfirmAlreadyConfirmed
	case rec.StatusAt(now) != Pending:
		return ConfirmNotPending
	case !rec.AllUploaded():
		return ConfirmFilesMissing
	}
	return ConfirmStarts
}
