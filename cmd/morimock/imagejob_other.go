//go:build !linux

package main

// lowerProcess leaves the priority as it is: only Linux's policies are known here.
func lowerProcess() {}
