package mockserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
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
	// committing holds the orders whose outputs are being stored (see commit), and
	// commits bounds them.
	committing map[workKey]bool
	commits    chan struct{}
	ready      sync.Cond // signalled when an order is queued or the pool closes; L is &mu
	idle       sync.Cond // signalled when queued and committing are empty; L is &mu
	cancel     context.CancelFunc
	closed     bool
	wg         sync.WaitGroup
	// warnedNice and warnedBusy say a worker's priority could not be set, and
	// warnedProc that its process could not be started, once each.
	warnedNice, warnedBusy, warnedProc atomic.Bool
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
		w.queued, w.committing = map[workKey]bool{}, map[workKey]bool{}
		w.commits = make(chan struct{}, commitsInFlight)
		w.idle.L, w.ready.L = &w.mu, &w.mu
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		for range max(1, s.cfg.ImageWorkers) {
			w.wg.Add(1)
			go s.worker(ctx, sb) // ends when Close cancels ctx
		}
	}
	k := workKey{tenantID, id}
	if w.queued[k] || w.committing[k] {
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
	th := &workThread{}
	if s.cfg.ImageProcess != nil {
		// The pixels are the process's, which runs at workerNice. This goroutine only
		// passes bytes: its thread keeps the server's priority (a locked thread at
		// workerNice would hold the P a request waits for while the kernel runs the
		// requests' threads first), and is locked so that the process ends with it
		// (setDeathSignal).
		runtime.LockOSThread()
		th.procs = &imageProcs{newCmd: s.cfg.ImageProcess, log: s.log, stillBusy: s.cfg.testStillBusy, holdMax: s.cfg.testHoldMax, longWork: s.cfg.LongWork}
		defer th.procs.shutdown()
	} else {
		tid, err := lowerWorkerThread()
		if err != nil && !s.work.warnedNice.Swap(true) {
			s.log.Warn("image workers keep the process's priority", "err", err)
		}
		th.tid = tid
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
		job, err := s.process(ctx, sb, k.tenant, k.id, th)
		if err != nil && ctx.Err() == nil {
			s.log.Error("image work failed; a later read of the order retries it", "order", k.id, "err", err)
		}
		if job.pixelBytes > bigJob {
			// Still inside LongWork: the forced collection and the return of the
			// job's memory (madvise of ~100 MB, which Go runs without letting go of
			// its P) take milliseconds, and requests meanwhile need a P of their own.
			debug.FreeOSMemory()
		}
		lowered := s.endWatch(th)
		if th.procs != nil {
			th.procs.endJob() // a lowered process ends; the thread is not lowered
		}
		if job.long && s.cfg.LongWork != nil {
			s.cfg.LongWork(false)
		}
		w.mu.Lock()
		delete(w.queued, k)
		if len(w.queued) == 0 && len(w.committing) == 0 {
			w.idle.Broadcast()
		}
		if lowered {
			// The thread stays at busyNice (only a privileged program may take a
			// niceness back down): it ends with this goroutine, and a new worker on a
			// thread of its own at workerNice takes the next order.
			if !w.closed {
				w.wg.Add(1)
				go s.worker(ctx, sb)
			}
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

// workInline reports whether err says the worker's image process could not be
// started, and if so has the worker do its images itself from now on, on its thread
// lowered to workerNice, as without Config.ImageProcess.
func (s *Server) workInline(th *workThread, err error) bool {
	var se *procStartError
	if !errors.As(err, &se) {
		return false
	}
	if !s.work.warnedProc.Swap(true) {
		s.log.Warn("the image worker process could not be started: images are processed in the server", "err", err)
	}
	th.procs.shutdown()
	th.procs = nil
	th.tid, _ = lowerWorkerThread() // the thread is locked already, for the process's sake
	return true
}

// workThread is an image worker's OS thread, and the watch kept on the requests while
// it does a long job.
type workThread struct {
	tid     int
	stop    chan struct{} // closed when the long job ends; nil when no job is watched
	done    chan struct{} // closed when watchRequests has returned
	lowered atomic.Bool   // the thread is at busyNice: the worker ends it after the job
	key     workKey       // the order of the watched job
	polls   atomic.Uint64 // GETs of that order since the watch started (countPoll)
	procs   *imageProcs   // the worker's process, with Config.ImageProcess
}

// busyTick and busyRequests say when requests arrive quickly enough during a long job
// for its worker's thread to yield more of a shared core to them: busyRequests in
// one busyTick, 500 requests a second. A client that polls its order every few
// milliseconds, a load test, a gallery that fetches many orders at once are busy;
// a test that polls every 100 ms is not, and its job keeps workerNice.
const (
	busyTick     = 10 * time.Millisecond
	busyRequests = 5
)

// watch starts watchRequests for the long job th is doing for the order k.
func (s *Server) watch(th *workThread, k workKey) {
	if th == nil || th.stop != nil || (busyNice == workerNice && th.procs == nil) {
		return
	}
	th.stop, th.done = make(chan struct{}), make(chan struct{})
	th.key = k
	th.polls.Store(0)
	s.polled.Store(k, &th.polls)
	s.watching.Add(1) // requests are counted from here on
	go s.watchRequests(th, s.requests.Load())
}

// endWatch ends the watch of th's job, if any, and reports whether its thread was
// lowered to busyNice.
func (s *Server) endWatch(th *workThread) bool {
	if th.stop == nil {
		return false
	}
	close(th.stop)
	<-th.done
	s.watching.Add(-1)
	s.polled.Delete(th.key)
	th.stop, th.done = nil, nil
	return th.lowered.Load()
}

// countRequest counts a request for watchRequests, while a long job is watched: the
// rest of the time a request writes nothing that other cores share.
func (s *Server) countRequest() {
	if s.watching.Load() > 0 {
		s.requests.Add(1)
	}
}

// countPoll counts a GET of the tenant's order id for the watch of its job, if one
// is watched.
func (s *Server) countPoll(tenant, id string) {
	if s.watching.Load() > 0 {
		if n, ok := s.polled.Load(workKey{tenant, id}); ok {
			n.(*atomic.Uint64).Add(1)
		}
	}
}

// watchRequests looks at the requests every tick, counting from last: while they
// arrive at busyRate, it holds th's process back (imageProcs.busy), or lowers th's
// thread to busyNice for the rest of the job. It returns when the job ends.
func (s *Server) watchRequests(th *workThread, last uint64) {
	defer close(th.done)
	ticks, stop := s.busyTicks()
	defer stop()
	lastAt, lastPolls := time.Now(), uint64(0)
	for {
		select {
		case <-th.stop:
			return
		case <-ticks:
		}
		// The rate is taken over the time since the last tick was read: a tick read
		// late, behind busy requests, and the next one read just after it must not
		// make a busy server look quiet.
		n, now, elapsed := s.requests.Load(), time.Now(), busyTick
		if s.cfg.testBusyTicks == nil {
			elapsed = now.Sub(lastAt)
		}
		busy := busyRate(n-last, elapsed)
		// The requests wait for this job when its own order is polled that fast: a
		// client that polls it in a loop.
		polls := th.polls.Load()
		waited := busyRate(polls-lastPolls, elapsed)
		last, lastAt, lastPolls = n, now, polls
		done := false
		if th.procs != nil {
			// The worker's process is held back while requests are busy, and runs
			// freely again once they are not.
			if err := th.procs.busy(busy, waited, elapsed); err != nil && !s.work.warnedBusy.Swap(true) {
				s.log.Warn("the image worker process keeps its priority while requests arrive", "err", err)
			}
		} else if busy {
			// The thread's lowering is for the rest of the job: nothing more to watch.
			if err := lowerThread(th.tid, busyNice); err != nil {
				if !s.work.warnedBusy.Swap(true) {
					s.log.Warn("image workers keep their priority while requests arrive", "err", err)
				}
			} else {
				th.lowered.Store(true)
			}
			done = true
		}
		if s.cfg.testBusyCounted != nil {
			s.cfg.testBusyCounted <- struct{}{}
			continue // the test's ticks go on being answered
		}
		if done {
			<-th.stop
			return
		}
	}
}

// busyRate reports whether n requests in elapsed arrive at busyRequests a busyTick
// or faster.
func busyRate(n uint64, elapsed time.Duration) bool {
	return n*uint64(busyTick) >= busyRequests*uint64(max(elapsed, 1))
}

// busyTicks are watchRequests' ticks: every busyTick, or the test's.
func (s *Server) busyTicks() (<-chan time.Time, func()) {
	if s.cfg.testBusyTicks != nil {
		return s.cfg.testBusyTicks, func() {}
	}
	t := time.NewTicker(busyTick)
	return t.C, t.Stop
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
	for (len(w.queued) > 0 || len(w.committing) > 0) && ctx.Err() == nil {
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
	fail     string // an input the service cannot process: the failed order's errors
	detected *bool  // watermarkExtract: read from the file
	text     string
	job      jobCost
}

// jobCost is what the work of an order took, for the worker to clean up after it.
type jobCost struct {
	pixelBytes int64 // the largest decoded image, in bytes: see bigJob
	long       bool  // the inputs are over longWorkInputs and the work is in this process: Config.LongWork(true) was called
}

// process does the work of one order and hands its outputs to commit, which records
// them on another goroutine so that the worker goes on with the next order while the
// store writes (on disk, commits of several orders then share one fsync). It returns
// what the work took (the worker ends a LongWork it started).
func (s *Server) process(ctx context.Context, sb *sandbox, tenantID, id string, th *workThread) (jobCost, error) {
	rec, err := sb.store.GetOrder(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return jobCost{}, nil // forgotten meanwhile
	}
	if err != nil {
		return jobCost{}, err
	}
	if !rec.AwaitsOutputs || rec.OutputsAt != nil || rec.StartedAt == nil {
		return jobCost{}, nil
	}
	res, blobs, err := s.makeOutputs(ctx, sb, &rec, th)
	if err != nil {
		return res.job, err
	}
	s.commit(ctx, sb, workKey{tenantID, id}, res, blobs)
	return res.job, nil
}

// commitsInFlight bounds the orders whose outputs are being written at once.
const commitsInFlight = 64

// commit records an order's outputs (blobs named under its prefix) and what the work
// read from its inputs, in one store update, on a goroutine of its own: until it
// ends, the order counts as queued (kick does not queue it again, WaitIdle waits).
func (s *Server) commit(ctx context.Context, sb *sandbox, k workKey, res result, blobs []store.NamedBlob) {
	w := &s.work
	w.mu.Lock()
	w.committing[k] = true
	w.mu.Unlock()
	w.commits <- struct{}{} // waits while commitsInFlight are running
	w.wg.Add(1)
	go func() {
		defer func() {
			<-w.commits
			w.mu.Lock()
			delete(w.committing, k)
			if len(w.queued) == 0 && len(w.committing) == 0 {
				w.idle.Broadcast()
			}
			w.mu.Unlock()
			w.wg.Done()
		}()
		if err := s.record(ctx, sb, k, res, blobs); err != nil && ctx.Err() == nil {
			s.log.Error("storing an order's outputs failed; a later read of the order retries it", "order", k.id, "err", err)
		}
	}()
}

func (s *Server) record(ctx context.Context, sb *sandbox, k workKey, res result, blobs []store.NamedBlob) error {
	now, err := s.clock(ctx, sb, k.tenant)
	if err != nil {
		return err
	}
	prefix := store.OrderBlobPrefix(k.tenant, k.id)
	named := make([]store.NamedBlob, len(blobs))
	for i, b := range blobs {
		named[i] = store.NamedBlob{Key: prefix + b.Key, Data: b.Data}
	}
	_, err = sb.store.UpdateOrderBlobs(ctx, k.tenant, k.id, named, func(r *order.Record) error {
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
		return nil
	}
	if err == nil {
		s.outputsStored(ctx, sb, k.tenant, k.id)
	}
	return err
}

// longWorkInputs is the size of an order's inputs, in bytes, above which its image
// work is expected to take long (a JPEG of 256 KiB holds about a megapixel: tens of
// milliseconds of work), and Config.LongWork is called around it.
const longWorkInputs = 256 << 10

// bufferedPixels is the size of an image, in pixels, up to which its outputs are
// encoded into memory and stored with the order's update in one commit; the outputs
// of a larger one are streamed to the store as they are encoded, so that a
// full-size output is never held in memory beside the image it is made from.
const bufferedPixels = 2 << 20

// streamPiece is the size of the pieces a streamed output is handed to the store in.
const streamPiece = 1 << 20

// makeOutputs reads the order's inputs and makes its outputs: blobs in memory, named
// under the order's prefix, and the larger ones already streamed to the store. An
// input the service cannot process ends in result.fail, not in an error: errors are
// the sandbox's own failures (the store), and leave the work to be retried.
func (s *Server) makeOutputs(ctx context.Context, sb *sandbox, rec *order.Record, th *workThread) (result, []store.NamedBlob, error) {
	prefix := store.OrderBlobPrefix(rec.Tenant, rec.ID)
	var res result
	for i := range rec.Files {
		f := &rec.Files[i]
		if f.SourceURL == "" {
			continue
		}
		if msg, err := s.fetchSource(ctx, sb, rec, i); err != nil || msg != "" {
			res.fail = msg
			return res, nil, err
		}
	}
	// Inputs small enough to hold are read here, and their digests key the cache of
	// outputs. A larger input is read by its job (which seeds its outputs from its
	// digest, see inputSeed): in an image worker process, hashing megabytes costs the
	// server nothing.
	digests := make([][sha256.Size]byte, len(rec.Files))
	data := make([][]byte, len(rec.Files)) // the inputs, when they are small enough to hold
	var inputs int64
	for i := range rec.Files {
		if rec.Files[i].Role == "original" {
			continue // an extract's reference: kept, never read
		}
		b, err := sb.store.OpenBlob(ctx, inputBlob(rec, i))
		if err != nil {
			return res, nil, err
		}
		inputs += b.Size()
		if inputs <= cachedInputsMax {
			data[i], err = io.ReadAll(b)
			digests[i] = sha256.Sum256(data[i])
		}
		b.Close()
		if err != nil {
			return res, nil, err
		}
	}
	cacheable := inputs <= cachedInputsMax
	var key workCacheKey
	if cacheable {
		key = workKeyOf(rec, s.cfg.Seed, digests)
		if res, blobs, ok := s.cache.get(key); ok {
			return res, blobs, nil
		}
	}
	// A long job is watched, and so is any job a lowered process may do: held back
	// while requests are busy, started over once they are not (see imageProcs.busy).
	if inputs > longWorkInputs || (th.procs != nil && th.procs.lowered()) {
		if th.procs != nil {
			if _, err := th.procs.ensure(); err != nil { // the watch holds back a running process
				if !s.workInline(th, err) {
					return res, nil, err
				}
			}
		}
		if th.procs != nil {
			if err := th.procs.startJob(inputs > longWorkInputs); err != nil && !s.work.warnedBusy.Swap(true) {
				s.log.Warn("the image worker process keeps its priority while requests arrive", "err", err)
			}
		}
		s.watch(th, workKey{rec.Tenant, rec.ID}) // the worker ends the watch
		if s.cfg.testWatched != nil {
			s.cfg.testWatched()
		}
		// Not in process mode, where the job's thread here only passes bytes (the
		// duty cycle calls LongWork itself).
		if s.cfg.LongWork != nil && inputs > longWorkInputs && th.procs == nil {
			res.job.long = true
			s.cfg.LongWork(true) // the worker calls LongWork(false) once it has given the memory back
		}
	}
	var blobs []store.NamedBlob
	// put stores an encoder's output: into memory for an image of up to
	// bufferedPixels, else streamed to the store. Either way the encoder runs here, on
	// the worker's low-priority thread; the store, which mostly copies and waits,
	// reads on a goroutine that ends when the pipe does.
	buffered := bufferedPixels
	if s.cfg.testBufferedPixels > 0 {
		buffered = s.cfg.testBufferedPixels
	}
	put := func(name string, pixels int, encode func(io.Writer) error) error {
		if pixels <= buffered {
			var b bytes.Buffer
			if err := encode(&b); err != nil {
				return err
			}
			// Exactly its size: the bytes are kept (by the memory store and the cache),
			// and a grown buffer may be twice what it holds.
			blobs = append(blobs, store.NamedBlob{Key: name, Data: bytes.Clone(b.Bytes())})
			return nil
		}
		cacheable = false
		pr, pw := io.Pipe()
		stored := make(chan error, 1)
		go func() {
			_, err := sb.store.PutBlob(ctx, prefix+name, pr, 1<<40)
			pr.CloseWithError(errors.New("store stopped reading")) // ends an encoder the store left
			stored <- err
		}()
		// In large pieces: each piece is a hand-over between this goroutine (locked
		// to its thread) and the store's, and while they pass the Ps between them,
		// no thread waits on the network for requests.
		bw := bufio.NewWriterSize(pw, streamPiece)
		err := encode(bw)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		if serr := <-stored; err == nil {
			err = serr
		}
		return err
	}
	putPNG := func(name string, img image.Image) error {
		return put(name, img.Bounds().Dx()*img.Bounds().Dy(), func(w io.Writer) error { return files.EncodePNG(w, img) })
	}
	open := func(i int) (io.ReadSeeker, func(), error) {
		if data[i] != nil {
			return bytes.NewReader(data[i]), func() {}, nil
		}
		b, err := sb.store.OpenBlob(ctx, inputBlob(rec, i))
		if err != nil {
			return nil, nil, err
		}
		return b, func() { b.Close() }, nil
	}
	// finish ends the work, with err an input's fault (which fails the order) or the
	// sandbox's own, and remembers the outputs when it can.
	finish := func(err error) (result, []store.NamedBlob, error) {
		var ie *files.InputError
		if errors.As(err, &ie) {
			res.fail = ie.Msg
			err = nil
		}
		if err == nil && cacheable {
			kept := res
			kept.job = jobCost{} // a hit costs nothing, and starts no LongWork
			s.cache.put(key, kept, blobs)
		}
		return res, blobs, err
	}
	for i := range rec.Files {
		f := &rec.Files[i]
		if f.Role == "original" {
			continue
		}
		r, done, err := open(i)
		if err != nil {
			return res, nil, err
		}
		if formatOf(f) == files.PDF {
			pdf, err := io.ReadAll(r)
			done()
			if err != nil {
				return res, nil, err
			}
			if err := files.CheckPDF(f.Name, pdf); err != nil {
				return finish(err)
			}
			switch rec.Type {
			case order.WatermarkEmbed:
				out, err := files.EmbedPDFWatermark(f.Name, pdf, f.Watermarks)
				if err != nil {
					return finish(err)
				}
				blobs = append(blobs, store.NamedBlob{Key: blobOutput + strconv.Itoa(i), Data: out})
			case order.WatermarkExtract:
				text, ok := files.ReadPDFWatermark(pdf)
				res.detected, res.text = &ok, text
			}
			if i == 0 {
				if err := putPNG(blobThumbnail, files.DocumentThumbnail()); err != nil {
					return res, nil, err
				}
			}
			continue
		}
		job := imageJob{
			Type: rec.Type, Index: i, Name: f.Name, Format: formatOf(f), MaxPixels: s.cfg.MaxPixels,
			Thumbnail: i == 0, Probability: rec.Outcome.Probability, Seed: uint64(s.cfg.Seed), Watermarks: f.Watermarks,
		}
		if o := rec.Options; o != nil {
			job.Heatmap, job.Overlay = o.GenerateHeatmap, o.GenerateOverlay
		}
		var ir imageResult
		if th.procs != nil {
			// In an image worker process, which gives its memory back itself.
			kept := len(blobs)
			again := func() error { // the job's outputs are forgotten; a streamed one is written again
				blobs = blobs[:kept]
				_, err := r.Seek(0, io.SeekStart)
				return err
			}
			ir, err = th.procs.run(ctx, job, r, put)
			for errors.Is(err, errStartOver) { // at most twice a job: see busy and run
				if err = again(); err == nil {
					ir, err = th.procs.run(ctx, job, r, put)
				}
			}
			// Not while a watch reads th.procs: the next job's start falls back.
			if err != nil && th.stop == nil && s.workInline(th, err) {
				err = again() // and done below, in this process
			}
		}
		if th.procs == nil && err == nil {
			ir, err = runImageJob(job, r, put)
			res.job.pixelBytes = max(res.job.pixelBytes, ir.PixelBytes)
		}
		done()
		if err != nil {
			return res, nil, err
		}
		if ir.Fail != "" {
			return finish(&files.InputError{Msg: ir.Fail})
		}
		if ir.Detected != nil {
			res.detected, res.text = ir.Detected, ir.Text
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
	return finish(nil)
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
