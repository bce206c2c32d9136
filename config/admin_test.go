package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminTokenFromAFileMustBeLongEnough(t *testing.T) {
	dir := t.TempDir()
	routes := "routes:\n  - {name: app, upstream: \"http://127.0.0.1:9\", accept: [basic]}\n"
	for token, ok := range map[string]bool{"abc\n": false, strings.Repeat("x", 16) + "\n": true} {
		os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o600)
		cfg, err := Parse(filepath.Join(dir, "authgate.yaml"), []byte("admin:\n  listen: 127.0.0.1:9090\n  token_file: token\n"+routes))
		var es Errors
		switch {
		case ok && err != nil:
			t.Errorf("a 16-character token file was refused: %v", err)
		case ok && cfg.Admin.Token != strings.TrimSpace(token):
			t.Errorf("token %q, want the file's content", cfg.Admin.Token)
		case !ok && (!errors.As(err, &es) || !strings.Contains(err.Error(), "too short")):
			t.Errorf("a 3-character token file: %v", err)
		case !ok && strings.Contains(err.Error(), "abc"):
			t.Errorf("the error shows the token: %v", err)
		}
	}
}
