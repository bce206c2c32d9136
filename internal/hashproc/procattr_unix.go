//go:build unix

package hashproc

import (
	"os/exec"
	"syscall"
)

// detach puts the child in a process group of its own, so that a Ctrl-C
// in the gateway's terminal reaches the gateway only: the gateway ends the
// child when it shuts down, and the child ends when its input closes
// (also when the gateway is killed).
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
