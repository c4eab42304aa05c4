package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestPicturesAreCurrent: the README's pictures are what the command makes now, so a
// change to the heat map or the overlay shows in the README too (run
// `go run ./internal/samples -out docs/` and look at the pictures before committing).
func TestPicturesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-out", dir}, io.Discard); err != nil {
		t.Fatalf("run() error = %v", err)
	}
	for _, name := range []string{"sample-input.png", "sample-heatmap.png", "sample-overlay.png"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/%s differs from what the command makes now; run go run ./internal/samples -out docs/", name)
		}
	}
}

func TestRunRefusesArguments(t *testing.T) {
	if err := run([]string{"-out", t.TempDir(), "extra"}, io.Discard); err == nil {
		t.Error("run(extra argument) = nil; want an error")
	}
}
