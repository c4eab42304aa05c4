package order

import "time"

// Record is what the stateful sandbox keeps of an order it created: the facts from
// which the order's status and fields at any instant follow. Nothing in a Record is
// derived from a clock reading taken later; StatusAt and View compute what a client
// sees from the Record and the tenant's "now", so every replica that reads the same
// Record at the same instant answers the same.
//
// Records are stored as JSON (memory, the embedded store, Redis), so every field has a
// stable JSON name. A Record never holds an API key: Tenant is a digest of it.
type Record struct {
	ID             string     `json:"id"`
	Tenant         string     `json:"tenant"`
	Type           Type       `json:"type"`
	Name           string     `json:"name"`
	Channel        Channel    `json:"channel"`
	Test           bool       `json:"test,omitempty"` // created with a test key (sk_test_...)
	IdempotencyKey string     `json:"idempotencyKey"`
	CreatedAt      time.Time  `json:"createdAt"`
	Files          []File     `json:"files"`
	Options        *Options   `json:"options,omitempty"`  // aiDetection
	Strength       string     `json:"strength,omitempty"` // antiAi: low, standard, high
	ConfirmedAt    *time.Time `json:"confirmedAt,omitempty"`
	// ConfirmKey is the idempotencyKey of the confirm that started the order: a
	// confirm repeated with it answers the current state, any other key
	// ORDER_ALREADY_CONFIRMED.
	ConfirmKey string `json:"confirmKey,omitempty"`
	// StartedAt is when the order went inProgress: at confirm (antiAi, aiDetection),
	// at the last upload (watermark types), or at create (antiAi URL mode).
	StartedAt *time.Time `json:"startedAt,omitempty"`
	// ProcessFor is how long the order stays inProgress once started.
	ProcessFor time.Duration `json:"processFor"`
	Outcome    Outcome       `json:"outcome"`
	// AwaitsOutputs says the order's end waits for files the sandbox makes from its
	// inputs (thumbnails, heat maps, protected copies), so that a client that sees
	// complete can fetch every URL at once. Records written before the sandbox made
	// files have it false and end on ProcessFor alone.
	AwaitsOutputs bool `json:"awaitsOutputs,omitempty"`
	// OutputsAt is when those files and the results read from the inputs were stored,
	// on the tenant's clock; nil while the work runs. An order that awaits outputs
	// ends at the later of StartedAt + ProcessFor and OutputsAt.
	OutputsAt *time.Time `json:"outputsAt,omitempty"`
}

// File is one input file of a Record.
type File struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Key         string     `json:"key"`                // the storage key, as fileKey on the wire
	Format      string     `json:"format,omitempty"`   // JPG, PNG, WEBP, BMP, TIFF, PDF
	FileType    string     `json:"fileType,omitempty"` // IMG or DOCUMENT
	Role        string     `json:"role,omitempty"`     // watermarkExtract: watermarked or original
	Sequence    int        `json:"sequence,omitempty"`
	SourceURL   string     `json:"sourceUrl,omitempty"` // URL mode: originalFileUrl
	Watermarks  []string   `json:"watermarks,omitempty"`
	UploadedAt  *time.Time `json:"uploadedAt,omitempty"`
	Size        int64      `json:"size,omitempty"`
	ContentType string     `json:"contentType,omitempty"`
}

// Outcome is how an order ends, decided when it is created (from the file names, the
// seed and the failure rate) and revealed when processing ends.
type Outcome struct {
	Fail          bool    `json:"fail,omitempty"`
	ErrorCode     string  `json:"errorCode,omitempty"`
	ErrorMessage  string  `json:"errorMessage,omitempty"`
	Probability   float64 `json:"probability,omitempty"`   // aiDetection
	Detected      bool    `json:"detected,omitempty"`      // watermarkExtract
	WatermarkText string  `json:"watermarkText,omitempty"` // watermarkExtract, when detected
}
