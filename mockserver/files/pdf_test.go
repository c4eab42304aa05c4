package files_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/morimock/morimock/mockserver/files"
)

// pdfOf writes objects (numbered from first) and ends with an xref section and the
// trailer dictionary trailer, after head (the file so far, or "%PDF-1.7\n").
func pdfOf(head string, first int, trailer string, objs ...string) string {
	var b strings.Builder
	b.WriteString(head)
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", first+i, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n%d %d\n", first, len(objs))
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n%s\nstartxref\n%d\n%%%%EOF\n", trailer, x)
	return b.String()
}

var lastTrailer = regexp.MustCompile(`trailer\n(<<[^\n]*>>)\nstartxref\n\d+\n%%EOF\n$`)

func TestPDFWatermarkKeepsTheDocument(t *testing.T) {
	base := pdfOf("%PDF-1.7\n", 1, "<< /Size 5 /Root 1 0 R /Info 4 0 R /ID [<0A0B><0C0D>] >>",
		"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
		"<< /Title (Q3 report \\(draft\\)) /Author <FEFF00E9> /Keywords (old) /CreationDate (D:20260101) /Trapped /False >>")
	// An incremental update that changes the Info (a newer version of object 4).
	updated := pdfOf(base, 4, fmt.Sprintf("<< /Size 5 /Root 1 0 R /Info 4 0 R /ID [<0A0B><0E0F>] /Prev %d >>", strings.LastIndex(base, "xref\n")),
		"<< /Title (Final) /Author <FEFF00E9> /Subject (numbers) >>")
	// A linearized-like layout: the first-page trailer (at the start) has the larger
	// /Size; the main trailer at the end a smaller one, as ISO 32000 Annex F lays out.
	lin := pdfOf("%PDF-1.7\n", 5, "<< /Size 7 /Root 5 0 R /Info 6 0 R /ID [<AA><BB>] >>",
		"<< /Type /Catalog /Pages 1 0 R >>", "<< /Title (Linear) >>")
	lin = strings.TrimSuffix(lin, "%%EOF\n") + "%%EOF\n" + pdfOf("", 1, "<< /Size 4 >>",
		"<< /Type /Pages /Kids [2 0 R] /Count 1 >>", "<< /Type /Page /Parent 1 0 R >>", "<< /Linearized 1 >>")
	for _, c := range []struct {
		name, pdf  string
		obj        int
		id         string
		keep, drop []string
	}{
		{"plain", base, 5, "/ID [<0A0B><0C0D>]", []string{"/Title (Q3 report \\(draft\\))", "/Author <FEFF00E9>", "/CreationDate (D:20260101)", "/Trapped /False"}, []string{"(old)"}},
		{"incremental update", updated, 5, "/ID [<0A0B><0E0F>]", []string{"/Title (Final)", "/Subject (numbers)"}, []string{"Q3 report"}},
		{"linearized", lin, 7, "/ID [<AA><BB>]", []string{"/Title (Linear)"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := files.EmbedPDFWatermark("f.pdf", []byte(c.pdf), []string{"MORI-001"})
			if err != nil {
				t.Fatal(err)
			}
			tail := string(out[len(c.pdf):])
			if !strings.HasPrefix(tail, fmt.Sprintf("%d 0 obj\n", c.obj)) {
				t.Errorf("the update starts %q; want object %d, the largest /Size", tail[:min(12, len(tail))], c.obj)
			}
			m := lastTrailer.FindStringSubmatch(tail)
			if m == nil {
				t.Fatalf("no trailer at the end of %q", tail)
			}
			want := fmt.Sprintf("/Size %d ", c.obj+1)
			if !strings.Contains(m[1], want) || !strings.Contains(m[1], c.id) || !strings.Contains(m[1], fmt.Sprintf("/Info %d 0 R", c.obj)) {
				t.Errorf("trailer %s; want %s, /Info %d 0 R and %s", m[1], want, c.obj, c.id)
			}
			info := tail[:strings.Index(tail, "endobj")]
			for _, k := range c.keep {
				if !strings.Contains(info, k) {
					t.Errorf("new Info %q lost %s", info, k)
				}
			}
			for _, k := range c.drop {
				if strings.Contains(info, k) {
					t.Errorf("new Info %q keeps %s", info, k)
				}
			}
			if strings.Count(info, "/Keywords") != 1 {
				t.Errorf("new Info %q: want one /Keywords", info)
			}
			if got, ok := files.ReadPDFWatermark(out); !ok || got != "MORI-001" {
				t.Errorf("ReadPDFWatermark = %q, %v", got, ok)
			}
		})
	}
}

func TestPDFWatermarkRefusesEncrypted(t *testing.T) {
	enc := pdfOf("%PDF-1.7\n", 1, "<< /Size 3 /Root 1 0 R /Encrypt 2 0 R /ID [<01><02>] >>",
		"<< /Type /Catalog >>", "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>")
	_, err := files.EmbedPDFWatermark("secret.pdf", []byte(enc), []string{"x"})
	var ie *files.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "encrypted") {
		t.Errorf("EmbedPDFWatermark(encrypted) = %v; want an InputError naming encryption", err)
	}
}
