package htpasswd_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/htpasswd"
	"github.com/authgate/authgate/passhash"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"
)

// Fixed vectors computed independently with OpenSSL:
//
//	openssl passwd -apr1 -salt 8kX3Q0aA 'open sesame'
//	printf 'open sesame' | openssl sha1 -binary | base64
const (
	apr1OpenSesame = "$apr1$8kX3Q0aA$kA66dqR6GKGF9DOKrrp7T."
	shaOpenSesame  = "{SHA}W8r/fyL/UzygmbNAjq2HbA67qac="
)

// bcryptY returns a $2y$ bcrypt hash, as `htpasswd -B` writes.
func bcryptY(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "$2y$" + string(h[4:])
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAcceptsBcryptSHAAndAPR1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), ".htpasswd")
	b := bcryptY(t, "open sesame")
	write(t, path, "# users for the wiki\n\nAladdin:"+b+"\r\nsha:"+shaOpenSesame+"\napr:"+apr1OpenSesame+":nginx comment\n")
	f, err := htpasswd.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []htpasswd.Entry{{3, "Aladdin", b}, {4, "sha", shaOpenSesame}, {5, "apr", apr1OpenSesame}}
	if diff := cmp.Diff(want, f.Entries()); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	for _, e := range want {
		u, err := f.User(ctx, e.User)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := passhash.Verify(u.PasswordHash, "open sesame"); !ok || err != nil {
			t.Errorf("user %s: Verify = %v, %v", e.User, ok, err)
		}
	}
	if _, err := f.User(ctx, "nobody"); !errors.Is(err, authgate.ErrNotFound) {
		t.Errorf("User(nobody) error = %v, want ErrNotFound", err)
	}
}

func TestParseRejectsBadLinesWithTheirNumbers(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		wantLines []string
	}{
		{"a plain-text password is rejected with its line number",
			"Aladdin:" + shaOpenSesame + "\nbob:open sesame\n", []string{"users:2: "}},
		{"a crypt(3) DES hash is rejected", "carol:rl0uE2d0TEVuA\n", []string{"users:1: "}},
		{"a line without a colon is rejected", "\n\ndave\n", []string{"users:3: "}},
		{"every bad line is reported", "a:x\nb:" + shaOpenSesame + "\nc:y\nb:" + shaOpenSesame + "\n",
			[]string{"users:1: ", "users:3: ", "users:4: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := htpasswd.Parse(strings.NewReader(tt.content), "users")
			if err == nil || entries != nil {
				t.Fatalf("Parse = %v, %v; want an error and no entries", entries, err)
			}
			var got []string
			for _, line := range strings.Split(err.Error(), "\n") {
				prefix, _, _ := strings.Cut(line, " ")
				got = append(got, prefix+" ")
			}
			if diff := cmp.Diff(tt.wantLines, got); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "open sesame") || strings.Contains(err.Error(), "rl0uE2d0TEVuA") {
				t.Errorf("error %q quotes a password or hash", err)
			}
		})
	}
}

func TestReloadPicksUpAChangedFileAndKeepsTheOldOneOnError(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), ".htpasswd")
	write(t, path, "Aladdin:"+shaOpenSesame+"\n")
	f, err := htpasswd.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := f.Reload(); changed || err != nil {
		t.Errorf("Reload of an unchanged file = %v, %v; want false, nil", changed, err)
	}

	write(t, path, "Aladdin:"+shaOpenSesame+"\nbob:"+apr1OpenSesame+"\n")
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if changed, err := f.Reload(); !changed || err != nil {
		t.Fatalf("Reload of a changed file = %v, %v; want true, nil", changed, err)
	}
	if _, err := f.User(ctx, "bob"); err != nil {
		t.Errorf("bob not found after reload: %v", err)
	}

	write(t, path, "carol:plain\n")
	if _, err := f.Reload(); err == nil {
		t.Fatal("Reload of a file with a plain-text password succeeded")
	}
	if _, err := f.User(ctx, "bob"); err != nil {
		t.Errorf("a failed reload dropped the previous contents: %v", err)
	}
}

func TestReloadSeesASameLengthEditWithTheSameModificationTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".htpasswd")
	write(t, path, "Aladdin:"+shaOpenSesame+"\n")
	f, err := htpasswd.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	// The same length, another user name, and the old modification time:
	// what a quick edit looks like on a file system with a coarse clock.
	write(t, path, "Aladdim:"+shaOpenSesame+"\n")
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	if changed, err := f.Reload(); !changed || err != nil {
		t.Fatalf("Reload = %v, %v; want the edit noticed", changed, err)
	}
	if _, err := f.User(context.Background(), "Aladdin"); err == nil {
		t.Errorf("the old user is still there after the edit")
	}
}
