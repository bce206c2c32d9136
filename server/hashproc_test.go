package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/hashproc"
)

// hashChildren returns the pids of this process's hash processes.
func hashChildren(t *testing.T) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(st), "cmdline"))
		if strings.Contains(string(cmdline), hashproc.Arg) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// A gateway checks passwords in a hash process, started at the first
// check and ended at shutdown, unless passwords.hash_process says false.
func TestPasswordsAreHashedInAChildProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here to find the gateway's child processes:", err)
	}
	for _, on := range []bool{true, false} {
		h := newHarnessEdited(t, func(cfg string) string {
			if on {
				return cfg
			}
			return strings.Replace(cfg, "passwords:\n", "passwords:\n  hash_process: false\n", 1)
		})
		before := len(hashChildren(t))
		h.addUser("hp", "hp password")
		for pw, want := range map[string]int{"hp password": http.StatusOK, "not it": http.StatusUnauthorized} {
			if resp, _ := h.do(http.MethodGet, "/v/x", basic("hp", pw)); resp.StatusCode != want {
				t.Fatalf("hash_process %v, %q: status %d, want %d", on, pw, resp.StatusCode, want)
			}
		}
		running := len(hashChildren(t)) - before
		if want := map[bool]int{true: 1, false: 0}[on]; running != want {
			t.Errorf("hash_process %v: %d hash processes running, want %d", on, running, want)
		}
		if err := h.srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(hashChildren(t)) > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(hashChildren(t)) - before; n != 0 {
			t.Errorf("hash_process %v: %d hash processes still running after shutdown", on, n)
		}
	}
}
