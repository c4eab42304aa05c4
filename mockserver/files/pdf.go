package files

// PDF watermarks: the texts go into the document information dictionary, written as
// an incremental update (a new Info object, a cross-reference section for it and a
// trailer whose /Prev points at the old one), which leaves every byte of the original
// in place and the file a valid PDF that any reader opens. The update keeps what the
// file's trailers say about it: the new object takes the number after the largest
// /Size of any trailer or cross-reference stream (a linearized file's first-page
// trailer has the larger one), /ID is carried over, and the entries of the old
// document information (Title, Author, ...) are kept in the new one. Encrypted PDFs
// are refused: their strings would have to be encrypted too.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
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
	pdfInfo      = regexp.MustCompile(`/Info\s+(\d+)\s+(\d+)\s+R`)
	pdfID        = regexp.MustCompile(`/ID\s*\[[^\]]*\]`)
	pdfEncrypt   = regexp.MustCompile(`/Encrypt\b`)
	// pdfOwnKeys are the entries of the information dictionary the watermark writes;
	// an old value of one of them is replaced, every other entry is kept.
	pdfOwnKeys = regexp.MustCompile(`^/(Keywords|MorimockWatermark|Producer)\b`)
)

// pdfFile is what the watermark writer needs from a PDF's trailers.
type pdfFile struct {
	prev int    // the last cross-reference section's offset (startxref)
	root string // "n g R" of the catalog
	size int    // the largest /Size: the first free object number
	id   string // the trailer's /ID entry as written, or ""
	info string // the body of the old document information dictionary, or ""
}

// CheckPDF reports, as an *InputError, why data is not a PDF the sandbox can embed a
// watermark in: no %PDF- header in its first 1024 bytes, no startxref at its end, or
// no /Root and /Size in a trailer.
func CheckPDF(name string, data []byte) error {
	_, err := readPDF(name, data)
	return err
}

func readPDF(name string, data []byte) (pdfFile, error) {
	var f pdfFile
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return f, inputErr("file %s is not a PDF: it has no %%PDF- header", name)
	}
	tail := data[max(0, len(data)-64):]
	m := pdfStartXref.FindSubmatch(tail)
	if m == nil {
		return f, inputErr("file %s is a damaged PDF: it does not end with startxref and %%%%EOF", name)
	}
	prev, err := strconv.Atoi(string(m[1]))
	if err != nil || prev >= len(data) {
		return f, inputErr("file %s is a damaged PDF: its startxref points outside the file", name)
	}
	f.prev = prev
	roots, sizes := pdfRoot.FindAllSubmatch(data, -1), pdfSize.FindAllSubmatch(data, -1)
	if len(roots) == 0 || len(sizes) == 0 {
		return f, inputErr("file %s is a damaged PDF: no trailer names its /Root and /Size", name)
	}
	// Every object of the file is numbered below every trailer's /Size; the largest
	// is the one of the whole file (in a linearized file the last in file order is
	// the main trailer's smaller one).
	for _, sm := range sizes {
		n, err := strconv.Atoi(string(sm[1]))
		if err != nil || n < 1 || n > 1<<23 {
			return f, inputErr("file %s is a damaged PDF: bad /Size", name)
		}
		f.size = max(f.size, n)
	}
	if pdfEncrypt.Match(data) {
		return f, inputErr("file %s is an encrypted PDF; the service cannot add a watermark to an encrypted document (remove its password first)", name)
	}
	f.root = string(roots[len(roots)-1][1])
	if ids := pdfID.FindAll(data, -1); len(ids) > 0 {
		f.id = string(ids[len(ids)-1])
	}
	if infos := pdfInfo.FindAllSubmatch(data, -1); len(infos) > 0 {
		last := infos[len(infos)-1]
		f.info = pdfObjectDict(data, string(last[1]), string(last[2]))
	}
	return f, nil
}

// pdfObjectDict returns the inside of the dictionary of the last object num gen in
// data (the newest version of it), or "" when there is none in plain sight (an
// object in an object stream, say: its entries are then not carried over).
func pdfObjectDict(data []byte, num, gen string) string {
	re, err := regexp.Compile(`(?:^|[\r\n\s])` + num + `\s+` + gen + `\s+obj\s*<<`)
	if err != nil {
		return ""
	}
	locs := re.FindAllIndex(data, -1)
	if len(locs) == 0 {
		return ""
	}
	start := locs[len(locs)-1][1]
	// Find the matching >>, skipping nested dictionaries, strings and hex strings.
	depth := 1
	for i := start; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '(':
			i = pdfStringEnd(data, i)
		case c == '<' && i+1 < len(data) && data[i+1] == '<':
			depth++
			i++
		case c == '>' && i+1 < len(data) && data[i+1] == '>':
			depth--
			if depth == 0 {
				return string(data[start:i])
			}
			i++
		case c == '<':
			j := bytes.IndexByte(data[i:], '>')
			if j < 0 {
				return ""
			}
			i += j
		}
	}
	return ""
}

// pdfStringEnd returns the index of the ')' closing the literal string opened at
// s[open], minding nested parentheses and backslash escapes, or len(s) when the
// string is never closed.
func pdfStringEnd[T string | []byte](s T, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s)
}

// pdfKeptEntries returns the entries of an information dictionary's body but those
// the watermark writes, as written: "/Title (A) /Author <FEFF...>".
func pdfKeptEntries(body string) string {
	var kept []string
	// Entries start at a name at depth 0; split there.
	depth, from := 0, -1
	flush := func(to int) {
		if from >= 0 {
			if e := strings.TrimSpace(body[from:to]); e != "" && !pdfOwnKeys.MatchString(e) {
				kept = append(kept, e)
			}
		}
	}
	keyNext := true
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '(':
			i = pdfStringEnd(body, i)
			if depth == 0 {
				keyNext = true
			}
		case c == '<' && i+1 < len(body) && body[i+1] == '<', c == '[':
			depth++
		case c == '>' && i+1 < len(body) && body[i+1] == '>', c == ']':
			depth--
			if depth == 0 {
				keyNext = true
			}
		case c == '/' && depth == 0:
			if keyNext {
				flush(i)
				from = i
				keyNext = false
			} else {
				keyNext = true // a name value; the next name is a key
				j := i + 1
				for j < len(body) && !strings.ContainsRune(" \t\r\n/<>[]()", rune(body[j])) {
					j++
				}
				i = j - 1
			}
		case depth == 0 && !keyNext && !strings.ContainsRune(" \t\r\n", rune(c)):
			// a number, a boolean or a reference: the value ends at the next key.
			keyNext = true
			for i+1 < len(body) && body[i+1] != '/' {
				i++
			}
		}
	}
	flush(len(body))
	return strings.Join(kept, " ")
}

// EmbedPDFWatermark returns data with texts in its document information (and a
// standard /Keywords entry a reader shows), appended as an incremental update.
func EmbedPDFWatermark(name string, data []byte, texts []string) ([]byte, error) {
	pf, err := readPDF(name, data)
	if err != nil {
		return nil, err
	}
	frame, err := wmFrame(texts)
	if err != nil {
		return nil, err
	}
	size := pf.size
	kept := ""
	if e := pdfKeptEntries(pf.info); e != "" {
		kept = e + " "
	}
	id := ""
	if pf.id != "" {
		id = " " + pf.id
	}
	var b bytes.Buffer
	b.Write(data)
	if !bytes.HasSuffix(data, []byte("\n")) {
		b.WriteByte('\n')
	}
	obj := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< %s/Producer (morimock sandbox) /Keywords <%s> %s <%s> >>\nendobj\n",
		size, kept, utf16Hex(strings.Join(texts, ", ")), pdfKey, hex.EncodeToString(frame))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Info %d 0 R%s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		size, obj, size+1, pf.root, size, id, pf.prev, xref)
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
	// A frame as in an image; earlier builds wrote the texts joined by NUL.
	if headLen, bodyLen, ok := wmHead(raw); ok && len(raw) == headLen+bodyLen+4 &&
		string(raw[:len(wmMagic)]) == wmMagic &&
		crc32.ChecksumIEEE(raw[:len(raw)-4]) == binary.BigEndian.Uint32(raw[len(raw)-4:]) {
		return wmFirstText(wmMagic, raw[headLen:len(raw)-4]), true
	}
	text, _, _ := strings.Cut(string(raw), wmSeparator)
	return text, text != ""
}
