package files_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/morimock/morimock/mockserver/files"
)

// TestWatermarkCarriesWholeTexts: long texts, multi-byte characters and NUL read
// back exactly (the reviewer's 300 x A, 200 x é and "a\x00b"), up to the API's 10
// texts of 1,000 characters; an image too small fails with a message.
func TestWatermarkCarriesWholeTexts(t *testing.T) {
	tenLong := make([]string, 10)
	for i := range tenLong {
		tenLong[i] = strings.Repeat(string(rune('á'+i)), 1000)
	}
	for _, c := range []struct {
		name  string
		w, h  int
		texts []string
		fail  bool
	}{
		{"300 A", 200, 200, []string{strings.Repeat("A", 300)}, false},
		{"200 é", 200, 200, []string{strings.Repeat("é", 200)}, false},
		{"NUL inside", 64, 64, []string{"a\x00b", "second"}, false},
		{"10 x 1000 characters", 600, 400, tenLong, false},
		{"8 x 8", 8, 8, []string{"MORI-001"}, true},
		{"too long for a small image", 40, 40, []string{strings.Repeat("x", 1000)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := files.ToNRGBA(files.Textured(c.w, c.h))
			before := bytes.Clone(img.Pix)
			err := files.EmbedWatermark(img, c.texts)
			if c.fail {
				var ie *files.InputError
				if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "too small to carry its watermark") {
					t.Fatalf("EmbedWatermark = %v; want an InputError saying the image is too small", err)
				}
				if !bytes.Equal(before, img.Pix) {
					t.Error("a refused embed changed the pixels")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := files.ReadWatermark(img); !ok || got != c.texts[0] {
				t.Errorf("ReadWatermark = %q (%d bytes), %v; want the first text whole (%d bytes)", got, len(got), ok, len(c.texts[0]))
			}
		})
	}
}

func TestPDFWatermarkCarriesWholeTexts(t *testing.T) {
	for _, text := range []string{strings.Repeat("é", 1000), "a\x00b"} {
		out, err := files.EmbedPDFWatermark("f.pdf", minimalPDF(), []string{text, "second"})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := files.ReadPDFWatermark(out); !ok || got != text {
			t.Errorf("ReadPDFWatermark = %q, %v; want %q", got, ok, text)
		}
	}
}
