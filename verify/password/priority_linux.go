package password

import (
	"golang.org/x/sys/unix"
)

// lowPriorityThreads reports whether lowerThreadPriority lowers only the
// calling thread: on Linux a thread id names one thread to setpriority.
const lowPriorityThreads = true

// lowerThreadPriority gives the calling thread, which the caller has
// locked its goroutine to, the lowest priority (nice 19). A failure (a
// sandbox that forbids the call) leaves the priority as it was: the hash
// is still computed, only at normal priority.
func lowerThreadPriority() {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}

// idleThreadPriority puts the calling thread, which the caller has locked
// its goroutine to, in SCHED_IDLE, the policy of work that runs only when
// no other wants the CPU, or at nice 19 where that is refused. A process
// started from the thread inherits it in all its threads: the hash
// process. (Threads of the gateway's own process stay at nice 19: a
// SCHED_IDLE thread holding a P made every garbage collection wait until
// the kernel ran it again.)
func idleThreadPriority() {
	lowerThreadPriority()
	_ = unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0)
}

// onMainThread reports whether the calling goroutine runs on the process's
// first thread, whose id is the process id.
func onMainThread() bool { return unix.Gettid() == unix.Getpid() }
