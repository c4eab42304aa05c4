package fastlog

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkHandle compares fastlog's handlers with slog's on the access log's
// record for an ordinary answer.
func BenchmarkHandle(b *testing.B) {
	rec := record(time.Now(), slog.LevelInfo, "request", requestAttrs(200)...)
	for _, bb := range []struct {
		name string
		h    slog.Handler
	}{
		{"fastlog/text", NewTextHandler(io.Discard, nil)},
		{"slog/text", slog.NewTextHandler(io.Discard, nil)},
		{"fastlog/json", NewJSONHandler(io.Discard, nil)},
		{"slog/json", slog.NewJSONHandler(io.Discard, nil)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if err := bb.h.Handle(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
