// Package order is the domain of the BIZ MORI v2 orders API: the order types and
// statuses, the fields each type carries, the probability bands of aiDetection, and
// the rules an order obeys. Each rule is written here once: the mock server uses it
// to generate orders and the contract suite uses it to check them.
package order

import (
	"fmt"
	"time"
)

// Type is an order's kind of work.
type Type string

// The four order types.
const (
	AntiAI           Type = "antiAi"
	WatermarkEmbed   Type = "watermarkEmbed"
	WatermarkExtract Type = "watermarkExtract"
	AIDetection      Type = "aiDetection"
)

// Types returns every order type, in the docs' order.
func Types() []Type { return []Type{AntiAI, WatermarkEmbed, WatermarkExtract, AIDetection} }

// Status is where an order is in its life.
type Status string

// The five statuses. The watermark-extract quickstart's detected/undetected statuses
// are not among them: the extract result is a StatusCode.
const (
	Pending    Status = "pending"
	InProgress Status = "inProgress"
	Complete   Status = "complete"
	Failed     Status = "failed"
	Expired    Status = "expired"
)

// Statuses returns every status, in the order an order passes through them.
func Statuses() []Status { return []Status{Pending, InProgress, Complete, Failed, Expired} }

// Channel is where an order was placed.
type Channel string

// The two channels.
const (
	ChannelAPI Channel = "api"
	ChannelWeb Channel = "web"
)

// StatusCode is the result code of a watermarkExtract or aiDetection order.
type StatusCode string

// Result codes. The four AI codes are the bands of Probability (see StatusCodeFor).
const (
	Detected      StatusCode = "detected"
	Undetected    StatusCode = "undetected"
	LikelyReal    StatusCode = "likely_real"
	UncertainReal StatusCode = "uncertain_real"
	UncertainAI   StatusCode = "uncertain_ai"
	LikelyAI      StatusCode = "likely_ai"
)

// The lower bounds (inclusive) of the aiDetection bands above likely_real.
const (
	UncertainRealFrom = 0.25
	UncertainAIFrom   = 0.5
	LikelyAIFrom      = 0.75
)

// StatusCodeFor returns the aiDetection band of a probability: likely_real below 0.25,
// uncertain_real from 0.25, uncertain_ai from 0.5, likely_ai from 0.75. Each band
// includes its lower bound.
func StatusCodeFor(p float64) StatusCode {
	switch {
	case p >= LikelyAIFrom:
		return LikelyAI
	case p >= UncertainAIFrom:
		return UncertainAI
	case p >= UncertainRealFrom:
		return UncertainReal
	default:
		return LikelyReal
	}
}

// ExpiresAfter is the age from which an order may be expired; an expired order is at
// least this old.
const ExpiresAfter = 7 * 24 * time.Hour

// PresignedURLLifetime is how long every presigned URL is valid, upload and download
// alike, on the tenant's clock: the vendor's upload and download URLs and the
// download operation's expiresIn.
const PresignedURLLifetime = time.Hour

// TimeLayout is the wire format of timestamps: UTC with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Options are the outputs an aiDetection order asked for when it was created.
type Options struct {
	GenerateHeatmap   bool
	GenerateOverlay   bool
	GenerateThumbnail bool
}

// Order is one order as GET /api/v2/orders/{orderId} returns it in `data`. Pointer
// fields are nullable on the wire. Fields that do not belong to Type are ignored when
// encoding (see Fields).
type Order struct {
	OrderID           string
	OrderName         string
	Type              Type
	Channel           Channel
	Status            Status
	FileCount         int
	ThumbnailImageURL *string
	OriginalImageURL  *string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Errors            *string

	Watermarks    []string    // watermarkEmbed
	WatermarkText *string     // watermarkExtract
	Probability   *float64    // aiDetection
	StatusCode    *StatusCode // watermarkExtract, aiDetection
	Options       *Options    // aiDetection
	HeatmapURL    *string     // aiDetection
	OverlayURL    *string     // aiDetection
}

// Field names on the wire.
const (
	FieldType              = "type"
	FieldOrderID           = "orderId"
	FieldChannel           = "channel"
	FieldThumbnailImageURL = "thumbnailImageUrl"
	FieldOriginalImageURL  = "originalImageUrl"
	FieldStatus            = "status"
	FieldOrderName         = "orderName"
	FieldFileCount         = "fileCount"
	FieldCreatedAt         = "createdAt"
	FieldUpdatedAt         = "updatedAt"
	FieldErrors            = "errors"
	FieldWatermarks        = "watermarks"
	FieldWatermarkText     = "watermarkText"
	FieldProbability       = "probability"
	FieldStatusCode        = "statusCode"
	FieldOptions           = "options"
	FieldHeatmapURL        = "heatmapUrl"
	FieldOverlayURL        = "overlayUrl"
)

// Fields returns the fields an order of type t carries, in the order they are sent.
// Every one of them is always sent (null when it has no value); no other field is.
// It returns nil for an unknown type.
func Fields(t Type) []string {
	switch t {
	case AntiAI:
		return []string{FieldType, FieldOrderID, FieldChannel, FieldThumbnailImageURL, FieldStatus, FieldOrderName, FieldFileCount, FieldCreatedAt, FieldUpdatedAt, FieldErrors}
	case WatermarkEmbed:
		return []string{FieldType, FieldOrderID, FieldChannel, FieldThumbnailImageURL, FieldStatus, FieldOrderName, FieldFileCount, FieldCreatedAt, FieldUpdatedAt, FieldErrors, FieldWatermarks}
	case WatermarkExtract:
		return []string{FieldType, FieldOrderID, FieldChannel, FieldThumbnailImageURL, FieldStatus, FieldOrderName, FieldFileCount, FieldCreatedAt, FieldUpdatedAt, FieldErrors, FieldStatusCode, FieldWatermarkText}
	case AIDetection:
		return []string{FieldType, FieldOrderID, FieldChannel, FieldThumbnailImageURL, FieldOriginalImageURL, FieldStatus, FieldOrderName, FieldFileCount, FieldCreatedAt, FieldUpdatedAt, FieldErrors, FieldProbability, FieldStatusCode, FieldOptions, FieldHeatmapURL, FieldOverlayURL}
	}
	return nil
}

// HasField reports whether orders of type t carry field.
func HasField(t Type, field string) bool {
	for _, f := range Fields(t) {
		if f == field {
			return true
		}
	}
	return false
}

// KnownField reports whether field belongs to any order type.
func KnownField(field string) bool {
	for _, t := range Types() {
		if HasField(t, field) {
			return true
		}
	}
	return false
}

// ParseType returns the Type named s.
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown order type %q (want one of antiAi, watermarkEmbed, watermarkExtract, aiDetection)", s)
}

// ParseStatus returns the Status named s.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown order status %q (want one of pending, inProgress, complete, failed, expired)", s)
}

// ValidID reports whether id has the shape of an order id: 1 to 20 decimal digits.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 20 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
