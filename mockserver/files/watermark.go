package files

// The sandbox's watermark: texts written into the brightness of an image's blocks,
// read back from the pixels alone, with no table of what was embedded where.
//
// The image is cut into square blocks (8, 4, 2 or 1 pixels: the largest that holds
// the message once). Each block carries one bit by quantisation index modulation:
// its mean luminance is moved, by the same shift of R, G and B on every pixel, to the
// nearest multiple of quantStep (bit 0) or odd multiple of quantStep/2 (bit 1). The
// message is a frame, magic + length + texts (each with its own length, so any byte,
// NUL too, may be in a text) + CRC-32, repeated over every block of the image; a
// reader votes each bit over the copies. Texts are never cut: an image too small for
// the whole frame is refused, so what a later extract reads is what was asked for. Lossless re-encodes keep every
// bit; a JPEG at quality 95 moves block means by far less than quantStep/4.

import (
	"encoding/binary"
	"hash/crc32"
	"image"
	"strings"
)

const (
	// wmMagic starts a frame: magic, a 16-bit body length, the body (each text as a
	// 16-bit length and its bytes), CRC-32 of all before it.
	wmMagic = "MMW2"
	// wmMagicV1 started the frames of earlier builds (a length byte, texts joined by
	// NUL, at most 255 bytes): still read, so files they marked keep reading back.
	wmMagicV1   = "MMW1"
	quantStep   = 8.0
	wmFrameFix  = len(wmMagic) + 1 + 4 // the smallest frame: magic, a length byte, CRC-32
	wmSeparator = "\x00"
	// wmMaxBody is the most text bytes a frame carries: the API's 10 texts of 1,000
	// characters, at up to 4 bytes a character, and their lengths, fit.
	wmMaxBody = 0xffff
)

var blockSizes = [...]int{8, 4, 2, 1}

// wmFrame is the frame that carries texts, or an *InputError when they are longer
// together than a frame holds.
func wmFrame(texts []string) ([]byte, error) {
	var body []byte
	for _, t := range texts {
		if len(t) > wmMaxBody {
			return nil, inputErr("watermark text of %d bytes is longer than the service carries", len(t))
		}
		body = binary.BigEndian.AppendUint16(body, uint16(len(t)))
		body = append(body, t...)
	}
	if len(body) > wmMaxBody {
		return nil, inputErr("watermark texts of %d bytes together are longer than the service carries", len(body))
	}
	f := binary.BigEndian.AppendUint16([]byte(wmMagic), uint16(len(body)))
	f = append(f, body...)
	return binary.BigEndian.AppendUint32(f, crc32.ChecksumIEEE(f)), nil
}

// wmFirstText returns the first text of a frame's body (after magic and length).
func wmFirstText(magic string, body []byte) string {
	if magic == wmMagicV1 {
		text, _, _ := strings.Cut(string(body), wmSeparator)
		return text
	}
	if len(body) < 2 {
		return ""
	}
	n := int(binary.BigEndian.Uint16(body))
	return string(body[2:][:min(n, len(body)-2)])
}

// wmHead returns the length of a frame's magic and length field, and its body's length,
// read from its first bytes (ok false when they start no frame).
func wmHead(head []byte) (headLen, bodyLen int, ok bool) {
	switch {
	case len(head) >= len(wmMagic)+2 && string(head[:len(wmMagic)]) == wmMagic:
		return len(wmMagic) + 2, int(binary.BigEndian.Uint16(head[len(wmMagic):])), true
	case len(head) >= len(wmMagicV1)+1 && string(head[:len(wmMagicV1)]) == wmMagicV1:
		return len(wmMagicV1) + 1, int(head[len(wmMagicV1)]), true
	}
	return 0, 0, false
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

// EmbedWatermark writes texts into img's pixels, in place. An image too small to
// hold every text (a frame needs a pixel per bit at least) is left as it is and
// refused with an *InputError that says so.
func EmbedWatermark(img *image.NRGBA, texts []string) error {
	frame, err := wmFrame(texts)
	if err != nil {
		return err
	}
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
		return nil
	}
	return inputErr("image of %d x %d pixels is too small to carry its watermark: its %d bytes need at least %d pixels (one per bit)",
		w, h, len(frame), bits)
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
		head := make([]byte, len(wmMagic)+2)
		for j := range 8 * len(head) {
			head[j/8] |= at(j) << (7 - j%8)
		}
		headLen, bodyLen, ok := wmHead(head)
		if !ok {
			continue
		}
		bits := 8 * (headLen + bodyLen + 4)
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
		if _, _, ok := wmHead(body); !ok || crc32.ChecksumIEEE(body) != sum {
			continue
		}
		return wmFirstText(string(body[:len(wmMagic)]), body[headLen:]), true
	}
	return "", false
}
