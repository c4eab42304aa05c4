package files_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/morimock/morimock/mockserver/files"
)

func encode(tb testing.TB, img image.Image, format string) []byte {
	tb.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "gif":
		err = gif.Encode(&b, img, nil)
	default:
		err = files.Encode(&b, img, format)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeImageEveryFormat(t *testing.T) {
	src := files.Textured(64, 48)
	webp, err := os.ReadFile("testdata/photo.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		format string
		data   []byte
		w, h   int
	}{
		{files.JPEG, encode(t, src, files.JPEG), 64, 48},
		{files.PNG, encode(t, src, files.PNG), 64, 48},
		{files.BMP, encode(t, src, files.BMP), 64, 48},
		{files.TIFF, encode(t, src, files.TIFF), 64, 48},
		{files.WEBP, webp, 150, 100},
	} {
		t.Run(c.format, func(t *testing.T) {
			img, err := files.DecodeImage(bytes.NewReader(c.data), "in", c.format, files.Limits{})
			if err != nil {
				t.Fatalf("DecodeImage(%s) = %v", c.format, err)
			}
			if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
				t.Errorf("DecodeImage(%s) is %v; want %d x %d", c.format, b, c.w, c.h)
			}
		})
	}
}

func TestDecodeImageRefuses(t *testing.T) {
	src := files.Textured(16, 16)
	pngData := encode(t, src, files.PNG)
	var bomb bytes.Buffer // a PNG header claiming 100,000 x 100,000 pixels
	bomb.Write(pngData[:16])
	bomb.Write([]byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0})
	bomb.Write([]byte{0, 0, 0, 0}) // a wrong CRC: the header is refused before any IDAT
	bomb.Write(pngData[33:])
	bombOK := fixIHDRCRC(bomb.Bytes())
	random := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{3})
	rng.Read(random)
	for _, c := range []struct {
		name, want string
		data       []byte
		msg        string
	}{
		{"empty", files.PNG, nil, "is empty"},
		{"truncated", files.PNG, pngData[:len(pngData)/2], "damaged"},
		{"other format", files.JPEG, pngData, "named as JPG but its content is PNG"},
		{"random bytes", files.JPEG, random, "not a JPG image"},
		{"decompression bomb", files.PNG, bombOK, "100000 x 100000 pixels"},
		{"gif", files.PNG, encode(t, src, "gif"), "GIF is not supported"},
		{"pdf as image", files.PNG, []byte("%PDF-1.4\n"), "content is PDF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := files.DecodeImage(bytes.NewReader(c.data), "f", c.want, files.Limits{})
			var ie *files.InputError
			if !errors.As(err, &ie) || !strings.Contains(ie.Msg, c.msg) {
				t.Errorf("DecodeImage(%s) = %v; want an InputError saying %q", c.name, err, c.msg)
			}
		})
	}
}

// fixIHDRCRC sets the CRC of a PNG's IHDR chunk to match its bytes.
func fixIHDRCRC(b []byte) []byte {
	crc := crc32IEEE(b[12:29])
	out := append([]byte(nil), b...)
	out[29], out[30], out[31], out[32] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	return out
}

func TestDecodeImageOddButValid(t *testing.T) {
	gray16 := image.NewGray16(image.Rect(0, 0, 5, 3))
	gray16.SetGray16(1, 1, color.Gray16{Y: 0xabcd})
	cmyk := image.NewCMYK(image.Rect(0, 0, 9, 9))
	for _, c := range []struct {
		name, format string
		img          image.Image
	}{
		{"1x1", files.PNG, files.Textured(1, 1)},
		{"16-bit png", files.PNG, gray16},
		{"cmyk jpeg", files.JPEG, cmyk},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			var err error
			if c.format == files.JPEG {
				err = jpeg.Encode(&b, c.img, nil)
			} else {
				err = png.Encode(&b, c.img)
			}
			if err != nil {
				t.Fatal(err)
			}
			img, err := files.DecodeImage(bytes.NewReader(b.Bytes()), "f", c.format, files.Limits{})
			if err != nil {
				t.Fatalf("DecodeImage(%s) = %v; want it processed", c.name, err)
			}
			files.Thumbnail(img)
			files.Overlay(img, files.Heatmap(img.Bounds().Dx(), img.Bounds().Dy(), 0.5, 1))
		})
	}
}

func TestThumbnail(t *testing.T) {
	for _, c := range []struct{ w, h, tw, th int }{{1280, 960, 320, 240}, {100, 900, 36, 320}, {50, 20, 50, 20}} {
		got := files.Thumbnail(files.Textured(c.w, c.h)).Bounds()
		if got.Dx() != c.tw || got.Dy() != c.th {
			t.Errorf("Thumbnail(%d x %d) is %v; want %d x %d", c.w, c.h, got, c.tw, c.th)
		}
	}
}

func TestHeatmapFollowsProbability(t *testing.T) {
	prev := -1.0
	for _, p := range []float64{0, 0.02, 0.25, 0.5, 0.75, 0.98, 1} {
		m := files.Heatmap(300, 200, p, 7)
		got := files.MeanIntensity(m)
		if got < p-0.03 || got > p+0.03 {
			t.Errorf("MeanIntensity(Heatmap(p=%v)) = %.3f; want within 0.03", p, got)
		}
		// Its brightness (as any image viewer computes it) grows with p too.
		lum := 0.0
		for y := range 200 {
			for x := range 300 {
				lum += float64(color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y)
			}
		}
		if lum <= prev {
			t.Errorf("Heatmap(p=%v) is no brighter than the one before", p)
		}
		prev = lum
	}
	a, b := files.Heatmap(64, 64, 0.4, 1), files.Heatmap(64, 64, 0.4, 1)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("Heatmap is not the same for the same seed")
	}
}

func TestOverlayShowsInputWhereNoHeat(t *testing.T) {
	in := files.Textured(40, 30)
	heat := files.Heatmap(40, 30, 0, 1) // no heat anywhere
	if got := files.Overlay(in, heat); !bytes.Equal(got.Pix, in.Pix) {
		t.Error("Overlay with no heat differs from the input")
	}
	hot := files.Overlay(in, files.Heatmap(40, 30, 1, 1))
	if bytes.Equal(hot.Pix, in.Pix) {
		t.Error("Overlay with full heat is the input")
	}
}

func TestPerturbIsSmallAndSeeded(t *testing.T) {
	in := files.ToNRGBA(files.Textured(50, 40))
	a, b := files.ToNRGBA(in), files.ToNRGBA(in)
	files.Perturb(a, 9)
	files.Perturb(b, 9)
	if !bytes.Equal(a.Pix, b.Pix) || bytes.Equal(a.Pix, in.Pix) {
		t.Fatal("Perturb: want the same change for the same seed, and some change")
	}
	for i := range a.Pix {
		if d := int(a.Pix[i]) - int(in.Pix[i]); d < -1 || d > 1 {
			t.Fatalf("Perturb moved a channel by %d; want at most 1", d)
		}
	}
}

func TestWatermarkRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		w, h int
	}{{"photo", 400, 300}, {"small", 40, 30}, {"tiny", 20, 16}} {
		t.Run(c.name, func(t *testing.T) {
			img := files.ToNRGBA(files.Textured(c.w, c.h))
			if err := files.EmbedWatermark(img, []string{"(c) studio ü", "second"}); err != nil {
				t.Fatal(err)
			}
			// PNG -> decode -> image/png encode -> decode: the text survives.
			data := encode(t, img, files.PNG)
			dec, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := png.Encode(&again, dec); err != nil {
				t.Fatal(err)
			}
			dec, _ = png.Decode(&again)
			if got, ok := files.ReadWatermark(dec); !ok || got != "(c) studio ü" {
				t.Errorf("ReadWatermark(after re-encode) = %q, %v; want the first text", got, ok)
			}
		})
	}
	if got, ok := files.ReadWatermark(files.Textured(400, 300)); ok {
		t.Errorf("ReadWatermark(plain photo) = %q; want none", got)
	}
	if err := files.EmbedWatermark(files.ToNRGBA(files.Textured(1, 1)), []string{"x"}); err == nil {
		t.Error("EmbedWatermark(1 x 1) = nil; a pixel holds no frame")
	}
}

func TestWatermarkSurvivesOtherFormats(t *testing.T) {
	for _, format := range []string{files.JPEG, files.BMP, files.TIFF} {
		img := files.ToNRGBA(files.Textured(320, 240))
		if err := files.EmbedWatermark(img, []string{"studio"}); err != nil {
			t.Fatal(err)
		}
		dec, err := files.DecodeImage(bytes.NewReader(encode(t, img, format)), "f", format, files.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := files.ReadWatermark(dec); !ok || got != "studio" {
			t.Errorf("ReadWatermark(%s copy) = %q, %v; want studio", format, got, ok)
		}
	}
}

// minimalPDF is a one-page PDF with a correct cross-reference table.
func minimalPDF() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offs []int
	for _, o := range []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
	} {
		offs = append(offs, b.Len())
		b.WriteString(strings.Join([]string{itoa(len(offs)), " 0 obj\n", o, "\nendobj\n"}, ""))
	}
	x := b.Len()
	b.WriteString("xref\n0 4\n0000000000 65535 f \n")
	for _, o := range offs {
		b.WriteString(pad10(o) + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n" + itoa(x) + "\n%%EOF\n")
	return b.Bytes()
}

func TestPDFWatermark(t *testing.T) {
	in := minimalPDF()
	out, err := files.EmbedPDFWatermark("a.pdf", in, []string{"(c) studio", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, in) {
		t.Error("EmbedPDFWatermark changed the original bytes; an incremental update only appends")
	}
	if err := files.CheckPDF("a.pdf", out); err != nil {
		t.Errorf("CheckPDF(watermarked) = %v", err)
	}
	checkXref(t, out)
	if got, ok := files.ReadPDFWatermark(out); !ok || got != "(c) studio" {
		t.Errorf("ReadPDFWatermark = %q, %v; want (c) studio", got, ok)
	}
	if _, ok := files.ReadPDFWatermark(in); ok {
		t.Error("ReadPDFWatermark(plain PDF) = detected")
	}
	for name, data := range map[string][]byte{"no header": in[9:], "no startxref": in[:len(in)-20], "empty": nil} {
		var ie *files.InputError
		if err := files.CheckPDF("f.pdf", data); !errors.As(err, &ie) {
			t.Errorf("CheckPDF(%s) = %v; want an InputError", name, err)
		}
	}
}

// checkXref follows the last startxref to its section and the section's entry to its
// object, as a PDF reader does.
func checkXref(t *testing.T, pdf []byte) {
	t.Helper()
	s := string(pdf)
	i := strings.LastIndex(s, "startxref\n")
	var x, obj, n int
	if _, err := sscan(s[i+len("startxref\n"):], &x); err != nil || !strings.HasPrefix(s[x:], "xref\n") {
		t.Fatalf("startxref %d does not point at an xref section", x)
	}
	if _, err := sscan2(s[x+len("xref\n"):], &n, &obj); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s[obj:], itoa(n)+" 0 obj") {
		t.Errorf("xref entry %d points at %q; want object %d", n, s[obj:obj+10], n)
	}
}

// BenchmarkProcess12MP is the work that completes an aiDetection order with a
// 12-megapixel JPEG: decode it, and make and encode the thumbnail, the heat map and
// the overlay.
func BenchmarkProcess12MP(b *testing.B) {
	data := encode(b, files.Textured(4000, 3000), files.JPEG)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		img, err := files.DecodeImage(bytes.NewReader(data), "p.jpg", files.JPEG, files.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		heat := files.Heatmap(4000, 3000, 0.7, 1)
		pre := files.Preview(img)
		small := files.Heatmap(pre.Bounds().Dx(), pre.Bounds().Dy(), 0.7, 1)
		for _, out := range []image.Image{files.Thumbnail(pre), heat, files.Overlay(pre, small)} {
			if err := files.EncodePNG(io.Discard, out); err != nil {
				b.Fatal(err)
			}
		}
	}
}
