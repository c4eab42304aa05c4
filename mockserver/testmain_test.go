package mockserver

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/morimock/morimock/internal/raceexit"
)

// testWorkerEnv names what the test binary, started by testImageProcess, does instead
// of running the tests: "serve" is an image worker process (ServeImageWork), "die"
// one that reads the first bytes of a job and exits, as one the kernel killed, "hold"
// one that takes a job and does not answer, "stranger" one of another build.
const testWorkerEnv = "MORIMOCK_TEST_IMAGE_WORKER"

// testHoldEnv names the file a "hold" worker process writes once it has a job.
const testHoldEnv = "MORIMOCK_TEST_HOLD_FILE"

// TestMain skips the race detector's second of sleep at exit (see raceexit), or is an
// image worker process.
func TestMain(m *testing.M) {
	switch os.Getenv(testWorkerEnv) {
	case "serve":
		if err := ServeImageWork(os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		os.Exit(0)
	case "die":
		os.Stdout.WriteString(workHello)
		io.ReadFull(os.Stdin, make([]byte, 8))
		os.Exit(3)
	case "stranger":
		os.Stdout.WriteString("morimock image-worker 0\n") // another build's
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "hold":
		// Reads a job, says so in the file testHoldEnv names, and does not answer:
		// it exits after a while, which fails the job (so a test that expected the
		// sandbox to end it fails rather than hangs).
		os.Stdout.WriteString(workHello)
		if _, _, err := readJob(bufio.NewReader(os.Stdin)); err == nil {
			os.WriteFile(os.Getenv(testHoldEnv), nil, 0o600)
		}
		time.Sleep(20 * time.Second)
		os.Exit(3)
	}
	os.Exit(raceexit.Run(m))
}

// testImageProcess is a Config.ImageProcess that starts this test binary as an image
// worker process of the mode testWorkerEnv names.
func testImageProcess(mode string) func() *exec.Cmd {
	return func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), testWorkerEnv+"="+mode)
		cmd.Stderr = os.Stderr
		return cmd
	}
}
