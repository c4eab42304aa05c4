package raceexit

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// reportEnv asks TestReportGORACE, in a child process, to print its GORACE.
const reportEnv = "RACEEXIT_TEST_REPORT"

func TestReportGORACE(t *testing.T) {
	if os.Getenv(reportEnv) == "" {
		t.Skip("prints GORACE for TestRun's child processes")
	}
	os.Stdout.WriteString("GORACE=" + os.Getenv("GORACE") + "\n")
}

// TestRun starts this test binary with and without a GORACE of its own: under -race
// and without one, the tests run with the pause off; otherwise GORACE is as given.
func TestRun(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("the process cannot be replaced here")
	}
	for _, tc := range []struct {
		gorace, want string
	}{
		{"", map[bool]string{true: disabled, false: ""}[raceEnabled]},
		{"halt_on_error=1 atexit_sleep_ms=0", "halt_on_error=1 atexit_sleep_ms=0"}, // its own pause off too, to keep the test short
	} {
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GORACE=") })
		env = append(env, reportEnv+"=1")
		if tc.gorace != "" {
			env = append(env, "GORACE="+tc.gorace)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestReportGORACE$", "-test.v")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the child with GORACE %q: %v\n%s", tc.gorace, err, out)
		}
		if !strings.Contains(string(out), "\nGORACE="+tc.want+"\n") && !strings.HasPrefix(string(out), "GORACE="+tc.want+"\n") {
			t.Errorf("the child with GORACE %q printed:\n%s\nwant GORACE=%s", tc.gorace, out, tc.want)
		}
	}
}
