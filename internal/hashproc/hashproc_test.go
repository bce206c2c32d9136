package hashproc

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/passhash"
)

// cheap are argon2id parameters that keep the tests fast.
var cheap = passhash.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func start(t *testing.T) *Process {
	t.Helper()
	return startWaiting(t, 30*time.Second)
}

func startWaiting(t *testing.T, wait time.Duration) *Process {
	t.Helper()
	exe, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(exe, wait) // this test binary, which imports the package
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestVerifyInTheChild(t *testing.T) {
	p := start(t)
	encoded, err := passhash.Hash("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Verify(encoded, "correct horse"); !ok || err != nil {
		t.Errorf("the right password: %v, %v", ok, err)
	}
	if ok, err := p.Verify(encoded, "Correct horse"); ok || err != nil {
		t.Errorf("a wrong password: %v, %v", ok, err)
	}
	_, want := passhash.Verify("$argon2id$v=19$m=bad", "x")
	if _, err := p.Verify("$argon2id$v=19$m=bad", "x"); err == nil || err.Error() != want.Error() || errors.Is(err, ErrUnavailable) {
		t.Errorf("a damaged hash: %v, want %v", err, want)
	}
	// Bytes that a framing mistake would cut: empty, NUL, long.
	long := strings.Repeat("é\x00", 3000)
	encoded, _ = passhash.Hash(long, cheap)
	if ok, err := p.Verify(encoded, long); !ok || err != nil {
		t.Errorf("a long password with NUL bytes: %v, %v", ok, err)
	}
	if ok, err := p.Verify(encoded, ""); ok || err != nil {
		t.Errorf("an empty password: %v, %v", ok, err)
	}
}

// TestConcurrentChecksGetTheirOwnAnswers sends checks from many goroutines
// at once, half of them right, and checks each answer went to its caller.
func TestConcurrentChecksGetTheirOwnAnswers(t *testing.T) {
	p := start(t)
	encoded, _ := passhash.Hash("pw", cheap)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			guess, want := "pw", true
			if i%2 == 1 {
				guess, want = "no", false
			}
			if ok, err := p.Verify(encoded, guess); ok != want || err != nil {
				t.Errorf("check %d: %v, %v; want %v", i, ok, err, want)
			}
		})
	}
	wg.Wait()
}

func TestAChildThatDiesFailsItsChecks(t *testing.T) {
	p := start(t)
	encoded, _ := passhash.Hash("pw", passhash.Argon2Params{MemoryKiB: 64 << 10, Iterations: 8, Parallelism: 1})
	errs := make(chan error, 1)
	go func() {
		_, err := p.Verify(encoded, "pw") // about a second of hashing
		errs <- err
	}()
	time.Sleep(100 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case err := <-errs:
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("the check in progress: %v, want ErrUnavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the check in progress never returned")
	}
	if _, err := p.Verify(encoded, "pw"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a check after: %v, want ErrUnavailable", err)
	}
}

func TestCloseEndsTheChild(t *testing.T) {
	p := start(t)
	encoded, _ := passhash.Hash("pw", cheap)
	if ok, _ := p.Verify(encoded, "pw"); !ok {
		t.Fatal("no match before Close")
	}
	p.Close()
	if _, err := p.Verify(encoded, "pw"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a check after Close: %v, want ErrUnavailable", err)
	}
	if p.cmd.ProcessState == nil || !p.cmd.ProcessState.Exited() || p.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("the child after Close: %v, want exited with 0", p.cmd.ProcessState)
	}
}

// TestTheChildGetsNoEnvironment: the gateway's environment may hold
// secrets (a DSN, an admin token); the child needs none of it.
func TestTheChildGetsNoEnvironment(t *testing.T) {
	t.Setenv("AUTHGATE_SECRET_FOR_TEST", "s3cret")
	p := start(t)
	env, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Skip("no /proc here to read the child's environment:", err)
	}
	if len(env) != 0 {
		t.Errorf("the child's environment: %q, want empty", env)
	}
}

func TestStartFailsClearly(t *testing.T) {
	_, err := Start("/nonexistent/authgate", time.Second)
	if err == nil || !strings.Contains(err.Error(), "starting the hash process") {
		t.Errorf("Start of a missing file: %v", err)
	}
}

// TestTheChildIgnoresTheTerminal: a Ctrl-C sent to the gateway's process
// group does not reach the child, which the gateway ends itself.
func TestTheChildIgnoresTheTerminal(t *testing.T) {
	p := start(t)
	child, err := syscall.Getpgid(p.Pid())
	if err != nil {
		t.Skip("no process groups here:", err)
	}
	if child == syscall.Getpgrp() {
		t.Errorf("the child is in the gateway's process group %d", child)
	}
}

// TestAStoppedChildIsGivenUp: a child that stops answering without
// exiting (SIGSTOP here; a frozen cgroup, a debugger) fails its checks
// after the wait and is killed, and Close does not wait for it for ever.
func TestAStoppedChildIsGivenUp(t *testing.T) {
	p := startWaiting(t, 300*time.Millisecond)
	encoded, _ := passhash.Hash("pw", cheap)
	if ok, _ := p.Verify(encoded, "pw"); !ok {
		t.Fatal("no match before the stop")
	}
	if err := syscall.Kill(p.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Verify(encoded, "pw"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a check of a stopped child: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the check took %v", d)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Error("the stopped child was not killed")
	}
}

func TestCloseKillsAStoppedChild(t *testing.T) {
	defer func(g time.Duration) { closeGrace = g }(closeGrace)
	closeGrace = 200 * time.Millisecond
	p := start(t)
	if err := syscall.Kill(p.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a stopped child")
	}
}

func TestTooLongIsNotSent(t *testing.T) {
	p := start(t)
	if _, err := p.Verify("x", strings.Repeat("a", maxField+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("a password over %d bytes: %v, want ErrTooLong", maxField, err)
	}
}
