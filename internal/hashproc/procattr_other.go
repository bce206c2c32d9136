//go:build !unix

package hashproc

import "os/exec"

func detach(cmd *exec.Cmd) {}
