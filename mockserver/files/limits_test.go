//go:build !race

// The race detector allocates beside the code it watches: allocation counts are
// measured without it.

package files

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

// allocated is the bytes f allocates: an upper bound of the memory it holds at once.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// jpegHeader is a JPEG that stops after its frame header: enough for DecodeConfig,
// nothing to decode (the reviewer's 140 KB progressive bomb, without the scans).
func jpegHeader(sof byte, w, h int, sampling ...byte) []byte {
	// A JFIF APP0 segment: without one, DecodeConfig reads on to the first scan.
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	seg := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(sampling))}
	for i, s := range sampling {
		seg = append(seg, byte(i+1), s, 0)
	}
	b = append(b, 0xff, sof, byte((len(seg)+2)>>8), byte(len(seg)+2))
	return append(append(b, seg...), 0xff, 0xd9)
}

// pngHeader is a PNG that stops after its IHDR chunk.
func pngHeader(w, h int, depth, colorType byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	chunk := append([]byte("IHDR"), ihdr...)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)))
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

// TestDecodeRefusesCostlyHeaders: a small file whose decode would take hundreds of
// MiB is refused from its header, with a message, before its pixels cost anything.
func TestDecodeRefusesCostlyHeaders(t *testing.T) {
	for _, c := range []struct {
		name, format string
		data         []byte
		refused      bool
	}{
		{"progressive 6000x4000 4:4:4", JPEG, jpegHeader(0xc2, 6000, 4000, 0x11, 0x11, 0x11), true},
		{"progressive 6000x4000 4:2:0", JPEG, jpegHeader(0xc2, 6000, 4000, 0x22, 0x11, 0x11), false},
		{"progressive 3000x4000 4:2:0 (12 MP)", JPEG, jpegHeader(0xc2, 3000, 4000, 0x22, 0x11, 0x11), false},
		{"baseline 6000x4000 4:2:0", JPEG, jpegHeader(0xc0, 6000, 4000, 0x22, 0x11, 0x11), false},
		{"16-bit RGBA PNG 4898x4898", PNG, pngHeader(4898, 4898, 16, 6), true},
		{"8-bit RGBA PNG 4898x4898", PNG, pngHeader(4898, 4898, 8, 6), false},
		{"16-bit gray PNG 4898x4898", PNG, pngHeader(4898, 4898, 16, 0), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = DecodeImage(bytes.NewReader(c.data), "f", c.format, Limits{}) })
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("DecodeImage = %v; want an InputError (the file has no pixels)", err)
			}
			if got := strings.Contains(ie.Msg, "MiB of memory"); got != c.refused {
				t.Errorf("DecodeImage = %q; refused for memory %v, want %v", ie.Msg, got, c.refused)
			}
			if n > 1<<20 {
				t.Errorf("DecodeImage allocated %d bytes for a header; want under 1 MiB", n)
			}
		})
	}
}

// TestDecodeCostBoundsAllocation: what DecodeCost counts for an image is at least
// what decoding it and making the working copy allocate, for every kind of pixel.
func TestDecodeCostBoundsAllocation(t *testing.T) {
	const w, h = 600, 400
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	rgba64 := image.NewRGBA64(rgba.Rect)
	gray := image.NewGray(rgba.Rect)
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 7)
	}
	for i := range rgba64.Pix {
		rgba64.Pix[i] = uint8(i * 13)
	}
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, c := range []struct {
		name, format string
		data         []byte
	}{
		{"png rgba", PNG, enc(func(b *bytes.Buffer) error { return png.Encode(b, rgba) })},
		{"png 16-bit", PNG, enc(func(b *bytes.Buffer) error { return png.Encode(b, rgba64) })},
		{"png gray", PNG, enc(func(b *bytes.Buffer) error { return png.Encode(b, gray) })},
		{"tiff 16-bit deflate", TIFF, enc(func(b *bytes.Buffer) error {
			return tiff.Encode(b, rgba64, &tiff.Options{Compression: tiff.Deflate})
		})},
		{"tiff rgba", TIFF, enc(func(b *bytes.Buffer) error { return tiff.Encode(b, rgba, nil) })},
		{"jpeg", JPEG, enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, rgba, nil) })},
		{"jpeg gray", JPEG, enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, gray, nil) })},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(c.data))
			if err != nil && c.format != TIFF {
				t.Fatal(err)
			}
			if c.format == TIFF {
				cfg, err = tiff.DecodeConfig(bytes.NewReader(c.data))
				if err != nil {
					t.Fatal(err)
				}
			}
			var layout *jpegLayout
			if c.format == JPEG {
				if layout, err = readJPEGLayout(bufioReader(c.data)); err != nil {
					t.Fatal(err)
				}
			}
			cost := DecodeCost(c.format, cfg, layout)
			n := allocated(func() {
				img, err := DecodeImage(bytes.NewReader(c.data), "f", c.format, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				AsNRGBA(img)
			})
			// Codec tables and row buffers are not counted: allow 256 KiB for them.
			// TotalAlloc also counts every step of the TIFF strip buffer's growth,
			// which are never all held at once: a quarter more for those.
			bound := cost + 256<<10
			if c.format == TIFF {
				bound += cost / 4
			}
			if int64(n) > bound {
				t.Errorf("decoding allocated %d bytes; DecodeCost says %d", n, cost)
			}
			if cost > 40*int64(w*h) {
				t.Errorf("DecodeCost = %d; over 40 bytes a pixel is no bound", cost)
			}
		})
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
