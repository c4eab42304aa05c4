package mockserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
)

// largePhoto is a PNG over longWorkInputs (noise compresses badly) with few pixels, so
// that the race detector does not make its work take long.
func largePhoto(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, files.Textured(640, 480)); err != nil {
		t.Fatal(err)
	}
	if b.Len() <= longWorkInputs {
		t.Fatalf("the photo has %d bytes; want over %d", b.Len(), longWorkInputs)
	}
	return b.Bytes()
}

// outputsOf completes an aiDetection order (heat map, overlay, thumbnail) and an
// antiAI order for photo, and returns every file they serve, by name.
func outputsOf(t *testing.T, c *sbx, photo []byte) map[string][]byte {
	t.Helper()
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{
		"idempotencyKey": "d", "fileName": "big_ai.png", "options": map[string]bool{"generateHeatmap": true, "generateOverlay": true, "generateThumbnail": true},
	}, &o)
	c.upload(o.File.UploadURL, photo)
	c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID}, nil)
	var a created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", liveKey, map[string]any{"idempotencyKey": "a", "files": []map[string]string{{"fileName": "big.png"}}}, &a)
	c.upload(a.Files[0].UploadURL, photo)
	c.call(http.MethodPost, "/api/v2/orders/anti-ai/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": a.OrderID}, nil)
	c.settle()
	out := map[string][]byte{}
	for _, id := range []string{o.OrderID, a.OrderID} {
		if d := c.get(liveKey, id); d.Status != "complete" {
			t.Fatalf("order %s = %+v; want complete", id, d)
		}
	}
	for name, u := range c.imageURLs(o.OrderID) {
		res, body := c.do(http.MethodGet, u, "", nil)
		c.want(res, body, http.StatusOK, "")
		out["aiDetection "+name] = body
	}
	var dl struct{ DownloadURL string }
	c.call(http.MethodGet, "/api/v2/orders/"+a.OrderID+"/download", liveKey, nil, &dl)
	res, body := c.do(http.MethodGet, dl.DownloadURL, "", nil)
	c.want(res, body, http.StatusOK, "")
	out["antiAi download"] = body
	return out
}

// TestImageJobElsewhereGivesTheSameFiles: with Config.ImageJob the work of a large
// photo is done by ServeImageJob (here on a goroutine; serve runs it in a process of
// its own), and every file the orders serve has the bytes the server makes itself,
// (frames_test: the streamed outputs of larger images).
func TestImageJobElsewhereGivesTheSameFiles(t *testing.T) {
	photo := largePhoto(t)
	var jobs atomic.Int32
	elsewhere := startSandbox(t, Config{ImageJob: func(ctx context.Context, in io.Reader, out io.Writer) error {
		jobs.Add(1)
		return ServeImageJob(ctx, in, out)
	}})
	got := outputsOf(t, elsewhere, photo)
	if n := jobs.Load(); n != 2 {
		t.Errorf("ImageJob ran %d times for two large orders; want 2", n)
	}
	want := outputsOf(t, startSandbox(t, Config{}), photo)
	if len(got) != len(want) || len(want) < 5 {
		t.Errorf("files served: %d with ImageJob, %d without; want the same 5", len(got), len(want))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || !bytes.Equal(g, w) {
			t.Errorf("%s: %d bytes (crc %08x) with ImageJob; want %d (crc %08x)", name, len(g), crc32IEEE(g), len(w), crc32IEEE(w))
		}
	}
}

// TestImageJobFailureLeavesTheOrderInProgress: a job that ends without its outputs
// (the process could not start, or died) is the sandbox's failure, not the input's:
// the order does not complete with files missing, and a later read queues it again.
func TestImageJobFailureLeavesTheOrderInProgress(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	c := startSandbox(t, Config{ImageJob: func(ctx context.Context, in io.Reader, out io.Writer) error {
		if fail.Load() {
			io.CopyN(out, in, 10) // a few bytes that are no frame, then the end
			return errors.New("killed")
		}
		return ServeImageJob(ctx, in, out)
	}})
	photo := largePhoto(t)
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "d", "fileName": "big.png"}, &o)
	c.upload(o.File.UploadURL, photo)
	c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID}, nil)
	c.settle()
	if d := c.get(liveKey, o.OrderID); d.Status != "inProgress" {
		t.Fatalf("order after a failed job = %+v; want inProgress", d)
	}
	fail.Store(false)
	c.get(liveKey, o.OrderID) // queues the work again
	c.settle()
	if d := c.get(liveKey, o.OrderID); d.Status != "complete" {
		t.Errorf("order after the job ran again = %+v; want complete", d)
	}
}

// TestFramesCarryStreamedOutputs: an output of more than bufferedPixels that
// ServeImageJob's sink writes in pieces arrives in the store whole, beside an output
// written at once, and the result after them.
func TestFramesCarryStreamedOutputs(t *testing.T) {
	st, err := store.NewMemory("")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3*streamPiece+12345) // pieces, and a part of one
	for i := range big {
		big[i] = byte(i * 7 / 3)
	}
	var frames bytes.Buffer
	bw := bufio.NewWriter(&frames)
	sink := &frameSink{w: bw}
	if err := sink.put("thumb", 10, func(w io.Writer) error { _, err := w.Write([]byte("small")); return err }); err != nil {
		t.Fatal(err)
	}
	if err := sink.put("big", bufferedPixels+1, func(w io.Writer) error { _, err := w.Write(big); return err }); err != nil {
		t.Fatal(err)
	}
	detected := true
	rr, _ := json.Marshal(remoteResult{Detected: &detected, Text: "hi"})
	writeFrame(bw, frameResult, "", rr)
	bw.Flush()

	ctx := context.Background()
	out := &storeSink{ctx: ctx, store: st, prefix: "p/"}
	s := &Server{}
	res, err := s.receiveOutputs(bufio.NewReader(&frames), out)
	if err != nil {
		t.Fatal(err)
	}
	if res.detected == nil || !*res.detected || res.text != "hi" {
		t.Errorf("result = %+v; want detected with text hi", res)
	}
	if len(out.blobs) != 1 || out.blobs[0].Key != "thumb" || string(out.blobs[0].Data) != "small" || !out.streamed {
		t.Errorf("kept blobs = %v, streamed %v; want thumb (small), and the big one streamed", out.blobs, out.streamed)
	}
	b, err := st.OpenBlob(ctx, "p/big")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, _ := io.ReadAll(b)
	if !bytes.Equal(got, big) {
		t.Errorf("the streamed output has %d bytes in the store; want the %d written", len(got), len(big))
	}

	// Cut in the middle of the streamed output: an error, never a result.
	cut := frames.Bytes()[:frames.Len()/2]
	if _, err := s.receiveOutputs(bufio.NewReader(bytes.NewReader(cut)), &storeSink{ctx: ctx, store: st, prefix: "q/"}); err == nil {
		t.Errorf("outputs cut in the middle gave no error")
	}
}
