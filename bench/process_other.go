//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing where the kernel has no parent-death signal;
// an interrupted run may then leave its servers running.
func dieWithParent(*exec.Cmd) {}
