package password

import (
	"errors"
	"sync"
	"time"

	"github.com/authgate/authgate/internal/hashproc"
)

// procState is a verifier's hash process (Options.Process): started at
// the first check, and again after it failed, at most once per retry.
type procState struct {
	mu     sync.Mutex
	p      *hashproc.Process
	failed time.Time // when it last failed to start or stopped answering
	retry  time.Duration
	wait   time.Duration // the longest a check waits for the process's answer
	closed bool
	warned bool // about a failed start, once
}

// procRetry is how long after a failure checks stay in this process
// before the hash process is started again.
const procRetry = 10 * time.Second

// procWait is how long a check waits for the hash process's answer before
// the process is taken for stopped (killed, and started again later): far
// longer than a hash at the lowest priority on a busy machine, far shorter
// than forever.
const procWait = 30 * time.Second

// hashInProcess computes a check in the hash process, and reports done
// false when it did not: Options.Process is not set, the process cannot
// run now, or it failed this check (which the caller then computes
// itself).
func (v *Verifier) hashInProcess(encoded, password string) (ok bool, err error, done bool) {
	if v.opts.Process == "" {
		return false, nil, false
	}
	p := v.process()
	if p == nil {
		return false, nil, false
	}
	ok, err = p.Verify(encoded, password)
	if errors.Is(err, hashproc.ErrTooLong) {
		return false, nil, false
	}
	if errors.Is(err, hashproc.ErrUnavailable) {
		v.procFailed(p, err)
		return false, nil, false
	}
	return ok, err, true
}

// process returns the running hash process, starting it if need be, or
// nil.
func (v *Verifier) process() *hashproc.Process {
	s := &v.proc
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil || s.closed || !s.failed.IsZero() && time.Since(s.failed) < s.retry {
		return s.p
	}
	var err error
	start := func() { s.p, err = hashproc.Start(v.opts.Process, s.wait) }
	if v.opts.NormalPriority || !lowPriorityThreads {
		start()
	} else {
		v.onThread(idleThreadPriority, start) // the child inherits the thread's priority
	}
	if err != nil {
		s.failed = time.Now()
		if !s.warned {
			s.warned = true
			v.opts.Logger.Warn("password hashes are computed in the gateway's own process: the hash process did not start; trying again every "+s.retry.String(),
				"error", err.Error())
		}
	}
	return s.p
}

// procFailed forgets p after it stopped answering.
func (v *Verifier) procFailed(p *hashproc.Process, err error) {
	s := &v.proc
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != p {
		return
	}
	s.p, s.failed = nil, time.Now()
	if !s.closed {
		v.opts.Logger.Warn("the hash process stopped; password hashes are computed in the gateway's own process until it starts again",
			"error", err.Error(), "retry", s.retry.String())
	}
	go p.Close()
}

// close ends the hash process, if any.
func (s *procState) close() {
	s.mu.Lock()
	p := s.p
	s.p, s.closed = nil, true
	s.mu.Unlock()
	if p != nil {
		p.Close()
	}
}
