package password

import "runtime"

// hashFunc computes or checks a password hash: passhash.Verify.
type hashFunc func(encoded, password string) (bool, error)

// hashResult is what a hashFunc returned.
type hashResult struct {
	ok  bool
	err error
}

// hash computes v.verifyHash, on a thread of the lowest priority unless
// Options.NormalPriority says otherwise or the platform has none
// (lowPriorityThreads).
//
// A password hash keeps a core busy for tens of milliseconds. Computed at
// normal priority, a burst of wrong passwords takes that core from every
// other request: on a 2-core machine a single hashing slot is half the
// machine. At the lowest priority the kernel runs a hash only on CPU time
// nothing else wants, so cheap requests (API keys, tokens, sessions) keep
// their latency and the hashes slow down instead; an attempt that waits
// too long for a slot is answered password_check_busy as before. The Go
// runtime still counts the hashing goroutine as running, so a process that
// hashes this way needs a P per hashing slot beyond its usual GOMAXPROCS
// (authgate serve adds them), or the hashes take Ps from the requests.
func (v *Verifier) hash(encoded, password string) (bool, error) {
	if ok, err, done := v.hashInProcess(encoded, password); done {
		return ok, err
	}
	var r hashResult
	v.onHashThread(func() { r.ok, r.err = v.verifyHash(encoded, password) })
	return r.ok, r.err
}

// onHashThread runs fn, a hash computation, on a thread of its own at the
// lowest priority (see hash), and returns when it has.
func (v *Verifier) onHashThread(fn func()) {
	if v.opts.NormalPriority || !lowPriorityThreads {
		fn()
		return
	}
	v.onThread(lowerThreadPriority, fn)
}

// onThread runs fn on a new thread whose priority lower has lowered, and
// returns when it has.
func (v *Verifier) onThread(lower, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if onMainThread() {
			// The runtime keeps the process's first thread when a
			// goroutine locked to it ends, and the kernel sends it the
			// process's signals (SIGTERM) first: never lower it. Holding
			// it, run fn on another goroutine, which lands elsewhere.
			v.onThread(lower, fn)
			runtime.UnlockOSThread()
			return
		}
		// The thread is never unlocked: when the goroutine ends, the
		// runtime ends the thread with it, so no other goroutine ever runs
		// at this priority (which an unprivileged process cannot raise
		// again). A new thread costs tens of microseconds; a hash, tens of
		// milliseconds.
		lower()
		fn()
	}()
	<-done
}
