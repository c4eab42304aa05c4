package files

// The image work of the sandbox: reading an input the way the real service would
// (its format from its content, its size before its pixels), and making the files an
// order shows (thumbnails, heat maps, overlays, protected copies). Every output is a
// function of its inputs and a seed, so the same order gives the same bytes.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"sync"

	xdraw "golang.org/x/image/draw"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Formats of inputs, spelled as the API's fileFormat.
const (
	JPEG = "JPG"
	PNG  = "PNG"
	WEBP = "WEBP"
	BMP  = "BMP"
	TIFF = "TIFF"
	PDF  = "PDF"
	gif  = "GIF" // recognised only to be refused by name
)

// DefaultMaxPixels is the largest image the sandbox processes: 24 megapixels (a
// 6000 x 4000 camera frame). Larger ones fail their order before a pixel is decoded,
// so a decompression bomb costs the server nothing.
const DefaultMaxPixels = 24_000_000

// DefaultMaxBytes is the most memory the sandbox lets the pixels of one image take
// while it is decoded and worked on: 192 MiB, which a 24-megapixel 8-bit JPEG or PNG
// and a 12-megapixel 8-bit TIFF fit, and a 24-megapixel 16-bit image (or a
// progressive JPEG of that size, whose decoder keeps 256 bytes per 8 x 8 block and
// component) does not. Pixels alone do not bound
// memory: a 186 KB file of zeros can ask for 900 MB.
const DefaultMaxBytes = 192 << 20

// Limits bound the work on one image; a zero field takes its default.
type Limits struct {
	MaxPixels int   // DefaultMaxPixels
	MaxBytes  int64 // DefaultMaxBytes: see DecodeCost
}

func (l Limits) orDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// ThumbnailSide is the longest side of a thumbnail, in pixels.
const ThumbnailSide = 320

// OverlaySide is the longest side of an overlay, in pixels: a larger input is shown
// scaled down to it (as a viewer would), which keeps the work on a 12-megapixel photo
// under a second. The heat map keeps the input's full size.
const OverlaySide = 2048

// InputError is an input the sandbox cannot process: its message is what the failed
// order shows in errors.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// Sniff returns the format of a file from its first bytes ("" when unknown): what a
// storage service or a browser would call it, whatever its name says.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return JPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("RIFF")) && string(head[8:12]) == "WEBP":
		return WEBP
	case bytes.HasPrefix(head, []byte("BM")):
		return BMP
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return TIFF
	case bytes.HasPrefix(head, []byte("GIF8")):
		return gif
	case bytes.Contains(head, []byte("%PDF-")):
		return PDF
	}
	return ""
}

// ContentType is the media type a format is served with.
func ContentType(format string) string {
	switch format {
	case JPEG:
		return "image/jpeg"
	case PNG:
		return "image/png"
	case WEBP:
		return "image/webp"
	case BMP:
		return "image/bmp"
	case TIFF:
		return "image/tiff"
	case PDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

// DecodeImage reads an image input whose name says it is of format want. It checks,
// in order: the content is an image of that format (a PNG named .jpg fails: the
// order promised the format its name gave, as fileFormat); its header gives a size
// of at least 1 x 1, at most lim.MaxPixels, and a DecodeCost of at most lim.MaxBytes;
// then it decodes the pixels. Every refusal is an *InputError. r is read from its start.
func DecodeImage(r io.ReadSeeker, name, want string, lim Limits) (image.Image, error) {
	lim = lim.orDefaults()
	maxPixels := lim.MaxPixels
	head := make([]byte, 1024)
	n, _ := io.ReadFull(r, head)
	head = head[:n]
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind %s: %w", name, err)
	}
	got := Sniff(head)
	switch {
	case n == 0:
		return nil, inputErr("file %s is empty", name)
	case got == "":
		return nil, inputErr("file %s is not a %s image: its content is no image format the service reads", name, want)
	case got == gif:
		return nil, inputErr("file %s is a GIF image; GIF is not supported (JPG, PNG, WEBP, BMP, TIFF are)", name)
	case got != want:
		return nil, inputErr("file %s is named as %s but its content is %s", name, want, got)
	}
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch got {
	case JPEG:
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case PNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case WEBP:
		decodeConfig, decode = webp.DecodeConfig, webp.Decode
	case BMP:
		decodeConfig, decode = bmp.DecodeConfig, bmp.Decode
	case TIFF:
		decodeConfig, decode = tiff.DecodeConfig, tiff.Decode
	default:
		return nil, inputErr("file %s is a %s, not an image", name, got)
	}
	// TIFF reads at offsets: give it r itself when r can (a file), never a copy.
	var src io.Reader = bufio.NewReader(r)
	if _, ok := r.(io.ReaderAt); ok && got == TIFF {
		src = r
	}
	cfg, err := decodeConfig(src)
	if err != nil {
		return nil, inputErr("file %s could not be read as %s: %v", name, got, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, inputErr("file %s has no pixels (%d x %d)", name, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, inputErr("file %s is %d x %d pixels; the most the service processes is %d megapixels", name, cfg.Width, cfg.Height, maxPixels/1_000_000)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind %s: %w", name, err)
	}
	var layout *jpegLayout
	if got == JPEG {
		if layout, err = readJPEGLayout(bufio.NewReader(r)); err != nil {
			return nil, inputErr("file %s could not be read as %s: %v", name, got, err)
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind %s: %w", name, err)
		}
	}
	if cost := DecodeCost(got, cfg, layout); cost > lim.MaxBytes {
		return nil, inputErr("file %s (%d x %d pixels, %s) needs %d MiB of memory to process; the most the service gives one image is %d MiB",
			name, cfg.Width, cfg.Height, pixelKind(cfg.ColorModel, layout), cost>>20, lim.MaxBytes>>20)
	}
	if src != r {
		src = bufio.NewReader(r)
	}
	img, err := decode(src)
	if err != nil {
		return nil, inputErr("file %s is damaged: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, inputErr("file %s is damaged: its header says %d x %d, its pixels %d x %d", name, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return img, nil
}

// bytesPerPixel is what one pixel of an image in model takes once decoded.
func bytesPerPixel(model color.Model) int64 {
	switch model {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // at most: 4:4:4; a subsampled JPEG's layout is counted exactly
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := model.(color.Palette); ok {
		return 1
	}
	return 8 // a model Go adds later: the widest there is
}

// DecodeCost is the most memory, in bytes, the pixels of an image of format with
// header cfg take while the sandbox decodes and works on it: the larger of what its
// decoder holds at once and the decoded image with the 4-byte-per-pixel copy the work
// makes of it. layout, for a JPEG, is its frame header (nil counts the worst case).
// Buffers of a few rows and the outputs (a thumbnail, a 2048-pixel preview) are not
// counted: they are small beside these.
func DecodeCost(format string, cfg image.Config, layout *jpegLayout) int64 {
	pixels := int64(cfg.Width) * int64(cfg.Height)
	img := pixels * bytesPerPixel(cfg.ColorModel)
	peak := img
	switch format {
	case TIFF:
		// A strip (often the whole image, as many bytes as its pixels) is read
		// uncompressed into a buffer grown by doubling: at the last growth the old and
		// the new buffer, up to 3 times the strip, sit beside the image.
		peak = 4 * img
	case JPEG:
		if layout != nil {
			img = layout.planeBytes()
			if layout.components == 4 {
				img *= 2 // YCbCr planes and the CMYK image they become
			}
			peak = img
			if layout.progressive {
				peak += 4 * layout.sampleCount() // a 256-byte block per 64 samples
			}
		} else {
			peak = img + 4*4*pixels
		}
	}
	work := img
	if cfg.ColorModel != color.NRGBAModel && cfg.ColorModel != color.RGBAModel {
		work += 4 * pixels // the NRGBA copy (RGBA ones are converted in place)
	}
	return max(peak, work)
}

func pixelKind(model color.Model, layout *jpegLayout) string {
	kind := fmt.Sprintf("%d bytes a pixel", bytesPerPixel(model))
	if layout != nil && layout.progressive {
		kind += ", progressive"
	}
	return kind
}

// jpegLayout is what a JPEG's frame header says about the memory its decoder takes.
type jpegLayout struct {
	width, height int
	progressive   bool
	components    int
	h, v          [4]int // each component's sampling factors
}

// sampleCount is the number of samples of every component, padded to whole blocks.
func (l *jpegLayout) sampleCount() int64 {
	hmax, vmax := 1, 1
	for i := range l.components {
		hmax, vmax = max(hmax, l.h[i]), max(vmax, l.v[i])
	}
	mcuX := int64((l.width + 8*hmax - 1) / (8 * hmax))
	mcuY := int64((l.height + 8*vmax - 1) / (8 * vmax))
	var n int64
	for i := range l.components {
		n += mcuX * int64(l.h[i]) * 8 * mcuY * int64(l.v[i]) * 8
	}
	return n
}

// planeBytes is the size of the decoded planes: a byte a sample.
func (l *jpegLayout) planeBytes() int64 { return l.sampleCount() }

// readJPEGLayout reads a JPEG's markers up to its frame header (SOFn). It only
// walks the segment lengths: image/jpeg reads the rest, and does not tell whether a
// file is progressive or how it is subsampled.
func readJPEGLayout(r *bufio.Reader) (*jpegLayout, error) {
	var buf [2]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil || buf != [2]byte{0xff, 0xd8} {
		return nil, errors.New("missing SOI marker")
	}
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, errors.New("no frame header")
		}
		if c != 0xff {
			continue // between segments only fill bytes are allowed; be lenient as the decoder is
		}
		m, err := r.ReadByte()
		if err != nil {
			return nil, errors.New("no frame header")
		}
		switch {
		case m == 0xff || m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd8):
			if m == 0xff {
				_ = r.UnreadByte()
			}
			continue // fill, stuffing or a marker with no segment
		case m == 0xd9:
			return nil, errors.New("no frame header")
		}
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, errors.New("short segment")
		}
		n := int(buf[0])<<8 | int(buf[1]) - 2
		if n < 0 {
			return nil, errors.New("bad segment length")
		}
		isSOF := m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
		if !isSOF {
			if _, err := r.Discard(n); err != nil {
				return nil, errors.New("short segment")
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil || n < 6 {
			return nil, errors.New("short frame header")
		}
		l := &jpegLayout{
			height:      int(seg[1])<<8 | int(seg[2]),
			width:       int(seg[3])<<8 | int(seg[4]),
			components:  int(seg[5]),
			progressive: m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce,
		}
		if l.components < 1 || l.components > 4 || n < 6+3*l.components {
			return nil, errors.New("bad frame header")
		}
		for i := range l.components {
			hv := seg[6+3*i+1]
			l.h[i], l.v[i] = max(1, int(hv>>4)), max(1, int(hv&15))
		}
		return l, nil
	}
}

// Thumbnail returns img scaled down so that its longest side is at most
// ThumbnailSide (a smaller image keeps its size).
func Thumbnail(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if long := max(w, h); long > ThumbnailSide {
		w = max(1, int(math.Round(float64(w)*ThumbnailSide/float64(long))))
		h = max(1, int(math.Round(float64(h)*ThumbnailSide/float64(long))))
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// Preview returns img scaled down so that its longest side is at most OverlaySide,
// or img itself when it is no larger: the picture an overlay is drawn on, and a
// cheap source for the thumbnail.
func Preview(img image.Image) image.Image {
	b := img.Bounds()
	long := max(b.Dx(), b.Dy())
	if long <= OverlaySide {
		return img
	}
	w := max(1, int(math.Round(float64(b.Dx())*OverlaySide/float64(long))))
	h := max(1, int(math.Round(float64(b.Dy())*OverlaySide/float64(long))))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// heatPalette is the "hot" colour map: black, red, yellow, white. Its luminance
// grows with the index, so a heat map's brightness follows its values.
func heatPalette() color.Palette {
	p := make(color.Palette, 256)
	ch := func(v float64) uint8 { return uint8(math.Round(255 * min(1, max(0, v)))) }
	for i := range p {
		t := float64(i) / 255
		p[i] = color.RGBA{ch(3 * t), ch(3*t - 1), ch(3*t - 2), 255}
	}
	return p
}

// Heatmap returns a w x h heat map whose mean index, over 255, is probability (to
// within a percent or two): a few soft blobs, placed by seed, brighter where the
// "detector" is surer. Its pixels are palette indexes into the hot colour map.
func Heatmap(w, h int, probability float64, seed uint64) *image.Paletted {
	m := image.NewPaletted(image.Rect(0, 0, w, h), heatPalette())
	p := min(1, max(0, probability))
	if p <= 0 || p >= 1 {
		idx := uint8(0)
		if p >= 1 {
			idx = 255
		}
		for i := range m.Pix {
			m.Pix[i] = idx
		}
		return m
	}
	// A sum of separable Gaussian blobs: value(x, y) = sum_k a_k gx_k[x] gy_k[y].
	rng := rand.New(rand.NewPCG(seed, 0x6865617470))
	const blobs = 6
	gx, gy, amp := make([][]float32, blobs), make([][]float32, blobs), make([]float32, blobs)
	for k := range blobs {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		r := (0.15 + 0.25*rng.Float64()) * float64(max(w, h))
		amp[k] = float32(0.4 + 0.6*rng.Float64())
		gx[k], gy[k] = make([]float32, w), make([]float32, h)
		for x := range w {
			d := (float64(x) + 0.5 - cx) / r
			gx[k][x] = float32(math.Exp(-d * d))
		}
		for y := range h {
			d := (float64(y) + 0.5 - cy) / r
			gy[k][y] = float32(math.Exp(-d * d))
		}
	}
	value := func(x, y int) float64 {
		var v float32
		for k := range blobs {
			v += amp[k] * gx[k][x] * gy[k][y]
		}
		return float64(v)
	}
	// Normalise to (0, 1] on a sample grid, then find the exponent g for which the
	// mean of v^g is p, and map values through a table to indexes.
	const grid = 64
	var samples []float64
	top := 0.0
	for j := range min(grid, h) {
		for i := range min(grid, w) {
			v := value(i*w/min(grid, w), j*h/min(grid, h))
			samples = append(samples, v)
			top = max(top, v)
		}
	}
	top = max(top, 1e-9)
	const levels = 1024
	lut := func(g float64) [levels]uint8 {
		var t [levels]uint8
		for i := range t {
			t[i] = uint8(math.Round(255 * math.Pow((float64(i)+0.5)/levels, g)))
		}
		return t
	}
	level := func(v float64) int { return min(levels-1, int(v/top*levels)) }
	lo, hi := -8.0, 8.0 // log2 of the exponent: the mean falls as it grows
	var table [levels]uint8
	for range 40 {
		mid := (lo + hi) / 2
		table = lut(math.Exp2(mid))
		sum := 0.0
		for _, v := range samples {
			sum += float64(table[level(v)])
		}
		if sum/float64(len(samples))/255 > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	scale := float32(levels) / float32(top)
	var coef [blobs]float32
	for y := range h {
		for k := range blobs {
			coef[k] = amp[k] * gy[k][y] * scale
		}
		row := m.Pix[y*m.Stride : y*m.Stride+w]
		for x := range row {
			var v float32
			for k := range blobs {
				v += coef[k] * gx[k][x]
			}
			row[x] = table[min(levels-1, int(v))]
		}
	}
	return m
}

// MeanIntensity returns a heat map's mean index over 255: the probability it shows.
func MeanIntensity(m *image.Paletted) float64 {
	sum := 0
	for _, v := range m.Pix {
		sum += int(v)
	}
	return float64(sum) / float64(max(1, len(m.Pix))) / 255
}

// Overlay returns the heat map blended over img (of the same size: the input, or its
// Preview with a heat map made at that size from the same seed): where the heat is 0 the input shows
// as it is, where it is 255 the heat colour covers 60% of it.
func Overlay(img image.Image, heat *image.Paletted) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.Black, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over) // transparent parts over black
	var pal [256][3]uint32
	for i, c := range heat.Palette {
		r, g, bl, _ := c.RGBA()
		pal[i] = [3]uint32{r >> 8, g >> 8, bl >> 8}
	}
	for y := range dst.Rect.Dy() {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
		hrow := heat.Pix[y*heat.Stride:]
		for x := 0; x < len(row); x += 4 {
			v := uint32(hrow[x/4])
			a := v * 154 / 255 // at most 60%
			c := pal[v]
			row[x] = uint8((uint32(row[x])*(255-a) + c[0]*a) / 255)
			row[x+1] = uint8((uint32(row[x+1])*(255-a) + c[1]*a) / 255)
			row[x+2] = uint8((uint32(row[x+2])*(255-a) + c[2]*a) / 255)
		}
	}
	return dst
}

// EncodePNG writes img as a PNG, favouring speed over size: the sandbox makes
// full-size heat maps and overlays while a client waits for complete.
func EncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers}
	return enc.Encode(w, img)
}

// pngBuffers lends PNG encoders their compressor: a new one costs about a megabyte
// of zeroed memory, which was a fifth of the server's CPU in a run of small orders
// (bench/lifecycle.sh with 8 x 8 images).
var pngBuffers pngPool

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// AsNRGBA returns img as non-premultiplied RGBA with its origin at 0, 0, reusing its
// pixels when it is one already or an *image.RGBA (un-premultiplied in place, so
// img must not be used after), else a copy: the work on a large image then holds
// one full-size buffer, not two.
func AsNRGBA(img image.Image) *image.NRGBA {
	switch m := img.(type) {
	case *image.NRGBA:
		if m.Rect.Min == (image.Point{}) {
			return m
		}
	case *image.RGBA:
		if m.Rect.Min == (image.Point{}) {
			for y := range m.Rect.Dy() {
				row := m.Pix[y*m.Stride : y*m.Stride+4*m.Rect.Dx()]
				for x := 0; x < len(row); x += 4 {
					switch a := uint32(row[x+3]); a {
					case 255:
					case 0:
						row[x], row[x+1], row[x+2] = 0, 0, 0
					default:
						for c := range 3 {
							row[x+c] = uint8(min(255, (uint32(row[x+c])*255+a/2)/a))
						}
					}
				}
			}
			return &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		}
	}
	return ToNRGBA(img)
}

// ToNRGBA returns a copy of img as non-premultiplied RGBA, with its origin at 0, 0.
func ToNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		// Without transparency, premultiplied and straight alpha are the same bytes;
		// image/draw converts YCbCr, Gray and CMYK to RGBA on a fast path, but to
		// NRGBA pixel by pixel (3 times slower on a photo).
		dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return &image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// asRGBA returns an opaque *image.NRGBA as the *image.RGBA of the same bytes (the
// same image when nothing is transparent), and any other image as it is: image/jpeg
// reads an RGBA on a fast path and an NRGBA pixel by pixel (3 times slower).
func asRGBA(img image.Image) image.Image {
	if m, ok := img.(*image.NRGBA); ok && m.Opaque() {
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	return img
}

// Perturb adds an imperceptible, seeded noise of at most one level to every colour
// channel of img, in place: the anti-AI protection of the sandbox.
func Perturb(img *image.NRGBA, seed uint64) {
	// Each channel moves by perturbStep[2 random bits]: up, down, or not at all.
	// The generator by value, and 6 of its 64 bits per pixel: through rand.Rand's
	// interface, one call per pixel was the largest part of an anti-AI order's work.
	rng := rand.NewPCG(seed, 0x616e7469)
	var bits uint64
	n := 0
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+4*img.Rect.Dx()]
		for x := 0; x < len(row); x += 4 {
			if n == 0 {
				bits, n = rng.Uint64(), 10
			}
			n--
			px := bits
			bits >>= 6
			for c := range 3 { // without branches: a random one is mispredicted half the time
				v := int(row[x+c]) + perturbStep[px>>(2*c)&3]
				row[x+c] = uint8(min(255, max(0, v)))
			}
		}
	}
}

var perturbStep = [4]int{1, -1, 0, 0}

// OutputFormat is the format a protected or watermarked copy of an input of format
// is written in: its own, but a WebP's is a PNG (Go has no WebP encoder, and a
// lossless copy keeps the protection and the watermark intact).
func OutputFormat(format string) string {
	if format == WEBP {
		return PNG
	}
	return format
}

// Encode writes img in format (OutputFormat of the input's). JPEG is written at
// quality 95.
func Encode(w io.Writer, img image.Image, format string) error {
	switch format {
	case JPEG:
		return jpeg.Encode(w, asRGBA(img), &jpeg.Options{Quality: 95})
	case BMP:
		return bmp.Encode(w, img)
	case TIFF:
		return tiff.Encode(w, img, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
	case PNG, WEBP:
		enc := png.Encoder{BufferPool: &pngBuffers}
		return enc.Encode(w, img)
	}
	return errors.New("encode: no encoder for " + format)
}

// DocumentThumbnail is the thumbnail of a PDF: a blank page with a folded corner (the
// sandbox renders no PDF).
func DocumentThumbnail() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 226, ThumbnailSide))
	draw.Draw(m, m.Bounds(), image.NewUniform(color.RGBA{0xdd, 0xdd, 0xdd, 255}), image.Point{}, draw.Src)
	draw.Draw(m, image.Rect(2, 2, 224, ThumbnailSide-2), image.White, image.Point{}, draw.Src)
	for i := range 40 {
		draw.Draw(m, image.Rect(224-40+i, 2, 224, 2+i+1), image.NewUniform(color.RGBA{0xcc, 0xcc, 0xcc, 255}), image.Point{}, draw.Src)
	}
	return m
}

// Textured returns a w x h image with gradients and fine noise, which encoders find
// as hard as a camera's photo: the large input of the benchmarks (a 4000 x 3000 one
// is their 12-megapixel photo).
func Textured(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = uint8(x*255/w), uint8(y*255/h), uint8(96+rng.IntN(64)), 255
		}
	}
	return m
}

// Sample returns a generated 640 x 480 photo-like image (a sky, hills, a sun), the
// same for the same seed: the input of URL-mode orders when the sandbox fetches no
// URL, and of the README's pictures.
func Sample(seed uint64) *image.RGBA {
	const w, h = 640, 480
	rng := rand.New(rand.NewPCG(seed, 0x73616d70))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	sunX, sunY, sunR := 120+rng.Float64()*400, 60+rng.Float64()*120, 30+rng.Float64()*30
	ph1, ph2 := rng.Float64()*6, rng.Float64()*6
	for y := range h {
		for x := range w {
			fx, fy := float64(x), float64(y)
			t := fy / h
			c := [3]float64{70 + 100*t, 130 + 80*t, 230 - 40*t} // sky
			if d := math.Hypot(fx-sunX, fy-sunY); d < sunR {
				c = [3]float64{255, 220, 120}
			}
			hill := 300 + 40*math.Sin(fx/90+ph1) + 20*math.Sin(fx/37+ph2)
			if fy > hill {
				s := (fy - hill) / (h - hill + 1)
				c = [3]float64{60 - 30*s, 140 - 50*s + 10*math.Sin(fx/7), 60 - 20*s}
			}
			o := m.PixOffset(x, y)
			for i := range 3 {
				m.Pix[o+i] = uint8(min(255, max(0, c[i])))
			}
			m.Pix[o+3] = 255
		}
	}
	return m
}
