package mockserver

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"image"
	"io"
	"strconv"

	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/order"
)

// imageJob is the work on one image input of an order, with everything it needs and
// no store: the worker makes it in this process, or hands it to an image worker
// process (imageproc.go) with the input's bytes. It travels as JSON.
type imageJob struct {
	Type        order.Type `json:"type"`
	Index       int        `json:"index"` // the file's index in the order: names its output
	Name        string     `json:"name"`
	Format      string     `json:"format"`
	MaxPixels   int        `json:"maxPixels"`
	Thumbnail   bool       `json:"thumbnail"` // the order's thumbnail is made from this input
	Heatmap     bool       `json:"heatmap"`
	Overlay     bool       `json:"overlay"`
	Probability float64    `json:"probability"`
	Seed        uint64     `json:"seed"` // the sandbox's: the job mixes in its input's digest (inputSeed)
	Watermarks  []string   `json:"watermarks,omitempty"`
}

// outputs are the names the job may make.
func (job imageJob) outputs() map[string]bool {
	return map[string]bool{blobThumbnail: job.Thumbnail, blobHeatmap: job.Heatmap, blobOverlay: job.Overlay, blobOutput + strconv.Itoa(job.Index): true}
}

// imageResult is what an imageJob learned from its input.
type imageResult struct {
	Fail       string `json:"fail,omitempty"` // the input's fault: the failed order's message
	Detected   *bool  `json:"detected,omitempty"`
	Text       string `json:"text,omitempty"`
	PixelBytes int64  `json:"pixelBytes,omitempty"` // the decoded image's size (see bigJob)
}

// emitFunc stores the output name of an image of pixels pixels, as encode writes it.
type emitFunc func(name string, pixels int, encode func(io.Writer) error) error

// inputSeed is the seed of an input's outputs: the sandbox's seed and the input's
// SHA-256, so the same bytes get the same protection and heat map in every order. It
// reads r to its end and back to its start.
func inputSeed(seed uint64, r io.ReadSeeker) (uint64, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return 0, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return seed ^ binary.BigEndian.Uint64(h.Sum(nil)), nil
}

// runImageJob decodes job's input from r and makes its outputs through emit. An input
// the service cannot process ends in imageResult.Fail; an error is emit's, the
// sandbox's own failure.
func runImageJob(job imageJob, r io.ReadSeeker, emit emitFunc) (imageResult, error) {
	var res imageResult
	fail := func(err error) (imageResult, error) {
		var ie *files.InputError
		if errors.As(err, &ie) {
			res.Fail = ie.Msg
			return res, nil
		}
		return res, err
	}
	emitPNG := func(name string, img image.Image) error {
		return emit(name, img.Bounds().Dx()*img.Bounds().Dy(), func(w io.Writer) error { return files.EncodePNG(w, img) })
	}
	seed, err := inputSeed(job.Seed, r)
	if err != nil {
		return res, err
	}
	img, err := files.DecodeImage(r, job.Name, job.Format, files.Limits{MaxPixels: job.MaxPixels})
	if err != nil {
		return fail(err)
	}
	bnd := img.Bounds()
	res.PixelBytes = 4 * int64(bnd.Dx()) * int64(bnd.Dy())
	if job.Type == order.AntiAI || job.Type == order.WatermarkEmbed {
		// The copy is made first and the thumbnail from it, before it is changed:
		// scaling reads an RGBA faster than a decoder's YCbCr.
		img = files.AsNRGBA(img) // the decoded image (and its pixels) is not read after
	}
	pre := files.Preview(img)
	if job.Thumbnail {
		if err := emitPNG(blobThumbnail, files.Thumbnail(pre)); err != nil {
			return res, err
		}
	}
	switch job.Type {
	case order.AIDetection:
		if job.Heatmap {
			if err := emitPNG(blobHeatmap, files.Heatmap(bnd.Dx(), bnd.Dy(), job.Probability, seed)); err != nil {
				return res, err
			}
		}
		if job.Overlay {
			pb := pre.Bounds()
			heat := files.Heatmap(pb.Dx(), pb.Dy(), job.Probability, seed)
			if err := emitPNG(blobOverlay, files.Overlay(pre, heat)); err != nil {
				return res, err
			}
		}
	case order.AntiAI, order.WatermarkEmbed:
		out := img.(*image.NRGBA)
		if job.Type == order.AntiAI {
			files.Perturb(out, seed)
		} else if err := files.EmbedWatermark(out, job.Watermarks); err != nil {
			return fail(err) // an image too small for its texts: the order says so
		}
		format := files.OutputFormat(job.Format)
		if err := emit(blobOutput+strconv.Itoa(job.Index), bnd.Dx()*bnd.Dy(), func(w io.Writer) error { return files.Encode(w, out, format) }); err != nil {
			return res, err
		}
	case order.WatermarkExtract:
		text, ok := files.ReadWatermark(img)
		res.Detected, res.Text = &ok, text
	}
	return res, nil
}
