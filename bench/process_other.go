//go:build !linux

package main

import (
	"errors"
	"os/exec"
	"time"
)

// dieWithParent does nothing where the kernel has no parent-death signal;
// an interrupted run may then leave its servers running.
func dieWithParent(*exec.Cmd) {}

// processCPU is known only on Linux; rows elsewhere show no CPU figure.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("a process's CPU time is read from /proc, on Linux only")
}
