package order_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/morimock/morimock/order"
)

// now is the clock of the check tests; created is well inside the seven days before it.
var (
	now     = time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC)
	created = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
)

func ptr[T any](v T) *T { return &v }

func url(name string) *string {
	return ptr("https://bizmori-prod.s3.ap-northeast-2.amazonaws.com/orders/1234567890123456789/" + name +
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260312%2Fap-northeast-2%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20260312T100500Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
}

// sample returns a valid order of type t in status s, with fixed values.
func sample(t order.Type, s order.Status) order.Order {
	o := order.Order{
		OrderID:   "1234567890123456789",
		OrderName: map[order.Type]string{order.AntiAI: "anti_ai_2026-03-12", order.WatermarkEmbed: "wtr_embed_2026-03-12", order.WatermarkExtract: "wtr_extract_2026-03-12", order.AIDetection: "ai_detection_2026-03-12"}[t],
		Type:      t,
		Channel:   order.ChannelAPI,
		Status:    s,
		FileCount: 1,
		CreatedAt: created,
		UpdatedAt: created.Add(5 * time.Minute),
	}
	if t == order.AntiAI || t == order.WatermarkEmbed {
		o.FileCount = 3
	}
	if t == order.WatermarkEmbed {
		o.Watermarks = []string{"MORI-WTR-001", "MORI-WTR-002"}
	}
	if t == order.AIDetection {
		o.Options = &order.Options{GenerateHeatmap: true, GenerateOverlay: true, GenerateThumbnail: true}
	}
	switch s {
	case order.Pending:
		o.UpdatedAt = o.CreatedAt
	case order.InProgress:
		o.ThumbnailImageURL = url("thumbnail.jpg")
		if t == order.AIDetection {
			o.OriginalImageURL = url("original.jpg")
		}
	case order.Complete:
		o.ThumbnailImageURL = url("thumbnail.jpg")
		switch t {
		case order.WatermarkExtract:
			o.StatusCode = ptr(order.Detected)
			o.WatermarkText = ptr("MORI-WTR-001")
		case order.AIDetection:
			o.OriginalImageURL = url("original.jpg")
			o.Probability = ptr(0.92)
			o.StatusCode = ptr(order.LikelyAI)
			o.HeatmapURL = url("heatmap.png")
			o.OverlayURL = url("overlay.png")
		}
	case order.Failed:
		o.Errors = ptr("The uploaded file could not be decoded as an image.")
		if t == order.AIDetection {
			o.OriginalImageURL = url("original.jpg")
		}
	case order.Expired:
		o.CreatedAt = time.Date(2026, 2, 10, 9, 30, 0, 0, time.UTC)
		o.UpdatedAt = o.CreatedAt.Add(2 * time.Minute)
		switch t {
		case order.WatermarkExtract:
			o.StatusCode = ptr(order.Undetected)
		case order.AIDetection:
			o.Probability = ptr(0.13)
			o.StatusCode = ptr(order.LikelyReal)
		}
	}
	return o
}

// sampleMap returns sample(t, s) as a generic JSON object, for tests to break.
func sampleMap(tb testing.TB, t order.Type, s order.Status) map[string]any {
	tb.Helper()
	o := sample(t, s)
	return toMap(tb, o.AppendJSON(nil))
}

func toMap(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("json.Marshal(%v) error = %v", v, err)
	}
	return b
}
