//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing where there is no Pdeathsig: the load test stops the
// server it started when it ends, but a killed load test leaves it running.
func dieWithParent(cmd *exec.Cmd) {}
