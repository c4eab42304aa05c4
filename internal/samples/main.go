// Command samples draws the README's pictures of the files an aiDetection order
// serves: the heat map and the overlay the sandbox makes from its generated sample
// image (files.Sample), through the same functions the sandbox's image work calls.
// The pictures are a function of the seed, so running it again rewrites the same bytes:
//
//	go run ./internal/samples -out docs/
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"

	xdraw "golang.org/x/image/draw"

	"github.com/morimock/morimock/mockserver/files"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}

// maxBytes keeps each picture small enough to check in.
const maxBytes = 100 << 10

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("samples", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "docs", "directory the PNGs are written to")
	seed := fs.Uint64("seed", 3, "seed of the sample image and of the heat map")
	p := fs.Float64("probability", 0.55, "the order's probability: the heat map's mean intensity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("samples takes no arguments, only flags")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	pictures := render(*seed, *p)
	for _, name := range pictureNames {
		m := pictures[name]
		var buf bytes.Buffer
		// The best compression, not the sandbox's fastest: these are checked in.
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, m); err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if buf.Len() > maxBytes {
			return fmt.Errorf("%s is %d bytes; keep it under %d", name, buf.Len(), maxBytes)
		}
		if err := os.WriteFile(filepath.Join(*out, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d x %d, %d bytes\n", filepath.Join(*out, name), m.Bounds().Dx(), m.Bounds().Dy(), buf.Len())
	}
	return nil
}

// pictureNames are the files run writes, in the order it writes them.
var pictureNames = []string{"sample-input.png", "sample-heatmap.png", "sample-overlay.png"}

// render draws the pictures, by file name. The input and both outputs are those of
// an order for a 480 x 360 photo (the sample scaled down, so that the overlay stays
// under maxBytes): the heat map is of the input's size, the overlay is the heat map
// over the input.
func render(seed uint64, p float64) map[string]image.Image {
	sample := files.Sample(seed)
	img := image.NewRGBA(image.Rect(0, 0, 480, 360))
	xdraw.CatmullRom.Scale(img, img.Bounds(), sample, sample.Bounds(), draw.Src, nil)
	b := img.Bounds()
	heat := files.Heatmap(b.Dx(), b.Dy(), p, seed)
	return map[string]image.Image{
		"sample-input.png":   img,
		"sample-heatmap.png": heat,
		"sample-overlay.png": files.Overlay(img, heat),
	}
}
