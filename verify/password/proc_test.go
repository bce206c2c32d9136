package password

import (
	"context"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/hashproc"
	"github.com/google/go-cmp/cmp"
)

// procVerifier returns a verifier of f that hashes in a child process (this
// test binary, which imports hashproc), counting the checks computed in
// this process instead, and the log it writes.
func procVerifier(t *testing.T, f fixture) (*Verifier, *syncBuffer, func() int64) {
	t.Helper()
	exe, err := hashproc.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	v := f.verifier(Options{DetectSlips: true, Process: exe, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	t.Cleanup(v.Close)
	n := countHashes(v)
	return v, &log, n.Load
}

// TestHashProcessDecidesAlike: the same attempts get the same verdicts
// whether the hashes are checked in a child process or here, and with a
// process none is checked here.
func TestHashProcessDecidesAlike(t *testing.T) {
	f := newFixture(t)
	v, _, here := procVerifier(t, f)
	plain := f.verifier(Options{DetectSlips: true})
	attempts := []authgate.Credential{
		{Username: "Aladdin", Secret: "open sesame"},
		{Username: "Aladdin", Secret: "camel"},        // the previous password
		{Username: "Aladdin", Secret: " open sesame"}, // whitespace
		{Username: "Aladdin", Secret: "OPEN SESAME"},  // Caps Lock
		{Username: "Aladdin", Secret: "wrong"},
		{Username: "nobody", Secret: "wrong"},
	}
	for _, c := range attempts {
		c.Method = authgate.MethodBasic
		got, err := v.Verify(context.Background(), c)
		if err != nil {
			t.Fatalf("%s/%q: %v", c.Username, c.Secret, err)
		}
		want, err := plain.Verify(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(outcomeOf(want), outcomeOf(got)); diff != "" {
			t.Errorf("%s/%q: with a hash process (+), without (-):\n%s", c.Username, c.Secret, diff)
		}
	}
	if n := here(); n != 0 {
		t.Errorf("%d hashes were checked in the gateway's process, want 0", n)
	}
}

// TestHashProcessFailureFallsBack: when the child dies, checks go on in
// this process, a line says so, and a new child starts after the retry
// interval.
func TestHashProcessFailureFallsBack(t *testing.T) {
	f := newFixture(t)
	v, log, here := procVerifier(t, f)
	v.proc.retry = 100 * time.Millisecond
	check := func(pw string, want bool) { t.Helper(); checkCarol(t, v, pw, want) }
	check("wrong 1", false)
	first := v.proc.p
	if first == nil || here() != 0 {
		t.Fatalf("no hash process after a check (process %v, %d hashes here)", first, here())
	}
	if err := syscall.Kill(first.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	check("wrong 2", false) // the child is dead: checked here
	if here() == 0 {
		t.Error("no hash was checked here after the child died")
	}
	if !strings.Contains(log.String(), "the hash process stopped") {
		t.Errorf("the log does not say the hash process stopped:\n%s", log)
	}
	time.Sleep(150 * time.Millisecond)
	before := here()
	check("carol's password", true)
	if v.proc.p == nil || v.proc.p == first || here() != before {
		t.Errorf("no new hash process after the retry interval (%d hashes here since)", here()-before)
	}
	if strings.Contains(log.String(), "carol's password") || strings.Contains(log.String(), "wrong 2") {
		t.Errorf("a password reached the log:\n%s", log)
	}
}

// TestHashProcessThatCannotStart: checks run here, and the log says why,
// once.
func TestHashProcessThatCannotStart(t *testing.T) {
	f := newFixture(t)
	var log syncBuffer
	v := f.verifier(Options{Process: "/nonexistent/authgate", Logger: slog.New(slog.NewTextHandler(&log, nil))})
	t.Cleanup(v.Close)
	v.proc.retry = 0
	for range 3 {
		vd, err := v.Verify(context.Background(), authgate.Credential{Method: authgate.MethodBasic, Username: "carol", Secret: "carol's password"})
		if err != nil || !(vd.Reason == "") {
			t.Fatalf("carol: allowed %v, %v", (vd.Reason == ""), err)
		}
		v.cache = newCache([]byte("k"), defaultCacheSize) // hash every time
	}
	if got := strings.Count(log.String(), "the hash process did not start"); got != 1 {
		t.Errorf("the log says %d times that the hash process did not start, want 1:\n%s", got, log.String())
	}
}

// TestAStoppedHashProcessFallsBack: a child that stops answering without
// exiting is given up after the wait, and the check is answered here.
func TestAStoppedHashProcessFallsBack(t *testing.T) {
	f := newFixture(t)
	v, log, here := procVerifier(t, f)
	v.proc.wait = 300 * time.Millisecond
	check := func(pw string, want bool) { t.Helper(); checkCarol(t, v, pw, want) }
	check("wrong 1", false)
	if err := syscall.Kill(v.proc.p.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	check("carol's password", true)
	if here() == 0 || !strings.Contains(log.String(), "no answer within 300ms") {
		t.Errorf("after the stop: %d hashes here, log:\n%s", here(), log.String())
	}
}

// checkCarol checks carol's password pw with v and fails t unless it is
// allowed exactly when want says.
func checkCarol(t *testing.T, v *Verifier, pw string, want bool) {
	t.Helper()
	vd, err := v.Verify(context.Background(), authgate.Credential{Method: authgate.MethodBasic, Username: "carol", Secret: pw})
	if err != nil || (vd.Reason == "") != want {
		t.Fatalf("carol/%q: reason %q, %v; want allowed %v", pw, vd.Reason, err, want)
	}
}
