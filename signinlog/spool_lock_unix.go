//go:build unix

package signinlog

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockSpool takes an exclusive lock on dir so that two processes never
// append to or replay the same spool. The kernel releases it when the
// process dies, so a kill -9 leaves no stale lock behind.
func lockSpool(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("spool %s is in use by another process: %w", dir, err)
	}
	return f, nil
}
