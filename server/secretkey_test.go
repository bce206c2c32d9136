package server_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/server"
)

func TestSecretKeyFile(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		cfg     config.Config
		want    []byte
		wantErr string
	}{
		{"the default file is made on first use", config.Config{DataDir: dir, SecretKeyFile: filepath.Join(dir, "made.key")}, nil, ""},
		{"a named file of 32 raw bytes is read", config.Config{SecretKeyFile: write("raw.key", key), SecretKeyShared: true}, key, ""},
		{"a named file of 64 hex digits and a newline is read", config.Config{SecretKeyFile: write("hex.key", []byte(hex.EncodeToString(key)+"\n")), SecretKeyShared: true}, key, ""},
		{"a named file that does not exist is an error with the command that makes it", config.Config{SecretKeyFile: filepath.Join(dir, "missing.key"), SecretKeyShared: true}, nil, "head -c 32 /dev/urandom"},
		{"a file of the wrong size is an error naming its size", config.Config{SecretKeyFile: write("short.key", []byte("0123")), SecretKeyShared: true}, nil, "is 4 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := server.LoadSecretKey(&tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != 32 || tt.want != nil && !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x, %v; want a 32-byte key %x", got, err, tt.want)
			}
			again, _ := server.LoadSecretKey(&tt.cfg)
			if !bytes.Equal(again, got) {
				t.Errorf("a second load gave another key")
			}
		})
	}
}
