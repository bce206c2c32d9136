package password

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// lowPriorityThreads reports whether lowerThreadPriority lowers only the
// calling thread: on Linux a thread id names one thread to setpriority.
const lowPriorityThreads = true

// lowerThreadPriority locks the calling goroutine to its OS thread and
// gives that thread the lowest priority (nice 19). A failure (a sandbox
// that forbids the call) leaves the priority as it was: the hash is still
// computed, only at normal priority.
func lowerThreadPriority() {
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}
