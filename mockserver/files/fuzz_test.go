package files_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/morimock/morimock/mockserver/files"
)

// FuzzDecodeImage: no bytes make the input check panic, or decode an image larger
// than the pixel budget; every refusal is an InputError.
func FuzzDecodeImage(f *testing.F) {
	for _, format := range []string{files.JPEG, files.PNG, files.BMP, files.TIFF} {
		f.Add(encode(f, files.Textured(8, 6), format), format)
	}
	f.Add([]byte("%PDF-1.4"), files.PNG)
	f.Fuzz(func(t *testing.T, data []byte, want string) {
		img, err := files.DecodeImage(bytes.NewReader(data), "f", want, files.Limits{MaxPixels: 1 << 16})
		var ie *files.InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("DecodeImage = %v; want an InputError", err)
		}
		if err == nil {
			if b := img.Bounds(); b.Dx()*b.Dy() > 1<<16 {
				t.Fatalf("DecodeImage decoded %v, over the budget", b)
			}
			files.ReadWatermark(img)
		}
	})
}

// FuzzReadWatermark: any pixels read back as a watermark or none, never a panic; an
// embedded text reads back.
func FuzzReadWatermark(f *testing.F) {
	f.Add([]byte("pixels"), "(c) studio", 24, 16)
	f.Fuzz(func(t *testing.T, pix []byte, text string, w, h int) {
		w, h = 1+abs(w)%64, 1+abs(h)%64
		img := files.ToNRGBA(files.Textured(w, h))
		copy(img.Pix, pix)
		files.ReadWatermark(img)
		if text != "" && len(text) < 200 && files.EmbedWatermark(img, []string{text}) == nil {
			if got, ok := files.ReadWatermark(img); !ok || got != firstText(text) {
				t.Fatalf("ReadWatermark(embedded %q) = %q, %v", text, got, ok)
			}
		}
	})
}

// FuzzPDF: CheckPDF, EmbedPDFWatermark and ReadPDFWatermark take any bytes.
func FuzzPDF(f *testing.F) {
	f.Add(minimalPDF(), "w")
	f.Add([]byte("%PDF-1.7\nstartxref\n0\n%%EOF"), "")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		files.ReadPDFWatermark(data)
		out, err := files.EmbedPDFWatermark("f.pdf", data, []string{text})
		if err != nil {
			return
		}
		if got, ok := files.ReadPDFWatermark(out); firstText(text) != "" && (!ok || got != firstText(text)) {
			t.Fatalf("ReadPDFWatermark(embedded %q) = %q, %v", text, got, ok)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// firstText is what a reader gives back of an embedded text: all of it, NULs too.
func firstText(s string) string { return s }
