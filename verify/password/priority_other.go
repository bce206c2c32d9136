//go:build !linux

package password

// lowPriorityThreads is false where setpriority cannot name one thread:
// lowering the priority there would lower the whole process.
const lowPriorityThreads = false

func lowerThreadPriority() {}

func idleThreadPriority() {}

func onMainThread() bool { return false }
