package files

// PDF watermarks: the texts go into the document information dictionary, written as
// an incremental update (a new Info object, a cross-reference section for it and a
// trailer whose /Prev points at the old one), which leaves every byte of the original
// in place and the file a valid PDF that any reader opens.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

const pdfKey = "/MorimockWatermark"

var (
	pdfStartXref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	pdfRoot      = regexp.MustCompile(`/Root\s+(\d+\s+\d+\s+R)`)
	pdfSize      = regexp.MustCompile(`/Size\s+(\d+)`)
	pdfMark      = regexp.MustCompile(pdfKey + `\s*<([0-9A-Fa-f]*)>`)
)

// CheckPDF reports, as an *InputError, why data is not a PDF the sandbox can embed a
// watermark in: no %PDF- header in its first 1024 bytes, no startxref at its end, or
// no /Root and /Size in a trailer.
func CheckPDF(name string, data []byte) error {
	_, _, _, err := pdfTrailer(name, data)
	return err
}

func pdfTrailer(name string, data []byte) (prev int, root string, size int, err error) {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return 0, "", 0, inputErr("file %s is not a PDF: it has no %%PDF- header", name)
	}
	tail := data[max(0, len(data)-64):]
	m := pdfStartXref.FindSubmatch(tail)
	if m == nil {
		return 0, "", 0, inputErr("file %s is a damaged PDF: it does not end with startxref and %%%%EOF", name)
	}
	prev, err = strconv.Atoi(string(m[1]))
	if err != nil || prev >= len(data) {
		return 0, "", 0, inputErr("file %s is a damaged PDF: its startxref points outside the file", name)
	}
	roots, sizes := pdfRoot.FindAllSubmatch(data, -1), pdfSize.FindAllSubmatch(data, -1)
	if len(roots) == 0 || len(sizes) == 0 {
		return 0, "", 0, inputErr("file %s is a damaged PDF: no trailer names its /Root and /Size", name)
	}
	size, err = strconv.Atoi(string(sizes[len(sizes)-1][1]))
	if err != nil || size < 1 || size > 1<<23 {
		return 0, "", 0, inputErr("file %s is a damaged PDF: bad /Size", name)
	}
	return prev, string(roots[len(roots)-1][1]), size, nil
}

// EmbedPDFWatermark returns data with texts in its document information (and a
// standard /Keywords entry a reader shows), appended as an incremental update.
func EmbedPDFWatermark(name string, data []byte, texts []string) ([]byte, error) {
	prev, root, size, err := pdfTrailer(name, data)
	if err != nil {
		return nil, err
	}
	frame := strings.Join(texts, wmSeparator)
	var b bytes.Buffer
	b.Write(data)
	if !bytes.HasSuffix(data, []byte("\n")) {
		b.WriteByte('\n')
	}
	obj := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Producer (morimock sandbox) /Keywords <%s> %s <%s> >>\nendobj\n",
		size, utf16Hex(strings.Join(texts, ", ")), pdfKey, hex.EncodeToString([]byte(frame)))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		size, obj, size+1, root, size, prev, xref)
	return b.Bytes(), nil
}

// utf16Hex is a PDF text string in UTF-16BE with its byte-order mark, as hex.
func utf16Hex(s string) string {
	out := []byte{0xfe, 0xff}
	for _, r := range s {
		if r > 0xffff {
			r1, r2 := 0xd800+((r-0x10000)>>10), 0xdc00+((r-0x10000)&0x3ff)
			out = append(out, byte(r1>>8), byte(r1), byte(r2>>8), byte(r2))
			continue
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return hex.EncodeToString(out)
}

// ReadPDFWatermark returns the first text of the last sandbox watermark in a PDF,
// and whether it has one.
func ReadPDFWatermark(data []byte) (string, bool) {
	ms := pdfMark.FindAllSubmatch(data, -1)
	if len(ms) == 0 {
		return "", false
	}
	raw, err := hex.DecodeString(string(ms[len(ms)-1][1]))
	if err != nil {
		return "", false
	}
	text, _, _ := strings.Cut(string(raw), wmSeparator)
	return text, text != ""
}
