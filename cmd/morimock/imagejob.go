package main

import (
	"context"
	"io"
	"os"
	"os/exec"

	"github.com/morimock/morimock/mockserver"
)

// imageJobCommand is the hidden command serve runs, in a process of its own, for the
// image work of each order with large inputs (mockserver.Config.ImageJob): it reads
// the job on stdin and writes the outputs on stdout.
const imageJobCommand = "image-job"

// imageJobKey carries main's imageJobIn to serve in the context: only main knows the
// running binary is morimock (tests run serve in-process, inside a test binary).
type imageJobKey struct{}

// imageJobIn returns a mockserver.Config.ImageJob that runs exe's image-job command.
// Its errors (the process could not start, or died) leave the order to be retried.
func imageJobIn(exe string, stderr io.Writer) func(ctx context.Context, in io.Reader, out io.Writer) error {
	return func(ctx context.Context, in io.Reader, out io.Writer) error {
		cmd := exec.CommandContext(ctx, exe, imageJobCommand)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, stderr
		return cmd.Run()
	}
}

// runImageJob is the image-job command. The process yields the CPU to every other
// (lowerProcess): a request to the server that started it runs at once on a core they
// share, and the job takes what is left. Its memory goes back to the system when it
// ends.
func runImageJob(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	lowerProcess()
	return mockserver.ServeImageJob(ctx, stdin, stdout)
}

// imageJobs says whether main runs serve's large image jobs in processes of their
// own: for serve whose flags parse, when the binary can find itself.
func imageJobs(args []string, getenv func(string) string) (string, bool) {
	if len(args) == 0 || args[0] != "serve" {
		return "", false
	}
	if _, err := parseServe(args[1:], getenv, io.Discard); err != nil {
		return "", false
	}
	exe, err := os.Executable()
	return exe, err == nil
}
