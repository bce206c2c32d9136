package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel send the child SIGTERM if this program
// dies first, so an interrupted run leaves no servers behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
