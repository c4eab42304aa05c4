package files

// The sandbox's watermark: texts written into the brightness of an image's blocks,
// read back from the pixels alone, with no table of what was embedded where.
//
// The image is cut into square blocks (8, 4, 2 or 1 pixels: the largest that holds
// the message once). Each block carries one bit by quantisation index modulation:
// its mean luminance is moved, by the same shift of R, G and B on every pixel, to the
// nearest multiple of quantStep (bit 0) or odd multiple of quantStep/2 (bit 1). The
// message is a frame, magic + length + texts + CRC-32, repeated over every block of
// the image; a reader votes each bit over the copies. Lossless re-encodes keep every
// bit; a JPEG at quality 95 moves block means by far less than quantStep/4.

import (
	"encoding/binary"
	"hash/crc32"
	"image"
	"strings"
)

const (
	wmMagic     = "MMW1"
	quantStep   = 8.0
	wmMaxText   = 255
	wmFrameFix  = len(wmMagic) + 1 + 4 // magic, length byte, CRC-32
	wmSeparator = "\x00"
)

var blockSizes = [...]int{8, 4, 2, 1}

func wmFrame(texts []string) []byte {
	text := strings.Join(texts, wmSeparator)
	if len(text) > wmMaxText {
		text = text[:wmMaxText]
	}
	f := append([]byte(wmMagic), byte(len(text)))
	f = append(f, text...)
	return binary.BigEndian.AppendUint32(f, crc32.ChecksumIEEE(f))
}

// luma is the block brightness the watermark lives in: BT.601 luminance, which a
// JPEG keeps in its Y channel.
func luma(p []uint8) float64 {
	return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
}

func blockMean(img *image.NRGBA, x0, y0, b int) float64 {
	sum := 0.0
	for y := y0; y < y0+b; y++ {
		o := img.PixOffset(x0, y)
		for x := 0; x < b; x++ {
			sum += luma(img.Pix[o+4*x:])
		}
	}
	return sum / float64(b*b)
}

// EmbedWatermark writes texts into img's pixels, in place, and reports whether the
// image was large enough to hold them (a frame needs a block per bit; texts longer
// than 255 bytes together are cut).
func EmbedWatermark(img *image.NRGBA, texts []string) bool {
	frame := wmFrame(texts)
	bits := 8 * len(frame)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for _, b := range blockSizes {
		gw, gh := w/b, h/b
		if gw*gh < bits {
			continue
		}
		for i := range gw * gh {
			j := i % bits
			bit := frame[j/8] >> (7 - j%8) & 1
			setBlock(img, (i%gw)*b, (i/gw)*b, b, bit)
		}
		return true
	}
	return false
}

// setBlock moves a block's mean luminance into the cell of bit, shifting every
// pixel's R, G and B alike; saturated pixels cannot move, so it tries until the mean is in place.
func setBlock(img *image.NRGBA, x0, y0, b int, bit byte) {
	for range 32 {
		m := blockMean(img, x0, y0, b)
		off := float64(bit) * quantStep / 2
		k := float64(int((m-off)/quantStep + 0.5))
		target := k*quantStep + off
		if target > 255 {
			target -= quantStep
		}
		if target < 0 {
			target += quantStep
		}
		d := target - m
		if d > -quantStep/8 && d < quantStep/8 {
			return
		}
		shift := int(d + 0.5)
		if d < 0 {
			shift = int(d - 0.5)
		}
		for y := y0; y < y0+b; y++ {
			o := img.PixOffset(x0, y)
			for x := 0; x < 4*b; x += 4 {
				for c := range 3 {
					img.Pix[o+x+c] = uint8(min(255, max(0, int(img.Pix[o+x+c])+shift)))
				}
			}
		}
	}
}

func readBit(img *image.NRGBA, x0, y0, b int) byte {
	m := blockMean(img, x0, y0, b)
	r := m - quantStep*float64(int(m/quantStep))
	if r >= quantStep/4 && r < 3*quantStep/4 {
		return 1
	}
	return 0
}

// ReadWatermark returns the first text of a sandbox watermark in img's pixels, and
// whether there is one (its frame and checksum read back intact).
func ReadWatermark(img image.Image) (string, bool) {
	n, ok := img.(*image.NRGBA)
	if !ok || n.Rect.Min != (image.Point{}) {
		n = ToNRGBA(img)
	}
	w, h := n.Rect.Dx(), n.Rect.Dy()
	for _, b := range blockSizes {
		gw, gh := w/b, h/b
		blocks := gw * gh
		if blocks < 8*wmFrameFix {
			continue
		}
		at := func(i int) byte { return readBit(n, (i%gw)*b, (i/gw)*b, b) }
		// The header from the first copy gives the frame's length ...
		head := make([]byte, len(wmMagic)+1)
		for j := range 8 * len(head) {
			head[j/8] |= at(j) << (7 - j%8)
		}
		if string(head[:len(wmMagic)]) != wmMagic {
			continue
		}
		bits := 8 * (wmFrameFix + int(head[len(wmMagic)]))
		if bits > blocks {
			continue
		}
		// ... and every copy votes on each bit.
		frame := make([]byte, bits/8)
		copies := blocks / bits
		for j := range bits {
			ones := 0
			for k := range copies {
				ones += int(at(k*bits + j))
			}
			if 2*ones > copies {
				frame[j/8] |= 1 << (7 - j%8)
			}
		}
		body, sum := frame[:len(frame)-4], binary.BigEndian.Uint32(frame[len(frame)-4:])
		if string(body[:len(wmMagic)]) != wmMagic || crc32.ChecksumIEEE(body) != sum {
			continue
		}
		text, _, _ := strings.Cut(string(body[len(wmMagic)+1:]), wmSeparator)
		return text, true
	}
	return "", false
}
