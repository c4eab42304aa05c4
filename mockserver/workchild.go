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
	"strconv"
)

// The image work of an order with large inputs can run in a process of its own
// (Config.ImageJob; cmd/morimock's serve starts its own binary for each such order,
// which calls ServeImageJob). A trace of the server while it processed 12-megapixel
// photos showed the work hurting GETs through the Go runtime they share, which no
// thread priority reaches: about 1% of GETs found no P free when they arrived (the
// worker's locked thread and the store's goroutine passing the Ps between them), and
// each stop of the world, forced collection and return of ~100 MB to the system
// waited for, or ran on, the worker. In a process of its own the work has its own
// heap, collector and Ps; the server's only share of it is storing the outputs.
//
// The job goes to the process as one line of JSON (imageJob with the sizes of the
// inputs) followed by the inputs' bytes, in order; the outputs come back as frames:
// a kind byte, then the output's name and the frame's data, each as a uvarint length
// and bytes.
const (
	frameBlob   = 'b' // a whole output
	framePiece  = 's' // the next piece of a streamed output
	frameEnd    = 'e' // a streamed output is complete
	frameResult = 'r' // the last frame: the result, as JSON (remoteResult)
)

// jobHeader is the first line the image process reads.
type jobHeader struct {
	imageJob
	Sizes []int64 `json:"sizes"` // of each input's bytes that follow, in order; 0 for one not read
}

// remoteResult is what the image process learned from the inputs, or its failure.
type remoteResult struct {
	Fail     string `json:"fail,omitempty"`
	Detected *bool  `json:"detected,omitempty"`
	Text     string `json:"text,omitempty"`
	Err      string `json:"err,omitempty"` // the work's own failure: the order is retried
}

// ServeImageJob does the image work of one order in a process of its own: it reads
// the job from in and writes the outputs to out (see Config.ImageJob). The outputs are
// the bytes the server would make itself.
func ServeImageJob(ctx context.Context, in io.Reader, out io.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("image job: read the job: %w", err)
	}
	var h jobHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return fmt.Errorf("image job: decode the job: %w", err)
	}
	if h.Record == nil || len(h.Sizes) != len(h.Record.Files) || len(h.Digests) != len(h.Record.Files) {
		return errors.New("image job: the job does not match its order")
	}
	inputs := make([][]byte, len(h.Sizes))
	for i, n := range h.Sizes {
		if n < 0 || n > SourceMaxBytes*4 {
			return fmt.Errorf("image job: input %d has a size of %d bytes", i, n)
		}
		inputs[i] = make([]byte, n)
		if _, err := io.ReadFull(br, inputs[i]); err != nil {
			return fmt.Errorf("image job: read input %d: %w", i, err)
		}
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	sink := &frameSink{w: bw}
	open := func(i int) (io.ReadSeeker, func(), error) {
		return bytes.NewReader(inputs[i]), func() {}, nil
	}
	res, err := computeOutputs(h.imageJob, open, sink)
	if err == nil {
		err = sink.err
	}
	rr := remoteResult{Fail: res.fail, Detected: res.detected, Text: res.text}
	if err != nil {
		rr = remoteResult{Err: err.Error()}
	}
	b, err := json.Marshal(rr)
	if err != nil {
		return err
	}
	if err := writeFrame(bw, frameResult, "", b); err != nil {
		return err
	}
	return bw.Flush()
}

// frameSink writes the outputs of ServeImageJob as frames. Outputs the server would
// stream are written in pieces as they are encoded, so the image process holds no
// full-size output either.
type frameSink struct {
	w   *bufio.Writer
	err error // the first write that failed
}

func (f *frameSink) add(name string, data []byte) error {
	return f.keep(writeFrame(f.w, frameBlob, name, data))
}

func (f *frameSink) keep(err error) error {
	if f.err == nil {
		f.err = err
	}
	return err
}

func (f *frameSink) put(name string, pixels int, encode func(io.Writer) error) error {
	if pixels <= bufferedPixels {
		var b bytes.Buffer
		if err := encode(&b); err != nil {
			return err
		}
		return f.add(name, b.Bytes())
	}
	pw := bufio.NewWriterSize(pieceWriter{f, name}, streamPiece)
	if err := encode(pw); err != nil {
		return err
	}
	if err := pw.Flush(); err != nil {
		return err
	}
	return f.keep(writeFrame(f.w, frameEnd, name, nil))
}

// pieceWriter writes each Write as a piece of the streamed output name.
type pieceWriter struct {
	f    *frameSink
	name string
}

func (p pieceWriter) Write(b []byte) (int, error) {
	if err := p.f.keep(writeFrame(p.f.w, framePiece, p.name, b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func writeFrame(w *bufio.Writer, kind byte, name string, data []byte) error {
	var n [binary.MaxVarintLen64]byte
	w.WriteByte(kind)
	w.Write(n[:binary.PutUvarint(n[:], uint64(len(name)))])
	w.WriteString(name)
	w.Write(n[:binary.PutUvarint(n[:], uint64(len(data)))])
	_, err := w.Write(data)
	return err
}

// maxFrame bounds a frame's data: a whole output (one of up to bufferedPixels, or a
// PDF) or a piece.
const maxFrame = 256 << 20

func readFrame(r *bufio.Reader) (kind byte, name string, data []byte, err error) {
	kind, err = r.ReadByte()
	if err != nil {
		return 0, "", nil, err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1024 {
		return 0, "", nil, fmt.Errorf("bad frame name (%d bytes): %w", n, cmpErr(err))
	}
	nb := make([]byte, n)
	if _, err := io.ReadFull(r, nb); err != nil {
		return 0, "", nil, err
	}
	n, err = binary.ReadUvarint(r)
	if err != nil || n > maxFrame {
		return 0, "", nil, fmt.Errorf("bad frame length (%d bytes): %w", n, cmpErr(err))
	}
	data = make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, "", nil, err
	}
	return kind, string(nb), data, nil
}

func cmpErr(err error) error {
	if err == nil {
		return errors.New("out of bounds")
	}
	return err
}

// remoteOutputs has Config.ImageJob make an order's outputs: the inputs are read from
// the store and sent, the outputs received into out (kept, or streamed to the store as
// they arrive).
func (s *Server) remoteOutputs(ctx context.Context, sb *sandbox, job imageJob, out *storeSink) (result, error) {
	rec := job.Record
	h := jobHeader{imageJob: job, Sizes: make([]int64, len(rec.Files))}
	for i := range rec.Files {
		if rec.Files[i].Role == "original" {
			continue
		}
		b, err := sb.store.OpenBlob(ctx, inputBlob(rec, i))
		if err != nil {
			return result{}, err
		}
		h.Sizes[i] = b.Size()
		b.Close()
	}
	head, err := json.Marshal(h)
	if err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ran := make(chan error, 1)
	go func() {
		err := s.cfg.ImageJob(ctx, inR, outW)
		inR.CloseWithError(errors.New("image job ended"))
		outW.CloseWithError(cmp.Or(err, io.ErrUnexpectedEOF)) // a reader past the result frame sees why it ended
		ran <- err
	}()
	go func() {
		err := func() error {
			if _, err := inW.Write(append(head, '\n')); err != nil {
				return err
			}
			for i, n := range h.Sizes {
				if n == 0 {
					continue
				}
				b, err := sb.store.OpenBlob(ctx, inputBlob(rec, i))
				if err != nil {
					return err
				}
				_, err = io.CopyN(inW, b, n)
				b.Close()
				if err != nil {
					return err
				}
			}
			return nil
		}()
		inW.CloseWithError(err)
	}()
	res, err := s.receiveOutputs(bufio.NewReaderSize(outR, 64<<10), out)
	if err != nil {
		cancel() // ends a process that hangs or writes on; after its result it just exits
	}
	outR.CloseWithError(errors.New("outputs read"))
	if rerr := <-ran; err == nil && rerr != nil {
		err = fmt.Errorf("image job: %w", rerr)
	}
	return res, err
}

// receiveOutputs reads the frames of an image job into out, up to the result.
func (s *Server) receiveOutputs(r *bufio.Reader, out *storeSink) (result, error) {
	var w *io.PipeWriter // the streamed output being received
	var wait func() error
	var streaming string
	defer func() {
		if w != nil {
			w.CloseWithError(errors.New("image job ended in the middle of an output"))
			wait()
		}
	}()
	for {
		kind, name, data, err := readFrame(r)
		if err != nil {
			return result{}, fmt.Errorf("image job: read its outputs: %w", err)
		}
		if w != nil && (kind != framePiece && kind != frameEnd || name != streaming) {
			return result{}, fmt.Errorf("image job: output %s cut by frame %q", streaming, kind)
		}
		switch kind {
		case frameBlob:
			out.add(name, data)
		case framePiece:
			if w == nil {
				out.streamed = true
				w, wait = out.stream(name)
				streaming = name
			}
			if _, err := w.Write(data); err != nil {
				return result{}, err
			}
		case frameEnd:
			if w == nil { // an output of no bytes
				out.streamed = true
				w, wait = out.stream(name)
			}
			w.Close()
			err := wait()
			w = nil
			if err != nil {
				return result{}, err
			}
		case frameResult:
			var rr remoteResult
			if err := json.Unmarshal(data, &rr); err != nil {
				return result{}, fmt.Errorf("image job: decode its result: %w", err)
			}
			if rr.Err != "" {
				return result{}, errors.New("image job: " + rr.Err)
			}
			return result{fail: rr.Fail, detected: rr.Detected, text: rr.Text}, nil
		default:
			return result{}, errors.New("image job: unknown frame " + strconv.QuoteRune(rune(kind)))
		}
	}
}
