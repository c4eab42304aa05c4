package mockserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/syncbuf"
	"github.com/morimock/morimock/mockserver/files"
)

// streamedPixels is testBufferedPixels for the tests of streamed outputs, and
// bigFlatPNG an image over it that costs little to code: its heat map and overlay
// are streamed to the store, not held.
const streamedPixels = 100 * 100

func bigFlatPNG(t testing.TB) []byte {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, 160, 120))
	for i := range m.Pix {
		m.Pix[i] = uint8(i / 160)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if m.Bounds().Dx()*m.Bounds().Dy() <= streamedPixels {
		t.Fatal("the big image is small enough to be buffered")
	}
	return b.Bytes()
}

// aiDetect runs an aiDetection order with every output for data and returns the bytes
// of its thumbnail, heat map and overlay.
func (c *sbx) aiDetect(idem, name string, data []byte) map[string][]byte {
	c.t.Helper()
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{
		"idempotencyKey": idem, "fileName": name, "options": map[string]bool{"generateHeatmap": true, "generateOverlay": true, "generateThumbnail": true},
	}, &o)
	c.upload(o.File.UploadURL, data)
	c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c" + idem, "orderId": o.OrderID}, nil)
	c.settle()
	if d := c.get(liveKey, o.OrderID); d.Status != "complete" {
		c.t.Fatalf("aiDetection of %s = %+v; want complete", name, d)
	}
	out := map[string][]byte{}
	for field, u := range c.imageURLs(o.OrderID) {
		if field == "originalImageUrl" {
			continue
		}
		res, body := c.do(http.MethodGet, u, "", nil)
		c.want(res, body, http.StatusOK, "")
		out[field] = body
	}
	if len(out) != 3 {
		c.t.Fatalf("aiDetection of %s served %d files; want a thumbnail, a heat map and an overlay", name, len(out))
	}
	return out
}

// TestImageProcessMakesTheSameFiles: an image worker process makes the bytes the
// server itself makes for the same seed and inputs (a heat map streamed to the store,
// an anti-AI copy, a watermark read back by an extract order), and the orders end as
// they do in the server.
func TestImageProcessMakesTheSameFiles(t *testing.T) {
	t.Parallel() // its own servers; shares only the read-only spec
	inline := startSandbox(t, Config{Seed: 7, testBufferedPixels: streamedPixels})
	proc := startSandbox(t, Config{Seed: 7, ImageProcess: testImageProcess("serve"), testBufferedPixels: streamedPixels})
	big := bigFlatPNG(t)
	want, got := inline.aiDetect("big", "big_ai.png", big), proc.aiDetect("big", "big_ai.png", big) // _ai: the same probability
	for field, b := range want {
		if !bytes.Equal(got[field], b) {
			t.Errorf("%s from the worker process: %d bytes, crc %08x; the server made %d, crc %08x", field, len(got[field]), crc32IEEE(got[field]), len(b), crc32IEEE(b))
		}
	}
	photo := testImage(t, files.JPEG)
	dl := func(c *sbx) []byte {
		id := c.antiAI(liveKey, "a", "shot.jpg", photo)
		var d struct{ DownloadURL string }
		c.call(http.MethodGet, "/api/v2/orders/"+id+"/download", liveKey, nil, &d)
		res, body := c.do(http.MethodGet, d.DownloadURL, "", nil)
		c.want(res, body, http.StatusOK, "")
		return body
	}
	if a, b := dl(inline), dl(proc); !bytes.Equal(a, b) {
		t.Errorf("anti-AI copy from the worker process differs from the server's (%d and %d bytes)", len(b), len(a))
	}
	marked := proc.embedAndDownload("photo.png", testImage(t, files.PNG), "FROM-A-PROCESS")
	if d := proc.extract("x", "photo.png", marked); d.StatusCode == nil || *d.StatusCode != "detected" || d.WatermarkText == nil || *d.WatermarkText != "FROM-A-PROCESS" {
		t.Errorf("extract of a file marked in a worker process = %+v; want detected, FROM-A-PROCESS", d)
	}
	var o created
	proc.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "bad", "fileName": "bad.png"}, &o)
	proc.upload(o.File.UploadURL, []byte("not a png at all"))
	proc.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "cbad", "orderId": o.OrderID}, nil)
	proc.settle()
	if d := proc.get(liveKey, o.OrderID); d.Status != "failed" || d.Errors == nil || *d.Errors == processFailed {
		t.Errorf("order of a file that is no image, in a worker process = %+v; want failed with the decoder's message", d)
	}
}

// TestImageProcessThatDiesFailsItsOrder: a worker process that ends in the middle of
// a job (a crash, the out-of-memory killer) is logged and the job starts over in a
// new process; a second end in the same job is the input's doing and fails its order
// with a message. The next order gets a new process.
func TestImageProcessThatDiesFailsItsOrder(t *testing.T) {
	t.Parallel() // its own servers; share only the read-only spec
	// sandbox runs its processes in the modes given, then "serve".
	sandbox := func(modes ...string) (*sbx, *atomic.Int32, *syncbuf.Buffer) {
		var started atomic.Int32
		var logs syncbuf.Buffer
		c := startSandbox(t, Config{
			ImageProcess: func() *exec.Cmd {
				if n := int(started.Add(1)); n <= len(modes) {
					return testImageProcess(modes[n-1])()
				}
				return testImageProcess("serve")()
			},
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		return c, &started, &logs
	}
	photo := testImage(t, files.PNG)

	c, started, logs := sandbox("die")
	if d := c.get(liveKey, c.antiAI(liveKey, "once", "p.png", photo)); d.Status != "complete" {
		t.Errorf("order whose worker process died once = %+v; want complete, from a second process", d)
	}
	if n := started.Load(); n != 2 {
		t.Errorf("%d worker processes started for an order whose first one died; want 2", n)
	}
	if !strings.Contains(logs.String(), "ended in the middle of a job") {
		t.Errorf("the log does not say a worker process ended:\n%s", logs.String())
	}

	c, started, _ = sandbox("die", "die")
	if d := c.get(liveKey, c.antiAI(liveKey, "twice", "p.png", photo)); d.Status != "failed" || d.Errors == nil || *d.Errors != processFailed {
		t.Errorf("order whose worker process died twice = %+v; want failed, %q", d, processFailed)
	}
	if d := c.get(liveKey, c.antiAI(liveKey, "after", "q.png", largePNGOf(t, 'z'))); d.Status != "complete" {
		t.Errorf("the order after = %+v; want complete", d)
	}
	if n := started.Load(); n != 3 {
		t.Errorf("%d worker processes started; want 3", n)
	}
}

// TestImageProcessOfAnotherBuild: a process that does not say workHello (another
// build's, another program) is not used: the worker says so once and processes its
// images itself.
func TestImageProcessOfAnotherBuild(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	var logs syncbuf.Buffer
	c := startSandbox(t, Config{
		ImageProcess: testImageProcess("stranger"),
		Logger:       slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if d := c.get(liveKey, c.antiAI(liveKey, "s", "p.png", testImage(t, files.PNG))); d.Status != "complete" {
		t.Errorf("order with a stranger for a worker process = %+v; want complete", d)
	}
	if !strings.Contains(logs.String(), "could not be started") || !strings.Contains(logs.String(), "image-worker 0") {
		t.Errorf("the log does not say the process was another build's:\n%s", logs.String())
	}
}

// TestImageWorkProtocolCutShort: a worker process whose answer ends in the middle of
// a frame is an error of the job, never a hang or a panic; a worker process given a
// stream cut inside a job says so.
func TestImageWorkProtocolCutShort(t *testing.T) {
	t.Parallel()
	job := imageJob{Type: "aiDetection", Name: "p.png", Format: files.PNG, Thumbnail: true, Heatmap: true}
	var answer bytes.Buffer
	in := jobBytes(t, job, testImage(t, files.PNG))
	if err := ServeImageWork(bytes.NewReader(in), &answer); err != nil {
		t.Fatalf("ServeImageWork of one job: %v", err)
	}
	full := answer.Bytes()
	for _, n := range []int{0, 1, 5, 20, len(full) / 2, len(full) - 1} {
		p := &imageProc{out: bufio.NewReader(bytes.NewReader(full[:n]))}
		_, err := p.answer(job, func(name string, pixels int, encode func(io.Writer) error) error { return encode(io.Discard) })
		if err == nil {
			t.Errorf("an answer cut after %d of %d bytes read without an error", n, len(full))
		}
	}
	for _, n := range []int{3, 10, len(in) - 1} {
		err := ServeImageWork(bytes.NewReader(in[:n]), io.Discard)
		if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ServeImageWork of a job cut after %d of %d bytes = %v; want an unexpected EOF", n, len(in), err)
		}
	}
}

// TestImageWorkAnswerOutOfBounds: an answer with an output the job does not make, or
// an output larger than maxOutput, is an error of the job, not stored.
func TestImageWorkAnswerOutOfBounds(t *testing.T) {
	t.Parallel()
	job := imageJob{Type: "aiDetection", Index: 0, Thumbnail: true}
	answer := func(name string, size int) error {
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		if err := writeOutput(bw, name, 1, func(w io.Writer) error {
			for n := size; n > 0; n -= maxFrame {
				if _, err := w.Write(make([]byte, min(n, maxFrame))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		bw.WriteString("R\x00\x00\x00\x02{}") // and a result: the answer is whole
		bw.Flush()
		p := &imageProc{out: bufio.NewReader(&b)}
		stored := map[string]int{}
		_, err := p.answer(job, func(name string, pixels int, encode func(io.Writer) error) error {
			var c countWriter
			err := encode(&c)
			stored[name] = int(c)
			return err
		})
		if err == nil {
			t.Errorf("answer with output %q of %d bytes: no error (stored %v)", name, size, stored)
		}
		return err
	}
	answer("heatmap.png", 10)     // the job makes no heat map
	answer("../../etc/passwd", 1) // nor anything outside its names
	answer("out/1", 1)            // nor another file's output
	if err := answerOK(job, blobThumbnail); err != nil {
		t.Errorf("answer with the job's thumbnail: %v", err)
	}

	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	writeOutput(bw, blobThumbnail, 1, func(w io.Writer) error { _, err := w.Write(make([]byte, 3000)); return err })
	bw.Flush()
	var c countWriter
	if err := readOutput(bufio.NewReader(bytes.NewReader(b.Bytes()[1+2+len(blobThumbnail)+8:])), &c, 2999); err == nil {
		t.Errorf("an output of 3000 bytes read with a bound of 2999: no error")
	}
	c = 0
	if err := readOutput(bufio.NewReader(bytes.NewReader(b.Bytes()[1+2+len(blobThumbnail)+8:])), &c, 3000); err != nil || c != 3000 {
		t.Errorf("an output of 3000 bytes read with a bound of 3000: %d bytes, %v", c, err)
	}
}

// answerOK reads a whole answer with one output named name.
func answerOK(job imageJob, name string) error {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	writeOutput(bw, name, 1, func(w io.Writer) error { _, err := w.Write([]byte("png")); return err })
	bw.WriteString("R\x00\x00\x00\x02{}")
	bw.Flush()
	p := &imageProc{out: bufio.NewReader(&b)}
	_, err := p.answer(job, func(name string, pixels int, encode func(io.Writer) error) error { return encode(io.Discard) })
	return err
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// jobBytes is job and its input as the server sends them.
func jobBytes(t *testing.T, job imageJob, input []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writeJob(&b, job, bytes.NewReader(input), int64(len(input))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBusyRate: busy is busyRequests a busyTick or faster, over the time the requests
// took: a tick read late and the next read just after it see few requests in little
// time, which is as busy.
func TestBusyRate(t *testing.T) {
	for _, tt := range []struct {
		n       uint64
		elapsed time.Duration
		want    bool
	}{
		{busyRequests, busyTick, true},
		{busyRequests - 1, busyTick, false},
		{1, busyTick / busyRequests, true},        // a tick read just after a late one
		{1, 2 * busyTick / busyRequests, false},   // half the rate
		{3 * busyRequests, 3 * busyTick, true},    // a tick read late
		{3*busyRequests - 1, 3 * busyTick, false}, // just under the rate over it
		{0, 0, false},
		{1, 0, true},
	} {
		if got := busyRate(tt.n, tt.elapsed); got != tt.want {
			t.Errorf("busyRate(%d, %v) = %v; want %v", tt.n, tt.elapsed, got, tt.want)
		}
	}
}

// TestImageProcessThatCannotStart: a worker whose process cannot be started (no such
// program) says so once and processes its images itself: small and large orders
// complete.
func TestImageProcessThatCannotStart(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	var logs syncbuf.Buffer
	c := startSandbox(t, Config{
		ImageProcess: func() *exec.Cmd {
			return exec.Command(filepath.Join(t.TempDir(), "no-such-morimock"), "image-worker")
		},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	for i, in := range []struct {
		name string
		data []byte
	}{{"p.png", testImage(t, files.PNG)}, {"p.png", largePNGOf(t, 'q')}, {"p.jpg", testImage(t, files.JPEG)}} {
		id := c.antiAI(liveKey, fmt.Sprint("nostart", i), in.name, in.data)
		if d := c.get(liveKey, id); d.Status != "complete" {
			t.Errorf("order %d with no worker process = %+v; want complete", i, d)
		}
	}
	if n := strings.Count(logs.String(), "could not be started"); n != 1 {
		t.Errorf("the log says %d times that the process could not be started; want once:\n%s", n, logs.String())
	}
}
