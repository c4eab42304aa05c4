package mockserver

// End-to-end tests of the files an order serves, over real sockets: each sandbox is
// served on a free loopback port and driven only through its URLs, as a client would.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/morimock/morimock/mockserver/files"
)

// embedAndDownload runs a watermarkEmbed order for one file and returns the bytes its
// download URL serves.
func (c *sbx) embedAndDownload(name string, data []byte, texts ...string) []byte {
	c.t.Helper()
	var marks []map[string]string
	for _, t := range texts {
		marks = append(marks, map[string]string{"text": t})
	}
	var e created
	c.call(http.MethodPost, "/api/v2/orders/wtr-embed", liveKey, map[string]any{
		"idempotencyKey": "embed-" + name, "files": []map[string]any{{"fileName": name, "watermarks": marks}},
	}, &e)
	c.upload(e.Files[0].UploadURL, data)
	c.settle()
	if d := c.get(liveKey, e.OrderID); d.Status != "complete" {
		c.t.Fatalf("embed of %s: %+v; want complete", name, d)
	}
	var dl struct{ DownloadURL string }
	c.call(http.MethodGet, "/api/v2/orders/"+e.OrderID+"/download", liveKey, nil, &dl)
	res, got := c.do(http.MethodGet, dl.DownloadURL, "", nil)
	c.want(res, got, http.StatusOK, "")
	return got
}

// extract runs a watermarkExtract order for one file and returns the finished order.
func (c *sbx) extract(idem, name string, data []byte) detail {
	c.t.Helper()
	var x created
	c.call(http.MethodPost, "/api/v2/orders/wtr-extract", liveKey, map[string]any{
		"idempotencyKey": idem, "file": map[string]any{"fileName": name},
	}, &x)
	c.upload(x.File.UploadURL, data)
	c.settle()
	return c.get(liveKey, x.OrderID)
}

// TestWatermarkEmbedDownloadExtract: a file downloaded from an embed order is detected
// with its first text by an extract order, as downloaded and after a decode/encode
// round trip through image/png, on the sandbox that embedded it and on another one
// with another seed (so the text comes from the pixels, not from a table).
func TestWatermarkEmbedDownloadExtract(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	a := startSandbox(t, Config{Seed: 1})
	b := startSandbox(t, Config{Seed: 2})
	const first = "MORI-ROUND-TRIP"
	src := testImage(t, files.PNG)
	got := a.embedAndDownload("photo.png", src, first, "second text")
	img, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("download of photo.png is no PNG: %v", err)
	}
	var reencoded bytes.Buffer // another compression than the sandbox's, so other bytes
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&reencoded, img); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(reencoded.Bytes(), got) {
		t.Fatal("the re-encoded PNG has the downloaded bytes; the round trip proves nothing")
	}
	for _, sb := range []struct {
		name string
		c    *sbx
	}{{"same sandbox", a}, {"other seed", b}} {
		for _, f := range []struct {
			name string
			data []byte
		}{{"as downloaded", got}, {"re-encoded", reencoded.Bytes()}} {
			t.Run(sb.name+"/"+f.name, func(t *testing.T) {
				d := sb.c.extract("x-"+strings.ReplaceAll(f.name, " ", "-"), "photo.png", f.data)
				if d.Status != "complete" || d.StatusCode == nil || *d.StatusCode != "detected" || d.WatermarkText == nil || *d.WatermarkText != first {
					t.Errorf("extract = %+v; want complete, detected, watermarkText %q", d, first)
				}
			})
		}
	}
	t.Run("unmarked file", func(t *testing.T) {
		d := b.extract("x-plain", "photo.png", src)
		if d.Status != "complete" || d.StatusCode == nil || *d.StatusCode != "undetected" || d.WatermarkText != nil {
			t.Errorf("extract of a file never embedded = %+v; want complete, undetected, no text", d)
		}
	})
}

// urlOrder creates an anti-AI URL-mode order for one file and returns it finished.
func (c *sbx) urlOrder(idem, sourceURL string) (created, detail) {
	c.t.Helper()
	var o created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", liveKey, map[string]any{
		"idempotencyKey": idem, "files": []map[string]string{{"fileName": "source.jpg", "originalFileUrl": sourceURL}},
	}, &o)
	c.settle()
	return o, c.get(liveKey, o.OrderID)
}

func TestAntiAIURLMode(t *testing.T) {
	t.Parallel() // its own sandboxes and source server
	photo := testImage(t, files.JPEG)
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/photo.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo)
		case "/private.jpg":
			http.Error(w, "forbidden", http.StatusForbidden)
		case "/huge-declared.jpg": // says its size up front
			w.Header().Set("Content-Length", strconv.Itoa(SourceMaxBytes+1))
			w.WriteHeader(http.StatusOK)
		case "/huge-streamed.jpg": // no length: the sandbox must stop reading at 32 MiB
			chunk := make([]byte, 1<<20)
			for range 33 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(source.Close)

	t.Run("fetched", func(t *testing.T) {
		t.Parallel() // its own sandbox
		c := startSandbox(t, Config{FetchSourceURLs: true})
		for _, tc := range []struct {
			path, status, errors string
		}{
			{"/private.jpg", "failed", "source download failed (HTTP 403)"},
			{"/missing.jpg", "failed", "source download failed (HTTP 404)"},
			{"/huge-declared.jpg", "failed", "source download failed (larger than 32 MiB)"},
			{"/huge-streamed.jpg", "failed", "source download failed (larger than 32 MiB)"},
			{"/photo.jpg", "complete", ""},
		} {
			t.Run(tc.path, func(t *testing.T) {
				o, d := c.urlOrder("u"+tc.path, source.URL+tc.path)
				gotErr := ""
				if d.Errors != nil {
					gotErr = *d.Errors
				}
				if d.Status != tc.status || !strings.Contains(gotErr, tc.errors) {
					t.Fatalf("order from %s = %+v (errors %q); want %s with %q", tc.path, d, gotErr, tc.status, tc.errors)
				}
				if tc.status == "complete" {
					checkDownloadSize(t, c, o.OrderID, 96, 64)
				}
			})
		}
	})
	t.Run("sample without --fetch-source-urls", func(t *testing.T) {
		t.Parallel() // its own sandbox
		c := startSandbox(t, Config{})
		o, d := c.urlOrder("u-sample", source.URL+"/private.jpg") // never fetched
		if d.Status != "complete" {
			t.Fatalf("URL-mode order without fetching = %+v; want complete", d)
		}
		checkDownloadSize(t, c, o.OrderID, 640, 480) // files.Sample
	})
}

// checkDownloadSize downloads an anti-AI order's one file and checks it is a JPEG of
// w x h pixels.
func checkDownloadSize(t *testing.T, c *sbx, id string, w, h int) {
	t.Helper()
	var dl struct{ DownloadURL string }
	c.call(http.MethodGet, "/api/v2/orders/"+id+"/download", liveKey, nil, &dl)
	res, got := c.do(http.MethodGet, dl.DownloadURL, "", nil)
	c.want(res, got, http.StatusOK, "")
	img, format, err := image.DecodeConfig(bytes.NewReader(got))
	if err != nil || format != "jpeg" || img.Width != w || img.Height != h {
		t.Errorf("download = %s %d x %d (%v); want a jpeg of %d x %d", format, img.Width, img.Height, err, w, h)
	}
}

// badInput is one upload of the list of bad inputs.
type badInput struct {
	name     string
	fileName string
	body     func() (io.Reader, int64)
	status   string // the order's end: failed or complete
	errors   string // in a failed order's errors
}

func bytesBody(b []byte) func() (io.Reader, int64) {
	return func() (io.Reader, int64) { return bytes.NewReader(b), int64(len(b)) }
}

// TestBadInputs uploads each bad input of the issue to an order of the type that takes
// its file, and checks that every answer is below 500 and that the order ends failed
// with a message, or complete.
func TestBadInputs(t *testing.T) {
	t.Parallel() // its own sandboxes and source server
	pngData := testImage(t, files.PNG)
	var bomb bytes.Buffer // a PNG header claiming 100,000 x 100,000 pixels, and no pixels
	bomb.Write(pngData[:16])
	bomb.Write([]byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0})
	bomb.Write([]byte{0, 0, 0, 0})
	bomb.Write(pngData[33:])
	bombData := bomb.Bytes()
	crc := crc32IEEE(bombData[12:29])
	bombData[29], bombData[30], bombData[31], bombData[32] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)

	gray16 := image.NewGray16(image.Rect(0, 0, 40, 30))
	for i := range gray16.Pix {
		gray16.Pix[i] = uint8(i * 13)
	}
	var png16 bytes.Buffer
	if err := png.Encode(&png16, gray16); err != nil {
		t.Fatal(err)
	}
	var onePixel bytes.Buffer
	png.Encode(&onePixel, image.NewRGBA(image.Rect(0, 0, 1, 1)))
	cmyk, err := os.ReadFile("testdata/cmyk.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	pal := color.Palette{color.Black, color.White}
	var anim bytes.Buffer
	if err := gif.EncodeAll(&anim, &gif.GIF{
		Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 8, 8), pal), image.NewPaletted(image.Rect(0, 0, 8, 8), pal)},
		Delay: []int{10, 10},
	}); err != nil {
		t.Fatal(err)
	}
	const random50MiB = 50 << 20

	for _, tc := range []badInput{
		{"truncated", "a.png", bytesBody(pngData[:len(pngData)/2]), "failed", "is damaged"},
		{"zero bytes", "a.png", bytesBody(nil), "failed", "is empty"},
		{"other format than its name", "a.jpg", bytesBody(pngData), "failed", "named as JPG but its content is PNG"},
		{"100k x 100k PNG header", "bomb.png", bytesBody(bombData), "failed", "100000 x 100000 pixels"},
		{"50 MiB of random bytes, streamed", "noise.jpg", func() (io.Reader, int64) {
			return io.LimitReader(rand.NewChaCha8([32]byte{5}), random50MiB), random50MiB
		}, "failed", "not a JPG image"},
		{"PDF without %PDF-", "doc.pdf", bytesBody([]byte("1 0 obj << >> endobj\n%%EOF\n")), "failed", "has no %PDF- header"},
		{"1 x 1 image", "dot.png", bytesBody(onePixel.Bytes()), "complete", ""},
		{"16-bit PNG", "deep.png", bytesBody(png16.Bytes()), "complete", ""},
		{"CMYK JPEG", "print.jpg", bytesBody(cmyk), "complete", ""},
		{"animated GIF", "anim.png", bytesBody(anim.Bytes()), "failed", "GIF is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each bad input has its own sandbox
			c := startSandbox(t, Config{})
			var uploadURL, id string
			if strings.HasSuffix(tc.fileName, ".pdf") { // only watermark orders take PDFs
				var e created
				c.call(http.MethodPost, "/api/v2/orders/wtr-embed", liveKey, map[string]any{
					"idempotencyKey": "bad", "files": []map[string]any{{"fileName": tc.fileName, "watermarks": []map[string]string{{"text": "T"}}}},
				}, &e)
				uploadURL, id = e.Files[0].UploadURL, e.OrderID
			} else {
				var o created
				c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{
					"idempotencyKey": "bad", "fileName": tc.fileName, "options": map[string]bool{"generateHeatmap": true, "generateOverlay": true, "generateThumbnail": true},
				}, &o)
				uploadURL, id = o.File.UploadURL, o.OrderID
			}
			body, size := tc.body()
			streamPut(t, uploadURL, body, size)
			if !strings.HasSuffix(tc.fileName, ".pdf") {
				c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": id}, nil)
			}
			c.settle()
			d := c.get(liveKey, id)
			gotErr := ""
			if d.Errors != nil {
				gotErr = *d.Errors
			}
			if d.Status != tc.status || (tc.errors != "" && !strings.Contains(gotErr, tc.errors)) {
				t.Fatalf("order = %+v (errors %q); want %s with %q", d, gotErr, tc.status, tc.errors)
			}
			if d.Status == "complete" { // every URL of a processed order serves its image
				urls := c.imageURLs(id)
				for _, field := range []string{"thumbnailImageUrl", "heatmapUrl", "overlayUrl", "originalImageUrl"} {
					u := urls[field]
					if u == "" {
						t.Fatalf("complete order has no %s: %v", field, urls)
					}
					res, got := c.do(http.MethodGet, u, "", nil)
					c.want(res, got, http.StatusOK, "")
					if _, _, err := image.DecodeConfig(bytes.NewReader(got)); err != nil && field != "originalImageUrl" {
						t.Errorf("GET %s: %v; want an image", field, err)
					}
				}
			}
		})
	}
}

// imageURLs returns the non-null URL fields of an order.
func (c *sbx) imageURLs(id string) map[string]string {
	c.t.Helper()
	var d map[string]any
	c.call(http.MethodGet, "/api/v2/orders/"+id, liveKey, nil, &d)
	out := map[string]string{}
	for k, v := range d {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "Url") {
			out[k] = s
		}
	}
	return out
}

// streamPut uploads body to a presigned URL without holding it in memory, and wants a
// 200: the bytes are the order's problem, not the upload's.
func streamPut(t *testing.T, u string, body io.Reader, size int64) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %d bytes: %v", size, err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT %d bytes = %d %s; want 200", size, res.StatusCode, msg)
	}
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// TestOutputFilesAreServedAsStorage: an order's output files answer with the headers of
// a storage service and honour Range and If-None-Match.
func TestOutputFilesAreServedAsStorage(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{
		"idempotencyKey": "h", "fileName": "cat.png", "options": map[string]bool{"generateHeatmap": true, "generateOverlay": true, "generateThumbnail": true},
	}, &o)
	// Sent as curl --data-binary sends it: the original is still served as an image.
	req, _ := http.NewRequest(http.MethodPut, o.File.UploadURL, bytes.NewReader(testImage(t, files.PNG)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, body := sendReq(t, req); res.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %d %s", res.StatusCode, body)
	}
	c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID}, nil)
	c.settle()
	urls := c.imageURLs(o.OrderID)
	id := c.antiAI(liveKey, "a", "shot.jpg", testImage(t, files.JPEG))
	var dl struct{ DownloadURL string }
	c.call(http.MethodGet, "/api/v2/orders/"+id+"/download", liveKey, nil, &dl)

	for _, tc := range []struct {
		name, url, ctype, disposition string
	}{
		{"heatmap", urls["heatmapUrl"], "image/png", `inline; filename=` + o.OrderID + `_heatmap.png`},
		{"overlay", urls["overlayUrl"], "image/png", `inline; filename=` + o.OrderID + `_overlay.png`},
		{"thumbnail", urls["thumbnailImageUrl"], "image/png", `inline; filename=` + o.OrderID + `_thumbnail.png`},
		{"original", urls["originalImageUrl"], "image/png", `inline; filename=cat.png`},
		{"anti-AI download", dl.DownloadURL, "image/jpeg", `attachment; filename=shot.jpg`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, whole := c.do(http.MethodGet, tc.url, "", nil)
			c.want(res, whole, http.StatusOK, "")
			h := res.Header
			for k, want := range map[string]string{
				"Content-Type":        tc.ctype,
				"Content-Length":      strconv.Itoa(len(whole)),
				"Content-Disposition": tc.disposition,
				"Accept-Ranges":       "bytes",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("GET %s: %s = %q; want %q", tc.name, k, got, want)
				}
			}
			etag := h.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || len(etag) < 3 {
				t.Errorf("GET %s: ETag = %q; want a quoted tag", tc.name, etag)
			}

			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			req.Header.Set("Range", "bytes=4-13")
			res, part := sendReq(t, req)
			if res.StatusCode != http.StatusPartialContent || !bytes.Equal(part, whole[4:14]) ||
				res.Header.Get("Content-Range") != fmt.Sprintf("bytes 4-13/%d", len(whole)) {
				t.Errorf("GET %s with Range bytes=4-13 = %d, Content-Range %q, %d bytes; want 206, bytes 4-13/%d, the 10 bytes", tc.name, res.StatusCode, res.Header.Get("Content-Range"), len(part), len(whole))
			}
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", len(whole)+10))
			if res, _ := sendReq(t, req); res.StatusCode != http.StatusRequestedRangeNotSatisfiable {
				t.Errorf("GET %s with a Range past its end = %d; want 416", tc.name, res.StatusCode)
			}
			req.Header.Del("Range")
			req.Header.Set("If-None-Match", etag)
			if res, _ := sendReq(t, req); res.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match its ETag = %d; want 304", tc.name, res.StatusCode)
			}
			req.Header.Del("If-None-Match")
			req.Method = http.MethodHead
			if res, body := sendReq(t, req); res.StatusCode != http.StatusOK || len(body) != 0 || res.Header.Get("Content-Length") != strconv.Itoa(len(whole)) {
				t.Errorf("HEAD %s = %d, %d bytes, Content-Length %q; want 200, no body, %d", tc.name, res.StatusCode, len(body), res.Header.Get("Content-Length"), len(whole))
			}
		})
	}
}

func sendReq(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// TestSameInputSameOutputs: an anti-AI copy depends on the input's bytes and the seed,
// not on the order or the key that asked: the same photo gives the same protected
// bytes in every order (the second from the sandbox's cache of outputs), another photo
// other bytes, and every copy differs from its input.
func TestSameInputSameOutputs(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{})
	photo := testImage(t, files.JPEG)
	other := bytes.Clone(photo)
	other[len(other)/2] ^= 0x10 // one bit in the entropy-coded data: still a JPEG
	protect := func(key, idem string, data []byte) []byte {
		t.Helper()
		id := c.antiAI(key, idem, "shot.jpg", data)
		if d := c.get(key, id); d.Status != "complete" {
			t.Fatalf("order %s = %+v; want complete", id, d)
		}
		var dl struct{ DownloadURL string }
		c.call(http.MethodGet, "/api/v2/orders/"+id+"/download", key, nil, &dl)
		res, got := c.do(http.MethodGet, dl.DownloadURL, "", nil)
		c.want(res, got, http.StatusOK, "")
		return got
	}
	first := protect(liveKey, "a", photo)
	again := protect(liveKey, "b", photo)
	theirs := protect(liveKey2, "a", photo)
	changed := protect(liveKey, "c", other)
	if !bytes.Equal(first, again) || !bytes.Equal(first, theirs) {
		t.Errorf("the same photo protected in three orders gave different bytes (%d, %d, %d)", crc32IEEE(first), crc32IEEE(again), crc32IEEE(theirs))
	}
	if bytes.Equal(first, changed) {
		t.Errorf("two different photos gave the same protected bytes")
	}
	if bytes.Equal(first, photo) {
		t.Errorf("the protected copy is the input itself")
	}
}

// largePNG is a small image in a file over longWorkInputs: a PNG with a text chunk of
// 300 KB (decoders skip it), so a test pays for the bytes, not for pixels.
func largePNG(t testing.TB) []byte { t.Helper(); return largePNGOf(t, 'x') }

// largePNGOf is largePNG with its text made of fill: other bytes, the same pixels.
func largePNGOf(t testing.TB, fill byte) []byte {
	t.Helper()
	small := testImage(t, files.PNG)
	text := append([]byte("Comment\x00"), bytes.Repeat([]byte{fill}, 300_000)...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(text)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, text...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	const ihdrEnd = 8 + 25 // the signature, then IHDR's length, type, 13 bytes and CRC
	var big bytes.Buffer
	big.Write(small[:ihdrEnd])
	big.Write(chunk)
	big.Write(small[ihdrEnd:])
	if _, err := png.Decode(bytes.NewReader(big.Bytes())); err != nil {
		t.Fatalf("the large PNG does not decode: %v", err)
	}
	if big.Len() <= longWorkInputs {
		t.Fatalf("the large input has %d bytes; want over %d", big.Len(), longWorkInputs)
	}
	return big.Bytes()
}

// antiAI creates an anti-AI order of one file named name for key, uploads data,
// confirms the order, waits for its work to end and returns its id.
func (c *sbx) antiAI(key, idem, name string, data []byte) string {
	c.t.Helper()
	var a created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", key, map[string]any{"idempotencyKey": idem, "files": []map[string]string{{"fileName": name}}}, &a)
	c.upload(a.Files[0].UploadURL, data)
	c.call(http.MethodPost, "/api/v2/orders/anti-ai/confirm", key, map[string]string{"idempotencyKey": "c" + idem, "orderId": a.OrderID}, nil)
	c.settle()
	return a.OrderID
}

// TestLongWorkIsAnnounced: Config.LongWork is called around the work of an order whose
// inputs are over longWorkInputs, once to start and once to end, and not for a small
// input.
func TestLongWorkIsAnnounced(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	var mu sync.Mutex
	var calls []bool
	c := startSandbox(t, Config{LongWork: func(start bool) { mu.Lock(); calls = append(calls, start); mu.Unlock() }})
	for i, data := range [][]byte{testImage(t, files.PNG), largePNG(t)} {
		c.antiAI(liveKey, fmt.Sprint("lw", i), "p.png", data)
		mu.Lock()
		got := slices.Clone(calls)
		mu.Unlock()
		want := []bool{true, false}
		if i == 0 {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("LongWork calls after the order with %d bytes = %v; want %v", len(data), got, want)
		}
	}
}
