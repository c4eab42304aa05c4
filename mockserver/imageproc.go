package mockserver

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Image worker processes. With Config.ImageProcess set, each image worker hands the
// pixels of its jobs (decode, scaling, heat maps, encoders) to a process of its own,
// which runs ServeImageWork, and stores what it answers. A process can be stopped
// wherever its codecs are, which a goroutine cannot: while requests arrive quickly
// during a long job, the sandbox lowers the process to SCHED_IDLE and stops it, for
// maxHold at most, then lets it run in slices of dutyOn, dutyOff apart (dutyCycle),
// so a request does not wait behind image work (see busy). The README's Performance
// section (Real files) has the measurements that chose this.
//
// The protocol, over the process's standard input and output, one job at a time:
//
//	job:    uint32 length, the imageJob as JSON, uint64 length, the input's bytes
//	answer: for each output: 'O', uint16 length, name, uint64 pixels,
//	        then 'D', uint32 length, bytes (any number), then 'E';
//	        then 'R', uint32 length, the imageAnswer as JSON
//
// Lengths and numbers are big-endian.

// imageAnswer is a job's last frame: its result, or the worker process's own failure.
type imageAnswer struct {
	imageResult
	Err string `json:"err,omitempty"`
}

// workHello is the first thing a worker process says: a process that says anything
// else (another build's, another program) is not one, and the worker falls back to
// doing its images itself.
const workHello = "morimock image-worker 1\n"

// helloTimeout is how long a started process may take to say workHello.
const helloTimeout = 10 * time.Second

const (
	maxJobHeader  = 1 << 20
	maxOutput     = 1 << 30 // bytes of one output: a 24-megapixel image's PNG is a tenth of it
	maxFrame      = 1 << 20 // a 'D' frame, and the piece the worker process writes in
	maxImageInput = 1 << 36
	// processFailed is the message of an order whose input ended its worker process
	// (a crash, the kernel's out-of-memory killer).
	processFailed = "the file could not be processed"
)

// ServeImageWork answers the jobs read from in on out until in ends: the body of an
// image worker process (`morimock image-worker`). An error is a broken stream; an
// input that cannot be processed is answered, not an error.
func ServeImageWork(in io.Reader, out io.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriterSize(out, 64<<10)
	bw.WriteString(workHello)
	if err := bw.Flush(); err != nil {
		return err
	}
	for {
		job, input, err := readJob(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := safeImageJob(job, input, func(name string, pixels int, encode func(io.Writer) error) error {
			return writeOutput(bw, name, pixels, encode)
		})
		input = nil
		a := imageAnswer{imageResult: res}
		if err != nil {
			a.Err = err.Error()
		}
		body, _ := json.Marshal(a)
		bw.WriteByte('R')
		binary.Write(bw, binary.BigEndian, uint32(len(body)))
		bw.Write(body)
		if err := bw.Flush(); err != nil {
			return err
		}
		if res.PixelBytes > bigJob {
			debug.FreeOSMemory() // the process idles most of the time: see bigJob
		}
	}
}

// safeImageJob is runImageJob, with a panic of a codec on a hostile input read as
// that input's failure.
func safeImageJob(job imageJob, input []byte, emit emitFunc) (res imageResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = imageResult{Fail: processFailed}, nil
		}
	}()
	return runImageJob(job, bytes.NewReader(input), emit)
}

func readJob(br *bufio.Reader) (imageJob, []byte, error) {
	var job imageJob
	var n uint32
	if err := binary.Read(br, binary.BigEndian, &n); err != nil {
		return job, nil, err // io.EOF: no more jobs
	}
	if n > maxJobHeader {
		return job, nil, fmt.Errorf("image job: header of %d bytes", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return job, nil, fmt.Errorf("image job: %w", noEOF(err))
	}
	if err := json.Unmarshal(hdr, &job); err != nil {
		return job, nil, fmt.Errorf("image job: %w", err)
	}
	var size uint64
	if err := binary.Read(br, binary.BigEndian, &size); err != nil {
		return job, nil, fmt.Errorf("image job: %w", noEOF(err))
	}
	if size > maxImageInput {
		return job, nil, fmt.Errorf("image job: input of %d bytes", size)
	}
	input := make([]byte, size)
	if _, err := io.ReadFull(br, input); err != nil {
		return job, nil, fmt.Errorf("image job: %w", noEOF(err))
	}
	return job, input, nil
}

// noEOF reads a stream that ends inside a frame as cut short.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeOutput frames one output: its header, encode's bytes in 'D' frames, and 'E'.
func writeOutput(bw *bufio.Writer, name string, pixels int, encode func(io.Writer) error) error {
	bw.WriteByte('O')
	binary.Write(bw, binary.BigEndian, uint16(len(name)))
	bw.WriteString(name)
	binary.Write(bw, binary.BigEndian, uint64(pixels))
	if err := encode(frameWriter{bw}); err != nil {
		return err // the stream is cut: the server ends this process
	}
	return bw.WriteByte('E')
}

type frameWriter struct{ bw *bufio.Writer }

func (f frameWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), maxFrame)]
		f.bw.WriteByte('D')
		binary.Write(f.bw, binary.BigEndian, uint32(len(piece)))
		if _, err := f.bw.Write(piece); err != nil {
			return n, err
		}
		n += len(piece)
		p = p[len(piece):]
	}
	return n, nil
}

// readOutput copies the 'D' frames of one output to w, up to its 'E', at most limit
// bytes (maxOutput).
func readOutput(br *bufio.Reader, w io.Writer, limit int64) error {
	var total int64
	for {
		kind, err := br.ReadByte()
		if err != nil {
			return noEOF(err)
		}
		switch kind {
		case 'E':
			return nil
		case 'D':
		default:
			return fmt.Errorf("image worker process: frame %q inside an output", kind)
		}
		var n uint32
		if err := binary.Read(br, binary.BigEndian, &n); err != nil {
			return noEOF(err)
		}
		if total += int64(n); n > maxFrame || total > limit {
			return fmt.Errorf("image worker process: frame of %d bytes, %d in the output", n, total)
		}
		if _, err := io.CopyN(w, br, int64(n)); err != nil {
			return noEOF(err)
		}
	}
}

// imageProcs is an image worker's process: started with the first job the worker
// hands it, from the worker's own thread (whose end ends it, setDeathSignal), set to
// workerNice thread by thread, and started again after it ends or was lowered.
type imageProcs struct {
	newCmd func() *exec.Cmd
	log    *slog.Logger
	mu     sync.Mutex
	p      *imageProc
	duty   chan struct{} // closed to end the duty cycle; nil when none runs
	dutyOK chan struct{} // closed when the duty cycle has continued the process
	// busyAt is when requests were last seen arriving quickly, zero once quietTicks
	// ticks of the watch saw them slow down: a lowered process is kept for the next
	// job while they may still be busy (see stillBusy).
	busyAt    time.Time
	stillBusy time.Duration // stillBusy, or a test's
	// heldFor is how long the job's process has been held (stopped) so far, and
	// holdMax how long it may be (maxHold, or a test's); holdable says the job may be
	// held at all (a long one): see busy.
	heldFor, holdMax time.Duration
	holdable         bool
	// longWork is Config.LongWork, called around the duty cycle, whose thread holds
	// a P while it sleeps.
	longWork func(start bool)
	// quiet counts the watch's quiet ticks in a row; restarted says the job was
	// started over once (see busy).
	quiet     int
	restarted bool
	died      bool // the job's process ended in its middle once already
}

// errStartOver is a job's process ended, by the sandbox so that the job starts over
// in a new process at workerNice (see busy), or by itself (see run): the caller
// forgets the job's outputs and runs it again.
var errStartOver = errors.New("image worker process: started over")

// maxHold is how long a job's process may be held, stopped, while requests arrive
// quickly; the rest of the job runs in the duty cycle (see busy). A load of the
// sandbox's own requests, a gallery or a load test, pays nothing for the image work
// for that long, and the image orders wait for it; a load that lasts longer still gets
// its orders done. A client that polls its own order in a loop is not held at all.
const maxHold = 30 * time.Second

// stillBusy is how long after requests were last seen arriving quickly a job starts
// lowered, in the lowered process, held (a long job) or in the duty cycle (a small
// one): a load that goes on between two jobs neither pays a process's start (about
// 10 ms of work) nor meets a job at workerNice until the watch's first tick.
const stillBusy = 100 * time.Millisecond

// quietTicks is how many quiet ticks of the watch in a row end a hold or the duty
// cycle, and restartTicks how many start a job whose process was lowered over at
// workerNice (see busy). One quiet tick is not enough: a stall of the server's own makes a tick
// look quiet while requests wait, and the server's log of a bad round of
// bench/imagelatency.sh (wrk's busy p99 at 4 ms) showed the duty cycle ended and
// started again every few ticks.
const (
	quietTicks   = 3
	restartTicks = 10
)

// procStartError is an image worker process that could not be started: the worker
// then does its images itself (workInline).
type procStartError struct{ err error }

func (e *procStartError) Error() string { return "starting the image worker process: " + e.err.Error() }
func (e *procStartError) Unwrap() error { return e.err }

type imageProc struct {
	cmd     *exec.Cmd
	in      *os.File // the process's standard input
	out     *bufio.Reader
	outFile *os.File
	exited  chan struct{} // closed once Wait returned
	lowered atomic.Bool   // at SCHED_IDLE: ended after its job
	held    bool          // stopped by busy, until requests are quiet or holdMax is spent; ps.mu
	killed  atomic.Bool   // ended by the sandbox
	over    atomic.Bool   // ended so that its job starts over
	waitErr error
}

// ensure starts the process unless it runs, or was lowered and requests have not
// been busy since stillBusy. It is called on the worker's thread.
func (ps *imageProcs) ensure() (*imageProc, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.p; p != nil {
		select {
		case <-p.exited:
		default:
			if !p.lowered.Load() || ps.recentlyBusy() {
				return p, nil
			}
		}
		ps.retireLocked(p)
	}
	p, err := startImageProc(ps.newCmd())
	if err != nil {
		return nil, err
	}
	if err := niceProcess(p.cmd.Process.Pid, workerNice); err != nil {
		p.kill()
		p.close()
		return nil, &procStartError{err}
	}
	ps.p = p
	return p, nil
}

func startImageProc(cmd *exec.Cmd) (*imageProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	setDeathSignal(cmd)
	err = cmd.Start()
	inR.Close() // the process's ends: ours would keep the pipes open after it ends
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, &procStartError{err}
	}
	p := &imageProc{cmd: cmd, in: inW, out: bufio.NewReaderSize(outR, 256<<10), outFile: outR, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	hello := make([]byte, len(workHello))
	t := time.AfterFunc(helloTimeout, p.kill)
	_, err = io.ReadFull(p.out, hello)
	t.Stop()
	if err != nil || string(hello) != workHello {
		p.kill()
		p.close()
		if err == nil {
			err = fmt.Errorf("it said %q, not %q", hello, workHello)
		} else if p.waitErr != nil {
			err = fmt.Errorf("%w before a word (%v)", noEOF(err), p.waitErr)
		}
		return nil, &procStartError{err}
	}
	return p, nil
}

// kill ends the process and waits for it.
func (p *imageProc) kill() {
	p.killed.Store(true)
	p.cmd.Process.Kill()
	<-p.exited
}

func (p *imageProc) close() {
	p.in.Close()
	p.outFile.Close()
}

// run does job in the process, its input read from r, and stores its outputs through
// emit. An input that ends the process fails its order (processFailed).
//
// A process that ends in the middle of a job (a crash, the kernel's out-of-memory
// killer) is logged, and the job starts over in a new process (errStartOver): a
// second end in the same job is the input's doing, and fails its order
// (processFailed).
func (ps *imageProcs) run(ctx context.Context, job imageJob, r io.ReadSeeker, emit emitFunc) (imageResult, error) {
	p, err := ps.ensure()
	if err != nil {
		return imageResult{}, err
	}
	stop := context.AfterFunc(ctx, p.kill)
	res, err := p.do(job, r, emit)
	if !stop() && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil {
		return res, nil
	}
	if p.over.Load() && ctx.Err() == nil {
		ps.retire(p)
		return imageResult{}, errStartOver
	}
	died := false
	var ee *emitError
	if !errors.As(err, &ee) && !p.killed.Load() && ctx.Err() == nil {
		// A read from the process failed: wait for its end, which comes with
		// the end of its output, unless the stream itself was out of step.
		select {
		case <-p.exited:
			died = true
		case <-time.After(time.Second):
		}
	}
	// The process is ended either way: the stream between us may be out of step.
	ps.retire(p)
	if !died {
		return imageResult{}, err
	}
	if ps.log != nil {
		ps.log.Warn("the image worker process ended in the middle of a job", "again", ps.died, "exit", p.waitErr, "err", err)
	}
	if ps.died {
		return imageResult{Fail: processFailed}, nil
	}
	ps.died = true
	return imageResult{}, errStartOver
}

// emitError is an error of the emit a job's outputs go to (the store), not of the
// process.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }
func (e *emitError) Unwrap() error { return e.err }

func (p *imageProc) do(job imageJob, r io.ReadSeeker, emit emitFunc) (imageResult, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = r.Seek(0, io.SeekStart)
	}
	if err != nil {
		return imageResult{}, err
	}
	if err := writeJob(p.in, job, r, size); err != nil {
		return imageResult{}, fmt.Errorf("image worker process: sending the input: %w", err)
	}
	return p.answer(job, emit)
}

// writeJob sends job, with the size bytes of its input read from r.
func writeJob(w io.Writer, job imageJob, r io.Reader, size int64) error {
	hdr, err := json.Marshal(job)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	binary.Write(bw, binary.BigEndian, uint32(len(hdr)))
	bw.Write(hdr)
	binary.Write(bw, binary.BigEndian, uint64(size))
	if _, err := io.CopyN(bw, r, size); err != nil {
		return err
	}
	return bw.Flush()
}

// answer reads the frames of a job's answer, its outputs handed to emit.
func (p *imageProc) answer(job imageJob, emit emitFunc) (imageResult, error) {
	for {
		kind, err := p.out.ReadByte()
		if err != nil {
			return imageResult{}, fmt.Errorf("image worker process: %w", noEOF(err))
		}
		switch kind {
		case 'O':
			var n uint16
			if err := binary.Read(p.out, binary.BigEndian, &n); err != nil {
				return imageResult{}, noEOF(err)
			}
			name := make([]byte, n)
			var pixels uint64
			if _, err := io.ReadFull(p.out, name); err != nil {
				return imageResult{}, noEOF(err)
			}
			if err := binary.Read(p.out, binary.BigEndian, &pixels); err != nil {
				return imageResult{}, noEOF(err)
			}
			if !job.outputs()[string(name)] {
				return imageResult{}, fmt.Errorf("image worker process: an output named %q", name)
			}
			var streamErr error
			err := emit(string(name), int(min(pixels, 1<<40)), func(w io.Writer) error {
				streamErr = readOutput(p.out, w, maxOutput)
				return streamErr
			})
			if err != nil && (streamErr == nil || !errors.Is(err, streamErr)) {
				return imageResult{}, &emitError{err}
			}
			if err != nil {
				return imageResult{}, err
			}
		case 'R':
			var n uint32
			if err := binary.Read(p.out, binary.BigEndian, &n); err != nil {
				return imageResult{}, noEOF(err)
			}
			if n > maxJobHeader {
				return imageResult{}, fmt.Errorf("image worker process: answer of %d bytes", n)
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(p.out, body); err != nil {
				return imageResult{}, noEOF(err)
			}
			var a imageAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				return imageResult{}, fmt.Errorf("image worker process: %w", err)
			}
			if a.Err != "" {
				return imageResult{}, fmt.Errorf("image worker process: %s", a.Err)
			}
			return a.imageResult, nil
		default:
			return imageResult{}, fmt.Errorf("image worker process: frame %q", kind)
		}
	}
}

// retire ends p, if it is still the worker's process; the next job starts another.
func (ps *imageProcs) retire(p *imageProc) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.retireLocked(p)
}

// retireLocked is retire with ps.mu held.
func (ps *imageProcs) retireLocked(p *imageProc) {
	ps.stopDutyLocked()
	p.held = false // SIGKILL ends a stopped process too
	if ps.p == p {
		ps.p = nil
	}
	p.kill()
	p.close()
}

// endJob is called by the worker after each job: the duty cycle ends with it. A
// process lowered during it is kept while requests may still be busy, and ended by
// the next job's ensure otherwise, so that job runs at workerNice again (only a
// privileged program may take SCHED_IDLE back).
func (ps *imageProcs) endJob() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.duty != nil {
		ps.busyAt = time.Now()
	}
	ps.stopDutyLocked()
	// A process stopped after it had answered would sit there, holding its memory,
	// until the next job's watch continued it.
	ps.p.unhold()
	ps.quiet, ps.restarted, ps.died, ps.heldFor, ps.holdable = 0, false, false, 0, false
}

// lowered reports whether the process is at SCHED_IDLE: a job it does is watched,
// however small (see makeOutputs).
func (ps *imageProcs) lowered() bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.p != nil && ps.p.lowered.Load()
}

// startJob is called before a watched job: long says whether it may be held (a small
// job in a lowered process goes to the duty cycle instead, since a hold would keep an
// order of milliseconds waiting for up to maxHold). It holds the process at once when
// requests were busy within stillBusy.
func (ps *imageProcs) startJob(long bool) error {
	ps.mu.Lock()
	ps.holdable = long
	recent := ps.recentlyBusy()
	ps.mu.Unlock()
	if recent {
		return ps.busy(true, false, 0)
	}
	return nil
}

// recentlyBusy reports whether requests were busy within stillBusy; ps.mu is held.
func (ps *imageProcs) recentlyBusy() bool {
	return !ps.busyAt.IsZero() && time.Since(ps.busyAt) < cmp.Or(ps.stillBusy, stillBusy)
}

// busy is called on each tick of the watch, with whether requests arrived quickly
// since the last one, whether GETs of the job's own order alone did (waited), and how
// long ago that was.
//
// While requests arrive quickly, the process of a long job is held: lowered to
// SCHED_IDLE (the first time) and stopped, so that it takes nothing from the requests,
// neither the core nor the caches. A stopped process does no work, so a job is held
// for maxHold at most in all (quiet ticks it stays stopped through count), and not at
// all while its own order is polled that fast (the requests then wait for the job:
// holding it would only delay what they wait for); from then on, and for a small job
// from the start, its process runs in the duty cycle while requests are busy, which
// costs them a little (the README's figures).
//
// After quietTicks quiet ticks in a row the process runs freely again. A process at
// SCHED_IDLE gets nothing of a core another program keeps busy, and only a
// privileged program may take it back. So after restartTicks quiet ticks in a row
// (100 ms) in a job whose process was lowered, that process is ended and the job
// starts over in a new one at workerNice (errStartOver), once a job: what it had done
// is lost (under a second of work for a 12-megapixel photo), but it can no longer
// wait behind another program for as long as that one runs.
func (ps *imageProcs) busy(on, waited bool, elapsed time.Duration) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.p
	if p != nil && p.held {
		ps.heldFor += elapsed // stopped since the last tick, busy or not
	}
	if !on {
		ps.quiet++
		if ps.quiet >= quietTicks {
			ps.busyAt = time.Time{}
			ps.stopDutyLocked()
			p.unhold()
		}
		if p != nil && p.lowered.Load() && !ps.restarted && ps.quiet >= restartTicks {
			ps.restarted = true
			ps.stopDutyLocked()
			p.over.Store(true)
			p.kill()
		}
		return nil
	}
	ps.quiet = 0
	ps.busyAt = time.Now()
	if p == nil || ps.duty != nil {
		return nil
	}
	if !p.lowered.Load() {
		if err := idleProcess(p.cmd.Process.Pid); err != nil {
			return err
		}
		p.lowered.Store(true)
	}
	if ps.holdable && ps.heldFor < cmp.Or(ps.holdMax, maxHold) && !waited {
		if !p.held {
			if err := stopProcess(p.cmd.Process); err != nil {
				return nil // the process ended: its job's end says how
			}
			p.held = true
		}
		return nil
	}
	// Held for long enough, waited for, or small: the duty cycle, from a slice of work.
	p.unhold()
	ps.duty, ps.dutyOK = make(chan struct{}), make(chan struct{})
	if ps.longWork != nil {
		ps.longWork(true)
	}
	go dutyCycle(p.cmd.Process, ps.duty, ps.dutyOK)
	return nil
}

// unhold continues p if busy stopped it; p may be nil. The caller holds ps.mu.
func (p *imageProc) unhold() {
	if p != nil && p.held {
		p.held = false
		continueProcess(p.cmd.Process)
	}
}

func (ps *imageProcs) stopDutyLocked() {
	if ps.duty == nil {
		return
	}
	close(ps.duty)
	<-ps.dutyOK
	ps.duty, ps.dutyOK = nil, nil
	if ps.longWork != nil {
		ps.longWork(false)
	}
}

// shutdown ends the process, when the worker ends.
func (ps *imageProcs) shutdown() {
	ps.mu.Lock()
	p := ps.p
	ps.mu.Unlock()
	if p != nil {
		ps.retire(p)
	}
}
