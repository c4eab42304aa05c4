package mockserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// The image work runs off the request path, in a small pool of workers started with
// the first order that needs it: a confirm, the last upload of a watermark order, or
// an anti-AI URL-mode create. The work of an order reads its inputs, stores its
// outputs as blobs under store.OrderBlobPrefix, then records OutputsAt (and what it
// read from the inputs) on the order; until then the order stays inProgress. A read
// of an order whose work is due and not queued here (after a restart, or on another
// replica) queues it again, so no order waits forever.

// Limits of the anti-AI URL mode (--fetch-source-urls), as the vendor states them.
const (
	SourceMaxBytes = 32 << 20
	sourceTimeout  = 30 * time.Second
	workQueue      = 1024 // orders waiting for a worker; more are queued again by reads
)

// Output blob names under store.OrderBlobPrefix.
const (
	blobThumbnail = "thumbnail.png"
	blobHeatmap   = "heatmap.png"
	blobOverlay   = "overlay.png"
	blobResultZip = "result.zip"
	blobOutput    = "out/" // + the file's index: the protected or watermarked copy
	blobInput     = "in/"  // + the file's index, "-" and random hex: an upload (newInputBlob)
	blobSource    = "src/" // + the file's index: a URL-mode file's bytes, fetched or made
)

type workKey struct{ tenant, id string }

// workQueueOf holds the orders waiting for a worker, a queue per tenant: workers take
// the tenants in turn, so a tenant that queues many large images delays another's
// order by one image at most per worker, never by its whole queue.
type workQueueOf struct {
	turn     []string // tenants with orders waiting, next first
	byTenant map[string][]workKey
	n        int
}

// push queues k; false when workQueue orders wait already.
func (q *workQueueOf) push(k workKey) bool {
	if q.n >= workQueue {
		return false
	}
	if q.byTenant == nil {
		q.byTenant = map[string][]workKey{}
	}
	if len(q.byTenant[k.tenant]) == 0 {
		q.turn = append(q.turn, k.tenant)
	}
	q.byTenant[k.tenant] = append(q.byTenant[k.tenant], k)
	q.n++
	return true
}

// pop takes the oldest order of the tenant whose turn it is, and puts that tenant
// last in turn when it has more.
func (q *workQueueOf) pop() (workKey, bool) {
	if len(q.turn) == 0 {
		return workKey{}, false
	}
	t := q.turn[0]
	q.turn = q.turn[1:]
	ks := q.byTenant[t]
	k := ks[0]
	if len(ks) == 1 {
		delete(q.byTenant, t)
	} else {
		q.byTenant[t] = ks[1:]
		q.turn = append(q.turn, t)
	}
	q.n--
	return k, true
}

// workers is the pool. Its goroutines start with the first order queued and end when
// the Server is closed.
type workers struct {
	mu      sync.Mutex
	started bool
	waiting workQueueOf
	queued  map[workKey]bool // waiting or being processed
	ready   sync.Cond        // signalled when an order is queued or the pool closes; L is &mu
	idle    sync.Cond        // signalled when queued empties; L is &mu
	cancel  context.CancelFunc
	closed  bool
	wg      sync.WaitGroup
}

// kick queues the work of an order unless it is queued or running already. It never
// blocks: when the queue is full the order is picked up by a later read.
func (s *Server) kick(sb *sandbox, tenantID, id string) {
	w := &s.work
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if !w.started {
		w.started = true
		w.queued = map[workKey]bool{}
		w.idle.L, w.ready.L = &w.mu, &w.mu
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		for range max(1, s.cfg.ImageWorkers) {
			w.wg.Add(1)
			go s.worker(ctx, sb) // ends when Close cancels ctx
		}
	}
	k := workKey{tenantID, id}
	if w.queued[k] {
		return
	}
	if w.waiting.push(k) {
		w.queued[k] = true
		w.ready.Signal()
	}
}

// bigJob is the size of the pixels, in bytes, above which a worker gives the memory
// of a job back to the system when it ends, rather than keep it for the next one:
// the sandbox idles most of the time, and a large photo's buffers would otherwise
// stay resident for minutes.
const bigJob = 32 << 20

func (s *Server) worker(ctx context.Context, sb *sandbox) {
	w := &s.work
	defer w.wg.Done()
	// The decode, scaling and encoders all run on this goroutine (see put), so one
	// low-priority thread holds the image work and requests come first on a busy core.
	if err := lowerWorkerThread(); err != nil {
		s.log.Warn("image worker runs at normal priority", "err", err)
	}
	for {
		w.mu.Lock()
		for w.waiting.n == 0 && !w.closed {
			w.ready.Wait()
		}
		k, ok := w.waiting.pop()
		w.mu.Unlock()
		if !ok || ctx.Err() != nil {
			return // closed
		}
		pixelBytes, err := s.process(ctx, sb, k.tenant, k.id)
		if err != nil && ctx.Err() == nil {
			s.log.Error("image work failed; a later read of the order retries it", "order", k.id, "err", err)
		}
		if pixelBytes > bigJob {
			debug.FreeOSMemory()
		}
		w.mu.Lock()
		delete(w.queued, k)
		if len(w.queued) == 0 {
			w.idle.Broadcast()
		}
		w.mu.Unlock()
	}
}

// kickIfDue queues the work of an order that has started and whose outputs are not
// stored yet.
func (s *Server) kickIfDue(sb *sandbox, rec *order.Record, now time.Time) {
	if rec.AwaitsOutputs && rec.OutputsAt == nil && rec.StartedAt != nil && !rec.StartedAt.After(now) && rec.StatusAt(now) == order.InProgress {
		s.kick(sb, rec.Tenant, rec.ID)
	}
}

// WaitIdle returns once no order's image work is queued or running, or ctx is done.
// Tests call it before they move a clock past an order's end; servers never need it.
func (s *Server) WaitIdle(ctx context.Context) error {
	w := &s.work
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return nil // no work was ever queued
	}
	stop := context.AfterFunc(ctx, func() { w.mu.Lock(); w.idle.Broadcast(); w.mu.Unlock() })
	defer stop()
	for len(w.queued) > 0 && ctx.Err() == nil {
		w.idle.Wait()
	}
	return ctx.Err()
}

// stopWork ends the workers (the order being processed is left for a later read to
// queue again) and refuses new work.
func (s *Server) stopWork() {
	w := &s.work
	w.mu.Lock()
	w.closed = true
	cancel := w.cancel
	w.ready.Broadcast()
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		w.wg.Wait()
	}
}

// outputsStored is called when an order's outputs were stored off the request path:
// its end is known now, so the webhook events waiting for it (scheduled at the
// earliest end, see awaitedEnd) move to the real end, and the deliverer looks again.
func (s *Server) outputsStored(ctx context.Context, sb *sandbox, tenantID, id string) {
	rec, err := sb.store.GetOrder(ctx, tenantID, id)
	if err != nil {
		return // forgotten meanwhile
	}
	s.orderEnded(ctx, sb, rec)
}

// result is what the work learned from an order's inputs.
type result struct {
	fail       string // an input the service cannot process: the failed order's errors
	detected   *bool  // watermarkExtract: read from the file
	text       string
	pixelBytes int64 // the largest decoded image, in bytes: see bigJob
}

// process does the work of one order and records it. It returns the size of the
// largest image it decoded, in bytes.
func (s *Server) process(ctx context.Context, sb *sandbox, tenantID, id string) (int64, error) {
	rec, err := sb.store.GetOrder(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil // forgotten meanwhile
	}
	if err != nil {
		return 0, err
	}
	if !rec.AwaitsOutputs || rec.OutputsAt != nil || rec.StartedAt == nil {
		return 0, nil
	}
	res, err := s.makeOutputs(ctx, sb, &rec)
	if err != nil {
		return res.pixelBytes, err
	}
	now, err := s.clock(ctx, sb, tenantID)
	if err != nil {
		return res.pixelBytes, err
	}
	_, err = sb.store.UpdateOrder(ctx, tenantID, id, func(r *order.Record) error {
		if r.OutputsAt != nil {
			return nil
		}
		r.OutputsAt = &now
		if res.fail != "" && !r.Outcome.Fail {
			r.Outcome = order.Outcome{Fail: true, ErrorCode: "INVALID_FILE", ErrorMessage: res.fail}
		}
		if res.detected != nil && !r.Outcome.Fail {
			r.Outcome.Detected, r.Outcome.WatermarkText = *res.detected, res.text
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return res.pixelBytes, nil
	}
	if err == nil {
		s.outputsStored(ctx, sb, tenantID, id)
	}
	return res.pixelBytes, err
}

// makeOutputs reads the order's inputs and stores its outputs. An input the service
// cannot process ends in result.fail, not in an error: errors are the sandbox's own
// failures (the store), and leave the work to be retried.
func (s *Server) makeOutputs(ctx context.Context, sb *sandbox, rec *order.Record) (result, error) {
	prefix := store.OrderBlobPrefix(rec.Tenant, rec.ID)
	var res result
	limits := files.Limits{MaxPixels: s.cfg.MaxPixels}
	for i := range rec.Files {
		f := &rec.Files[i]
		if f.SourceURL == "" {
			continue
		}
		if msg, err := s.fetchSource(ctx, sb, rec, i); err != nil || msg != "" {
			res.fail = msg
			return res, err
		}
	}
	// put streams an encoder's output to a blob: a full-size output is never held
	// in memory beside the image it is made from. The encoder runs here, on the
	// worker's low-priority thread; the store, which mostly copies and waits, reads on
	// a goroutine that ends when the pipe does.
	put := func(name string, encode func(io.Writer) error) error {
		pr, pw := io.Pipe()
		stored := make(chan error, 1)
		go func() {
			_, err := sb.store.PutBlob(ctx, prefix+name, pr, 1<<40)
			pr.CloseWithError(errors.New("store stopped reading")) // ends an encoder the store left
			stored <- err
		}()
		pw.CloseWithError(encode(pw))
		return <-stored
	}
	putPNG := func(name string, img image.Image) error {
		return put(name, func(w io.Writer) error { return files.EncodePNG(w, img) })
	}
	decodeFile := func(i int) (image.Image, error) {
		f := &rec.Files[i]
		b, err := sb.store.OpenBlob(ctx, inputBlob(rec, i))
		if err != nil {
			return nil, err
		}
		defer b.Close()
		return files.DecodeImage(b, f.Name, formatOf(f), limits)
	}
	readFile := func(i int) ([]byte, error) {
		b, err := sb.store.OpenBlob(ctx, inputBlob(rec, i))
		if err != nil {
			return nil, err
		}
		defer b.Close()
		return io.ReadAll(b)
	}
	fail := func(err error) (result, error) {
		var ie *files.InputError
		if errors.As(err, &ie) {
			res.fail = ie.Msg
			return res, nil
		}
		return res, err
	}
	seed := uint64(s.cfg.Seed) ^ seedOf("work", rec.ID)
	for i := range rec.Files {
		f := &rec.Files[i]
		if f.Role == "original" {
			continue // an extract's reference: kept, never read
		}
		if formatOf(f) == files.PDF {
			data, err := readFile(i)
			if err != nil {
				return res, err
			}
			if err := files.CheckPDF(f.Name, data); err != nil {
				return fail(err)
			}
			switch rec.Type {
			case order.WatermarkEmbed:
				out, err := files.EmbedPDFWatermark(f.Name, data, f.Watermarks)
				if err != nil {
					return fail(err)
				}
				if _, err := sb.store.PutBlob(ctx, prefix+blobOutput+strconv.Itoa(i), bytes.NewReader(out), int64(len(out))+1); err != nil {
					return res, err
				}
			case order.WatermarkExtract:
				text, ok := files.ReadPDFWatermark(data)
				res.detected, res.text = &ok, text
			}
			if i == 0 {
				if err := putPNG(blobThumbnail, files.DocumentThumbnail()); err != nil {
					return res, err
				}
			}
			continue
		}
		img, err := decodeFile(i)
		if err != nil {
			return fail(err)
		}
		bnd := img.Bounds()
		res.pixelBytes = max(res.pixelBytes, 4*int64(bnd.Dx())*int64(bnd.Dy()))
		pre := files.Preview(img)
		if i == 0 {
			if err := putPNG(blobThumbnail, files.Thumbnail(pre)); err != nil {
				return res, err
			}
		}
		switch rec.Type {
		case order.AIDetection:
			b := img.Bounds()
			if o := rec.Options; o != nil && o.GenerateHeatmap {
				if err := putPNG(blobHeatmap, files.Heatmap(b.Dx(), b.Dy(), rec.Outcome.Probability, seed)); err != nil {
					return res, err
				}
			}
			if o := rec.Options; o != nil && o.GenerateOverlay {
				pb := pre.Bounds()
				heat := files.Heatmap(pb.Dx(), pb.Dy(), rec.Outcome.Probability, seed)
				if err := putPNG(blobOverlay, files.Overlay(pre, heat)); err != nil {
					return res, err
				}
			}
		case order.AntiAI, order.WatermarkEmbed:
			out := files.AsNRGBA(img) // img (and pre, when it is img) is not read after
			if rec.Type == order.AntiAI {
				files.Perturb(out, seed^uint64(i))
			} else if err := files.EmbedWatermark(out, f.Watermarks); err != nil {
				return fail(err) // an image too small for its texts: the order says so
			}
			format := files.OutputFormat(formatOf(f))
			if err := put(blobOutput+strconv.Itoa(i), func(w io.Writer) error { return files.Encode(w, out, format) }); err != nil {
				return res, err
			}
		case order.WatermarkExtract:
			text, ok := files.ReadWatermark(img)
			res.detected, res.text = &ok, text
		}
	}
	if rec.Type == order.WatermarkExtract {
		names := make([]string, len(rec.Files))
		for i, f := range rec.Files {
			names[i] = f.Name
		}
		if order.HintsFor(rec.Type, names).Detected != nil {
			res.detected = nil // the file name's _detected / _undetected wins
		}
	}
	return res, nil
}

// formatOf is a file's format as its name gives it.
func formatOf(f *order.File) string {
	if f.Format != "" {
		return f.Format
	}
	format, _, _ := fileFormat(f.Name)
	return format
}

// fetchSource stores a URL-mode file's bytes at inputBlob: downloaded with
// --fetch-source-urls, else a generated sample image in the file's format (a WebP
// name gets a PNG sample, which it then is: Go writes no WebP). It returns the
// failure message of a download the real service could not make either.
func (s *Server) fetchSource(ctx context.Context, sb *sandbox, rec *order.Record, i int) (string, error) {
	f, key := &rec.Files[i], inputBlob(rec, i)
	format := formatOf(f)
	if !s.cfg.FetchSourceURLs && (format == files.WEBP || format == files.PDF || format == "") {
		format = files.PNG
		f.Format = files.PNG // read the sample back as what it is
	}
	if b, err := sb.store.OpenBlob(ctx, key); err == nil {
		b.Close()
		return "", nil // fetched before a restart
	}
	if !s.cfg.FetchSourceURLs {
		var b bytes.Buffer
		if err := files.Encode(&b, files.Sample(seedOf("sample", rec.ID)), format); err != nil {
			return "", err
		}
		_, err := sb.store.PutBlob(ctx, key, &b, int64(b.Len())+1)
		return "", err
	}
	u, err := url.Parse(f.SourceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "source download failed (not an http or https URL)", nil
	}
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "source download failed (bad URL)", nil
	}
	resp, err := s.fetchClient().Do(req)
	if err != nil {
		return "source download failed (" + fetchReason(err) + ")", nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("source download failed (HTTP %d)", resp.StatusCode), nil
	}
	if resp.ContentLength > SourceMaxBytes {
		return "source download failed (larger than 32 MiB)", nil
	}
	_, err = sb.store.PutBlob(ctx, key, resp.Body, SourceMaxBytes)
	switch {
	case errors.Is(err, store.ErrTooLarge):
		return "source download failed (larger than 32 MiB)", nil
	case err != nil && ctx.Err() != nil:
		return "source download failed (timed out)", nil
	case err != nil:
		return "source download failed (connection failed)", nil
	}
	return "", nil
}

func (s *Server) fetchClient() *http.Client {
	if s.cfg.FetchClient != nil {
		return s.cfg.FetchClient
	}
	return &http.Client{Timeout: sourceTimeout}
}

func fetchReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return "timed out"
	}
	return "connection failed"
}
