package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/syncbuf"
)

// buildBinary builds the authgate binary once for the end-to-end tests.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "authgate-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "authgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return bin, nil
})

type tryIt struct {
	command string
	status  string
	reason  string
}

// TestQuickstartAsANewUser runs the built binary's quickstart, runs every
// curl command it prints, checks each answers as its comment says, then
// stops the gateway with SIGTERM and expects a clean exit.
func TestQuickstartAsANewUser(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "quickstart", "--listen", "127.0.0.1:0", "--data", data)
	var stderr lockedBuf
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var tries []tryIt
	expect := regexp.MustCompile(`→ (\d{3})(?: ([a-z_]+))?`)
	deadline := time.After(30 * time.Second)
	var comment []string
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("quickstart exited early; stderr:\n%s", stderr.String())
			}
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "# "):
				comment = expect.FindStringSubmatch(l)
			case strings.HasPrefix(l, "curl "):
				if comment == nil {
					t.Fatalf("curl command without an expectation: %s", l)
				}
				tries = append(tries, tryIt{command: l, status: comment[1], reason: comment[2]})
				comment = nil
			case strings.Contains(l, "Stop with Ctrl-C"):
				break read
			}
		case <-deadline:
			t.Fatalf("quickstart printed no instructions within 30 s; stderr:\n%s", stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	if len(tries) != 7 {
		t.Fatalf("quickstart printed %d curl commands, want 3 that work and 4 that fail", len(tries))
	}
	ids := map[string]string{}
	for _, try := range tries {
		status, reason, id := runTry(t, try.command)
		if status != try.status || reason != try.reason {
			t.Errorf("%.60s…\n  answered %s %q, its comment says %s %q", try.command, status, reason, try.status, try.reason)
		}
		ids[reason] = id
	}
	// As the instructions say: explain a refusal from another terminal.
	// Events are written every batch interval (100 ms), so poll, bounded.
	var out []byte
	for try := 0; try < 50; try++ {
		if out, err = exec.Command(bin, "explain", ids["key_rotated"], "--config", filepath.Join(data, "authgate.yaml")).CombinedOutput(); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !strings.Contains(string(out), "refused: key_rotated") || !strings.Contains(string(out), "and replaced by key") {
		t.Errorf("explain %s while the gateway runs: %v\n%s", ids["key_rotated"], err, out)
	}
	if cfg := filepath.Join(data, "authgate.yaml"); func() bool { _, err := os.Stat(cfg); return err != nil }() {
		t.Errorf("quickstart did not write %s", cfg)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("quickstart did not stop within 15 s of SIGTERM")
	}
	log := stderr.String()
	for _, want := range []string{"reason=password_previous", "reason=key_rotated", "reason=token_expired", "authgate stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// runTry executes a printed curl command with curl when it is installed,
// and otherwise sends the same request with Go; it returns the status, the
// X-Authgate-Reason header and the request id.
func runTry(t *testing.T, command string) (status, reason, id string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command("bash", "-c", command+` -sS -o /dev/null -w '%{http_code} %header{x-request-id} %header{x-authgate-reason}'`).Output()
		if err != nil {
			t.Fatalf("%s: %v", command, err)
		}
		f := strings.Fields(string(out))
		for len(f) < 3 {
			f = append(f, "")
		}
		return f[0], f[2], f[1]
	}
	t.Logf("curl is not installed; sending the request with Go")
	args := regexp.MustCompile(`'([^']*)'|(\S+)`).FindAllStringSubmatch(command, -1)
	req, _ := http.NewRequest("GET", args[len(args)-1][2], nil)
	for i := 1; i < len(args)-1; i++ {
		switch args[i][2] {
		case "-u":
			u, p, _ := strings.Cut(args[i+1][1], ":")
			req.SetBasicAuth(u, p)
		case "-H":
			k, v, _ := strings.Cut(args[i+1][1], ": ")
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Status[:3], resp.Header.Get("X-Authgate-Reason"), resp.Header.Get("X-Request-Id")
}

// lockedBuf is a log sink the gateway's goroutines may share.
type lockedBuf = syncbuf.Buffer
