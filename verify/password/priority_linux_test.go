package password

import (
	"context"
	"os"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
)

// threadNice is the nice value of the calling OS thread. The raw
// getpriority system call answers 20 - nice.
func threadNice(t *testing.T) int {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatalf("getpriority: %v", err)
	}
	return 20 - p
}

// threads counts the process's OS threads.
func threads(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// niceOfHashes makes v record the nice value of the thread each of its
// hash computations runs on.
func niceOfHashes(t *testing.T, v *Verifier) func() []int {
	var mu sync.Mutex
	var seen []int
	v.verifyHash = func(encoded, password string) (bool, error) {
		n := threadNice(t)
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
		return passhash.Verify(encoded, password)
	}
	return func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), seen...) }
}

// lockedVerifier returns a verifier with opts that records the nice value
// of each hash's thread (niceOfHashes), after checking how many
// low-priority threads it reports, and the nice value of the test's own
// OS thread, to which the test stays locked.
func lockedVerifier(t *testing.T, opts Options, wantThreads int) (v *Verifier, seen func() []int, callerNice int) {
	t.Helper()
	v = newFixture(t).verifier(opts)
	if got := v.LowPriorityThreads(); got != wantThreads {
		t.Errorf("LowPriorityThreads() = %d, want %d", got, wantThreads)
	}
	seen = niceOfHashes(t, v)
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	return v, seen, threadNice(t)
}

func TestHashesRunOnThreadsOfLowestPriority(t *testing.T) {
	v, seen, callerNice := lockedVerifier(t, Options{DetectSlips: true, MaxConcurrent: 3}, 3) // MaxConcurrent
	before := threads(t)
	ctx := context.Background()
	for range 10 {
		// A right password (hashed once, then cached) and a wrong one with
		// slip detection (several hashes), each hash on a thread of its own.
		if vd, err := v.Verify(ctx, authgate.Credential{Username: "carol", Secret: "carol's password"}); err != nil || vd.Reason != "" {
			t.Fatalf("right password: %v, reason %q", err, vd.Reason)
		}
		if vd, err := v.Verify(ctx, authgate.Credential{Username: "carol", Secret: "wrong"}); err != nil || vd.Reason == "" {
			t.Fatalf("wrong password: %v, reason %q", err, vd.Reason)
		}
	}
	nices := seen()
	if len(nices) < 20 {
		t.Fatalf("%d hashes recorded, want at least 20", len(nices))
	}
	for i, n := range nices {
		if n != 19 {
			t.Fatalf("hash %d ran at nice %d, want 19 (all: %v)", i, n, nices)
		}
	}
	if n := threadNice(t); n != callerNice {
		t.Errorf("the calling thread's nice changed from %d to %d", callerNice, n)
	}
	// Each hash's thread ends with it: the hashes must not leave as many
	// threads behind, nor hand a niced thread to other goroutines.
	if after := threads(t); after > before+4 {
		t.Errorf("threads grew from %d to %d over %d hashes: the hashing threads are not ended", before, after, len(nices))
	}
}

func TestNormalPriorityHashesOnTheCallersPriority(t *testing.T) {
	v, seen, want := lockedVerifier(t, Options{NormalPriority: true, MaxConcurrent: 3}, 0) // none with NormalPriority
	if _, err := v.Verify(context.Background(), authgate.Credential{Username: "carol", Secret: "wrong"}); err != nil {
		t.Fatal(err)
	}
	nices := seen()
	if len(nices) == 0 {
		t.Fatal("no hash recorded")
	}
	for _, n := range nices {
		if n != want {
			t.Fatalf("hash ran at nice %d, want the caller's %d (all: %v)", n, want, nices)
		}
	}
}

// TestHashProcessRunsIdle: the hash process runs in SCHED_IDLE, so the
// kernel gives it only CPU time nothing else wants, and the gateway's own
// threads keep their priority; with NormalPriority it runs as the gateway.
func TestHashProcessRunsIdle(t *testing.T) {
	f := newFixture(t)
	for _, normal := range []bool{false, true} {
		v, _, _ := procVerifier(t, f)
		v.opts.NormalPriority = normal
		if _, err := v.Verify(context.Background(), authgate.Credential{Method: authgate.MethodBasic, Username: "carol", Secret: "x"}); err != nil {
			t.Fatal(err)
		}
		attr, err := unix.SchedGetAttr(v.proc.p.Pid(), 0)
		if err != nil {
			t.Fatal(err)
		}
		want := uint32(unix.SCHED_IDLE)
		if normal {
			want = unix.SCHED_NORMAL
		}
		if attr.Policy != want {
			t.Errorf("NormalPriority %v: the hash process's policy is %d, want %d", normal, attr.Policy, want)
		}
		if n := threadNice(t); n != 0 {
			t.Errorf("the test's own thread now has nice %d", n)
		}
	}
}

// TestTheMainThreadKeepsItsPriority: the runtime keeps the process's
// first thread when a goroutine locked to it ends, and the kernel sends it
// the process's signals first, so hashing never lowers it, wherever the
// scheduler runs the hashing goroutines.
func TestTheMainThreadKeepsItsPriority(t *testing.T) {
	v := New(nil, Options{})
	var wg sync.WaitGroup
	for range 400 {
		wg.Go(func() { v.onThread(idleThreadPriority, func() { runtime.Gosched() }) })
	}
	wg.Wait()
	pid := os.Getpid()
	attr, err := unix.SchedGetAttr(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	nice, err := unix.Getpriority(unix.PRIO_PROCESS, pid)
	if err != nil {
		t.Fatal(err)
	}
	if attr.Policy != unix.SCHED_NORMAL || 20-nice != 0 {
		t.Errorf("the main thread has policy %d and nice %d, want %d and 0", attr.Policy, 20-nice, unix.SCHED_NORMAL)
	}
}
