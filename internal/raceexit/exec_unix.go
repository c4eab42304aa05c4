//go:build unix

package raceexit

import (
	"os"
	"syscall"
)

// reexec replaces the process with the same binary, arguments and environment plus
// GORACE=gorace. It returns only if that fails, and then the tests run as they are.
func reexec(gorace string) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, append(os.Environ(), "GORACE="+gorace))
}
