//go:build !unix

package signinlog

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockSpool opens dir's lock file; without flock, two processes sharing a
// spool directory are not detected on this platform.
func lockSpool(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}
