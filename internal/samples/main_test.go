package main

import (
	"flag"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/ with the pictures the command makes now")

// TestPicturesAreCurrent: the README's pictures are what the command makes now, so a
// change to the heat map or the overlay shows in the README too (run
// `go run ./internal/samples -out docs/`, or this test with -update, and look at the
// pictures before committing). It compares decoded pixels, not PNG bytes: encoding at
// the best compression is nearly all of the command's work (over a minute under
// -race), and the pixels are what a change to the drawing changes.
func TestPicturesAreCurrent(t *testing.T) {
	docs := filepath.Join("..", "..", "docs")
	if *update {
		if err := run([]string{"-out", docs}, io.Discard); err != nil {
			t.Fatalf("run() error = %v", err)
		}
	}
	pictures := render(3, 0.55) // run's defaults
	for _, name := range pictureNames {
		f, err := os.Open(filepath.Join(docs, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("docs/%s: %v", name, err)
		}
		if x, y, differ := firstDifference(want, pictures[name]); differ {
			t.Errorf("docs/%s differs at (%d, %d) from what the command makes now; run go run ./internal/samples -out docs/", name, x, y)
		}
		if fi, err := os.Stat(filepath.Join(docs, name)); err != nil || fi.Size() > maxBytes {
			t.Errorf("docs/%s: %v, over %d bytes", name, err, maxBytes)
		}
	}
}

// firstDifference returns the first pixel where a and b differ (in 16-bit RGBA, so
// that the PNG decoder's choice of image type does not matter).
func firstDifference(a, b image.Image) (int, int, bool) {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx(), a.Bounds().Dy(), true
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return x, y, true
			}
		}
	}
	return 0, 0, false
}

func TestRunRefusesArguments(t *testing.T) {
	if err := run([]string{"-out", t.TempDir(), "extra"}, io.Discard); err == nil {
		t.Error("run(extra argument) = nil; want an error")
	}
}
